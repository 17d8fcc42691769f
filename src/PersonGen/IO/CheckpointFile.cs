using static TorchSharp.torch;

namespace PersonGen.IO;

/// <summary>Loads a checkpoint by its extension: <c>.safetensors</c>, or a PyTorch pickle (<c>.bin</c>, <c>.pt</c>, <c>.pth</c>, <c>.ckpt</c>).</summary>
public static class CheckpointFile
{
    private static readonly string[] PickleExtensions = [".bin", ".pt", ".pth", ".ckpt"];

    /// <summary>True for extensions <see cref="Load"/> understands.</summary>
    public static bool IsCheckpointPath(string path) => IsSafetensors(path) || IsPickle(path);

    public static bool IsSafetensors(string path) =>
        string.Equals(Path.GetExtension(path), ".safetensors", StringComparison.OrdinalIgnoreCase);

    public static bool IsPickle(string path) =>
        PickleExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Reads every tensor of a checkpoint; <paramref name="dtype"/> converts floating-point tensors only.
    /// The caller owns (disposes) the tensors.
    /// </summary>
    /// <exception cref="InvalidCheckpointException">Unknown extension, missing or malformed file.</exception>
    public static Dictionary<string, Tensor> Load(string path, ScalarType? dtype = null, Device? device = null)
    {
        if (IsSafetensors(path)) return SafetensorsFile.Load(path, dtype, device);
        if (IsPickle(path)) return PickleCheckpoint.Load(path, dtype, device);
        throw new InvalidCheckpointException(path,
            "unknown checkpoint extension; use .safetensors, or a PyTorch state dict saved as .bin, .pt, .pth or .ckpt");
    }
}
