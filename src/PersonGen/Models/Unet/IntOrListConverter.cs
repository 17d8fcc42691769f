using System.Text.Json;
using System.Text.Json.Serialization;

namespace PersonGen.Models.Unet;

/// <summary>Reads a diffusers config value that may be one int (applies to every block) or a list of ints.</summary>
internal sealed class IntOrListConverter : JsonConverter<IReadOnlyList<int>>
{
    public override IReadOnlyList<int> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number) return [reader.GetInt32()];
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("expected an int or a list of ints");
        var values = new List<int>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number) throw new JsonException("expected an int or a list of ints");
            values.Add(reader.GetInt32());
        }
        return values;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<int> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (int item in value) writer.WriteNumberValue(item);
        writer.WriteEndArray();
    }
}
