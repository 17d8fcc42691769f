using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PersonGen.Models;

/// <summary>Creates GroupNorm layers with PyTorch's initial values.</summary>
public static class GroupNorms
{
    /// <summary>
    /// <c>torch.nn.GroupNorm</c> with weight 1 and bias 0: TorchSharp 0.107's GroupNorm leaves both uninitialised
    /// (whatever the allocator held), which only a loaded checkpoint would hide.
    /// </summary>
    public static GroupNorm Create(int groups, int channels, double eps, Device? device, ScalarType? dtype)
    {
        var norm = nn.GroupNorm(groups, channels, eps, affine: true, device: device, dtype: dtype);
        using (no_grad())
        {
            norm.weight!.fill_(1.0);
            norm.bias!.zero_();
        }
        return norm;
    }
}
