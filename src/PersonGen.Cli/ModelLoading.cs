using PersonGen.Diffusion;
using PersonGen.IO;
using PersonGen.Runtime;
using PersonGen.Training;

namespace PersonGen.Cli;

/// <summary>Loads a base model and, when given, applies a concept checkpoint to it (ours or the reference's SVDiff folders).</summary>
internal static class ModelLoading
{
    /// <summary>The placeholder token a concept file says it was trained with (null when it does not say, e.g. a reference folder).</summary>
    public static string? TrainedToken(string concept)
    {
        if (Directory.Exists(concept) || CheckpointFile.IsPickle(concept) || !File.Exists(concept)) return null;
        using var file = SafetensorsFile.Open(concept);
        return file.Metadata.GetValueOrDefault(ConceptCheckpoint.TokenKey);
    }

    public static StableDiffusionModel Load(string model, string? concept, ComputeOptions compute, IProgress<ProgressUpdate>? progress = null)
    {
        progress?.Report(new ProgressUpdate("loading model", 0, concept is null ? 1 : 2));
        var loaded = StableDiffusionModel.Load(model, compute);
        if (concept is null) return loaded;
        try
        {
            progress?.Report(new ProgressUpdate("loading model", 1, 2));
            using var checkpoint = ConceptCheckpoint.Load(concept);
            loaded.Concept = checkpoint.ApplyTo(new ConceptModel(loaded.Unet, loaded.TextEncoder, new TokenizerVocabulary(loaded.Tokenizer)));
            progress?.Report(new ProgressUpdate("loading model", 2, 2));
            return loaded;
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }
}
