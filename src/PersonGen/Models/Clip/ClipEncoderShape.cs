namespace PersonGen.Models.Clip;

/// <summary>The sizes a CLIP transformer encoder is built from; text and vision towers share them.</summary>
internal sealed record ClipEncoderShape(int HiddenSize, int IntermediateSize, int Layers, int Heads, ClipActivation Activation, double LayerNormEps)
{
    public static void Validate(string source, int hidden, int intermediate, int layers, int heads)
    {
        if (hidden <= 0 || intermediate <= 0 || layers <= 0 || heads <= 0)
            throw new ModelLoadException($"{source}: hidden_size, intermediate_size, num_hidden_layers and num_attention_heads must be positive");
        if (hidden % heads != 0)
            throw new ModelLoadException($"{source}: hidden_size = {hidden} is not divisible by num_attention_heads = {heads}");
    }
}
