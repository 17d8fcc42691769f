using System.Runtime.InteropServices;
using SkiaSharp;
using static TorchSharp.torch;

namespace PersonGen.World;

/// <summary>Converts between world bitmaps and float32 NCHW tensors in [-1, 1].</summary>
public static class ShapesTensors
{
    /// <summary>Stacks same-sized bitmaps into a float32 tensor of shape [N, 3, H, W] with values in [-1, 1].</summary>
    /// <exception cref="InvalidInputException">The list is empty or the bitmaps differ in size.</exception>
    public static Tensor ToTensor(IReadOnlyList<SKBitmap> images)
    {
        if (images.Count == 0) throw new InvalidInputException("no images to convert: pass at least one bitmap");
        int h = images[0].Height, w = images[0].Width;
        var data = new float[images.Count * 3 * h * w];
        for (int n = 0; n < images.Count; n++)
        {
            if (images[n].Width != w || images[n].Height != h)
                throw new InvalidInputException($"image {n} is {images[n].Width}x{images[n].Height}, expected {w}x{h}: render all images at one size");
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    SKColor p = images[n].GetPixel(x, y);
                    int at = n * 3 * h * w + y * w + x;
                    data[at] = p.Red / 127.5f - 1f;
                    data[at + h * w] = p.Green / 127.5f - 1f;
                    data[at + 2 * h * w] = p.Blue / 127.5f - 1f;
                }
            }
        }
        return tensor(data, [images.Count, 3, h, w], ScalarType.Float32);
    }

    /// <summary>Converts a [N, 3, H, W] tensor in [-1, 1] (clamped, rounded) into N opaque bitmaps; the caller owns them.</summary>
    /// <exception cref="InvalidInputException">The tensor is not 4-D with 3 channels.</exception>
    public static IReadOnlyList<SKBitmap> ToBitmaps(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != 3)
            throw new InvalidInputException($"images tensor has shape [{string.Join(",", images.shape)}], expected [N,3,H,W]");
        using var scope = NewDisposeScope();
        int n = (int)images.shape[0], h = (int)images.shape[2], w = (int)images.shape[3];
        var bytes = ((images.detach().cpu().to(ScalarType.Float32) + 1f) * 127.5f).round().clamp(0, 255)
            .to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous();
        byte[] rgb = bytes.data<byte>().ToArray();
        var result = new List<SKBitmap>(n);
        for (int i = 0; i < n; i++)
        {
            var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque));
            var rgba = new byte[bitmap.RowBytes * h];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int from = ((i * h + y) * w + x) * 3, to = y * bitmap.RowBytes + x * 4;
                    rgba[to] = rgb[from];
                    rgba[to + 1] = rgb[from + 1];
                    rgba[to + 2] = rgb[from + 2];
                    rgba[to + 3] = 255;
                }
            Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
            result.Add(bitmap);
        }
        return result;
    }
}
