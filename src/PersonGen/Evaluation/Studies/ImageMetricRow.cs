namespace PersonGen.Evaluation.Studies;

/// <summary>
/// One image of the per-image metric table with its value of each study metric (<see cref="Values"/>, by metric
/// name); (<see cref="JobKey"/>, <see cref="ImageIndex"/>) is unique.
/// </summary>
public sealed record ImageMetricRow(
    string JobKey,
    int ImageIndex,
    string Strategy,
    string Family,
    string Concept,
    string Prompt,
    int Seed,
    IReadOnlyDictionary<string, double> Values,
    double RowsPerImage,
    string ImagePath)
{
    // Equal rows hold equal metric values, whatever dictionary instance carries them.
    public bool Equals(ImageMetricRow? other) =>
        other is not null && JobKey == other.JobKey && ImageIndex == other.ImageIndex && Strategy == other.Strategy && Family == other.Family
        && Concept == other.Concept && Prompt == other.Prompt && Seed == other.Seed && RowsPerImage.Equals(other.RowsPerImage)
        && ImagePath == other.ImagePath && Values.Count == other.Values.Count
        && Values.All(v => other.Values.TryGetValue(v.Key, out double value) && v.Value.Equals(value));

    public override int GetHashCode() => HashCode.Combine(JobKey, ImageIndex, Values.Count);
}
