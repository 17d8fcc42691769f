namespace PersonGen.Runtime;

/// <summary>
/// A progress report from a long library operation (sent through <see cref="IProgress{T}"/>; the library never
/// writes to the console). <paramref name="Total"/> is 0 when unknown.
/// </summary>
/// <param name="Stage">Short description of the current stage, e.g. "denoising" or "loading unet".</param>
/// <param name="Completed">Units done so far in this stage.</param>
/// <param name="Total">Units in this stage.</param>
public sealed record ProgressUpdate(string Stage, long Completed, long Total);
