namespace PersonGen.Evaluation.Studies;

/// <summary>Progress of a study run: <see cref="Done"/> of <see cref="Total"/> jobs of this shard, the last one finished.</summary>
public sealed record StudyProgress(int Done, int Total, string LastJobKey);
