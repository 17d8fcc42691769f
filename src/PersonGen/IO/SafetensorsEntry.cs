namespace PersonGen.IO;

/// <summary>
/// One tensor's header entry in a safetensors file: dtype string (e.g. <c>F32</c>), shape, and the byte range
/// [<see cref="Begin"/>, <see cref="End"/>) relative to the start of the data section.
/// </summary>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End)
{
    /// <summary>Number of data bytes the tensor occupies.</summary>
    public long ByteLength => End - Begin;
}
