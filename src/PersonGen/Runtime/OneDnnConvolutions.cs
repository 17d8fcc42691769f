using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace PersonGen.Runtime;

/// <summary>
/// libtorch's global switch for oneDNN (mkldnn) CPU convolutions (<c>torch.backends.mkldnn.enabled</c>, which
/// TorchSharp does not expose). With libtorch-cpu 2.10 on this stack, oneDNN's float32 convolution backward
/// (and conv_transpose2d) returns wrong values and NaNs from uninitialised memory, while the forward pass is right;
/// the native im2col path is exact. The library turns oneDNN convolutions off once, when it loads, so every
/// forward and backward pass in the process takes the same path (a switch flipped mid-run would make outputs
/// computed before and after it differ in the last bits).
/// </summary>
public static class OneDnnConvolutions
{
    private const string Library = "libtorch_cpu";

    [DllImport(Library, EntryPoint = "_ZN2at13globalContextEv")]
    private static extern IntPtr GlobalContext();

    [DllImport(Library, EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport(Library, EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static extern void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport(Library, EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static extern bool UserEnabledMkldnn(IntPtr context);

    /// <summary>Whether libtorch may use oneDNN for CPU convolutions; null when the switch cannot be reached (another libtorch build).</summary>
    public static bool? Enabled
    {
        get
        {
            try { return UserEnabledMkldnn(GlobalContext()); }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return null; }
        }
        set
        {
            if (value is not { } enabled) return;
            try { SetUserEnabledMkldnn(GlobalContext(), enabled); }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        }
    }

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "A process-wide libtorch switch must be set before the first convolution runs.")]
    internal static void DisableWhenLoaded()
    {
        _ = torch.get_num_threads(); // loads libtorch through TorchSharp first
        Enabled = false;
        // Without oneDNN, libtorch tries NNPACK, which cannot start on CPUs it does not know and then logs a warning on every convolution.
        try { SetUserEnabledNnpack(GlobalContext(), false); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }
}
