using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace PersonGen.Evaluation.Studies;

/// <summary>
/// The identity of a study's output: a SHA-256 over its canonical content (expanded strategies, concepts with their
/// checkpoints' and reference images' bytes, distinct prompts and seeds, images per prompt, steps, metric names, and the base model folder's bytes), so
/// results are never reused for a study that would generate different images. Formatting, comments, key order and
/// file locations do not change it.
/// </summary>
public static class StudyFingerprint
{
    /// <summary>The first 16 hex digits of the hash.</summary>
    /// <exception cref="InvalidInputException">A concept's checkpoint or reference images do not exist.</exception>
    public static string Of(StudyDefinition study)
    {
        var canonical = new
        {
            base_model = Directory.Exists(study.BaseModel) || File.Exists(study.BaseModel) ? "sha256:" + ContentHash(study.BaseModel) : "id:" + study.BaseModel,
            concepts = study.Concepts.Select(c => new
            {
                name = c.Name,
                method = c.Method,
                token = c.Token,
                @class = c.ClassWord,
                checkpoint = c.Checkpoint is { } path ? ContentHash(Existing(c, path, "checkpoint")) : null,
                reference_images = c.ReferenceImages is { } references ? ContentHash(Existing(c, references, "reference_images")) : null,
            }),
            prompts = study.Prompts.Distinct(StringComparer.Ordinal),
            seeds = study.Seeds.Distinct(),
            images_per_prompt = study.ImagesPerPrompt,
            steps = study.Steps,
            strategies = study.ExpandedStrategies(),
            scheduler = study.SchedulerSettings().ToString(),
            metrics = study.Metrics,
        };
        return Hex(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(canonical)))[..16];
    }

    private static string Existing(StudyConcept concept, string path, string key) =>
        File.Exists(path) || Directory.Exists(path) ? path
            : throw new InvalidInputException($"study concept '{concept.Name}': {key} '{path}' not found: fix \"{key}\" (a relative path is relative to the study file)");

    // A folder hashes its files' relative names and contents in ordinal order.
    private static string ContentHash(string path)
    {
        if (File.Exists(path))
        {
            using var stream = File.OpenRead(path);
            return Hex(SHA256.HashData(stream));
        }
        var text = new StringBuilder();
        foreach (string file in Directory.GetFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            text.Append(Path.GetRelativePath(path, file).Replace('\\', '/')).Append('\0').Append(ContentHash(file)).Append('\n');
        return Hex(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
