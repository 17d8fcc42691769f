using PersonGen.IO;
using PersonGen.Tests.Support;
using PersonGen.Training;
using PersonGen.Training.Methods;
using static TorchSharp.torch;

namespace PersonGen.Tests.Training;

public sealed class SvdiffGoldenTests
{
    public static TheoryData<string> Layers => new()
    {
        "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k",
        "unet.down_blocks.1.resnets.0.conv1",
        "unet.down_blocks.1.resnets.0.norm1",
        "text_encoder.text_model.encoder.layers.0.self_attn.q_proj",
        "text_encoder.text_model.encoder.layers.0.layer_norm1",
        "text_encoder.text_model.embeddings.position_embedding",
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void Fused_weights_and_singular_values_match_the_reference_layer(string layer)
    {
        using var io = SafetensorsFile.Open(TestPaths.Golden("svdiff", "io.safetensors"));
        using var weight = io.Read($"layer.{layer}.weight_orig");
        using var delta = io.Read($"layer.{layer}.delta");
        using var expected = io.Read($"layer.{layer}.weight_fused");
        using var singular = io.Read($"layer.{layer}.S");
        bool isNorm = layer.Split('.')[^1].Contains("norm");
        using var fused = SvdiffDelta.FusedWeight(weight, delta, isNorm);
        Assert.Equal(expected.shape, fused.shape);
        Assert.True((fused - expected).abs().max().item<float>() <= 1e-5f, $"{layer}: fused weight differs");
        using var matrix = isNorm ? weight.reshape(1, -1) : weight.reshape(weight.shape[0], -1);
        using var ours = linalg.svdvals(matrix);
        Assert.True((ours - singular).abs().max().item<float>() <= 1e-5f, $"{layer}: singular values differ");
    }

    [Fact]
    public void The_reference_checkpoint_folder_loads_and_equals_the_safetensors_deltas()
    {
        using var checkpoint = ConceptCheckpoint.Load(TestPaths.Golden("svdiff", "checkpoint-0"));
        Assert.Equal("svdiff", checkpoint.Method);
        var unet = SafetensorsFile.Load(TestPaths.Golden("svdiff", "deltas_unet.safetensors"));
        var textEncoder = SafetensorsFile.Load(TestPaths.Golden("svdiff", "deltas_text_encoder.safetensors"));
        Assert.Equal(390, unet.Count);
        Assert.Equal(19, textEncoder.Count);
        Assert.Equal(unet.Count + textEncoder.Count, checkpoint.Tensors.Count);
        foreach (var (prefix, tensors) in new[] { ("unet", unet), ("text_encoder", textEncoder) })
        {
            foreach (var (name, expected) in tensors)
            {
                var actual = checkpoint.Tensors[$"{prefix}.{name}"];
                Assert.Equal(expected.shape, actual.shape);
                Assert.Equal(0.0f, (actual - expected).abs().max().item<float>());
            }
        }
    }
}
