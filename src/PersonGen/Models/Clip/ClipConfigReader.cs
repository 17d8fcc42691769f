using System.Text.Json;

namespace PersonGen.Models.Clip;

/// <summary>Binds a component folder's <c>config.json</c> to a config record, with one-line errors.</summary>
internal static class ClipConfigReader
{
    public static T Read<T>(string componentDir) where T : class
    {
        string path = Path.Combine(componentDir, "config.json");
        if (!File.Exists(path)) throw new ModelLoadException($"{path}: missing; a CLIP component folder needs its config.json");
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path)) ?? throw new JsonException("the file holds null");
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"{path}: cannot read as {typeof(T).Name} ({e.Message}); fix the field it names", e);
        }
    }
}
