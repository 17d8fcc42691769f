namespace PersonGen.Evaluation.Studies;

/// <summary>What one run did: jobs of the shard, jobs run now, jobs skipped as already finished, and the results file.</summary>
public sealed record StudyRunResult(int ShardJobs, int Ran, int Skipped, string ResultsPath);
