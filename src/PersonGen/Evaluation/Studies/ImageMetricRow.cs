namespace PersonGen.Evaluation.Studies;

/// <summary>One row of the per-image metric table; (<see cref="JobKey"/>, <see cref="ImageIndex"/>) is unique.</summary>
public sealed record ImageMetricRow(
    string JobKey,
    int ImageIndex,
    string Strategy,
    string Family,
    string Concept,
    string Prompt,
    int Seed,
    double Identity,
    double Context,
    double RowsPerImage,
    string ImagePath);
