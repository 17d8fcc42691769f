using PersonGen.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Tests.Runtime;

public class ComputeOptionsTests
{
    [Theory]
    [InlineData("cpu", "fp32", ScalarType.Float32)]
    [InlineData("CPU", "fp16", ScalarType.Float16)]
    [InlineData("cpu", "bf16", ScalarType.BFloat16)]
    public void Names_parse_to_torch_devices_and_dtypes(string device, string dtype, ScalarType expected)
    {
        var options = ComputeOptions.Parse(device, dtype, () => false);
        Assert.Equal(DeviceType.CPU, options.Device.type);
        Assert.Equal(expected, options.DType);
    }

    [Fact]
    public void Auto_falls_back_to_the_cpu_without_cuda()
    {
        Assert.Equal(DeviceType.CPU, ComputeOptions.Parse("auto", "fp32", () => false).Device.type);
    }

    [Fact]
    public void Cuda_without_a_gpu_is_a_clear_error()
    {
        var error = Assert.Throws<InvalidInputException>(() => ComputeOptions.Parse("cuda", "fp32", () => false));
        Assert.Contains("`device` cpu", error.Message);
    }

    [Theory]
    [InlineData("tpu", "fp32", "unknown device 'tpu'")]
    [InlineData("cpu", "int8", "unknown dtype 'int8'")]
    public void Unknown_names_are_clear_errors(string device, string dtype, string expected)
    {
        Assert.Contains(expected, Assert.Throws<InvalidInputException>(() => ComputeOptions.Parse(device, dtype, () => false)).Message);
    }
}
