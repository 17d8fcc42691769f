using System.Runtime.InteropServices;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.IO;

/// <summary>
/// Image files and tensors: load JPEG/PNG/WebP upright (EXIF orientation applied), resize and center crop,
/// convert to and from NCHW float32 tensors, save PNG with the generation settings in a <c>parameters</c> text chunk.
/// Bitmaps are RGBA8888; colour values are taken as stored (no ICC conversion), as PIL does.
/// </summary>
public static class ImageIO
{
    /// <summary>Text-chunk key that holds the generation settings, as other diffusion UIs write it.</summary>
    public const string ParametersKey = "parameters";

    /// <summary>Decodes an image file, rotated/flipped upright by its EXIF orientation. The caller disposes the result.</summary>
    /// <exception cref="InvalidInputException">The file is missing, not an image, or corrupt.</exception>
    public static SKBitmap Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: image file not found");
        using var codec = SKCodec.Create(path, out var createResult)
            ?? throw new InvalidInputException($"{path}: not a readable image ({createResult}); use a JPEG, PNG or WebP file");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var decoded = new SKBitmap(info);
        var result = codec.GetPixels(info, decoded.GetPixels());
        if (result != SKCodecResult.Success)
        {
            decoded.Dispose();
            throw new InvalidInputException($"{path}: image data is corrupt or truncated ({result}); re-export the image");
        }
        if (codec.EncodedOrigin == SKEncodedOrigin.TopLeft) return decoded;
        using (decoded) return Orient(decoded, codec.EncodedOrigin);
    }

    /// <summary>Loads an image and resizes + center crops it to <paramref name="width"/>×<paramref name="height"/>.</summary>
    /// <exception cref="InvalidInputException">The file is missing, not an image, or corrupt.</exception>
    public static SKBitmap Load(string path, int width, int height)
    {
        using var image = Load(path);
        return ResizeCenterCrop(image, width, height);
    }

    /// <summary>
    /// Loads images, resizes + center crops each to <paramref name="width"/>×<paramref name="height"/> and stacks them
    /// into one <c>[N, 3, H, W]</c> float32 tensor in <paramref name="range"/>.
    /// </summary>
    /// <exception cref="InvalidInputException">No paths, or a file is missing, not an image, or corrupt.</exception>
    public static Tensor LoadTensor(IReadOnlyList<string> paths, int width, int height, PixelRange range = PixelRange.MinusOneToOne)
    {
        var images = new List<SKBitmap>(paths.Count);
        try
        {
            foreach (string path in paths) images.Add(Load(path, width, height));
            return ToTensor(images, range);
        }
        finally
        {
            images.ForEach(i => i.Dispose());
        }
    }

    /// <summary>
    /// Scales <paramref name="source"/> so that it covers <paramref name="width"/>×<paramref name="height"/> (shorter
    /// side fits, aspect ratio kept) and crops the center, like torchvision's <c>Resize</c> + <c>CenterCrop</c>.
    /// Downscaling filters with mipmaps (no aliasing), upscaling with Mitchell cubic. Returns a new bitmap.
    /// </summary>
    public static SKBitmap ResizeCenterCrop(SKBitmap source, int width, int height)
    {
        if (width <= 0 || height <= 0) throw new InvalidInputException($"Image size {width}x{height} is invalid; use positive sizes");
        double scale = Math.Max(width / (double)source.Width, height / (double)source.Height);
        double cropWidth = width / scale, cropHeight = height / scale;
        var sourceRect = SKRect.Create((float)((source.Width - cropWidth) / 2), (float)((source.Height - cropHeight) / 2),
            (float)cropWidth, (float)cropHeight);
        // At scale 1 the crop is a pixel copy; Mitchell would blur an image that needs no resampling.
        var sampling = scale == 1 ? new SKSamplingOptions(SKFilterMode.Nearest)
            : scale < 1 ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
            : new SKSamplingOptions(SKCubicResampler.Mitchell);
        using var image = SKImage.FromBitmap(source);
        using var target = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(target))
        {
            canvas.Clear(SKColors.Transparent);
            using var paint = new SKPaint { BlendMode = SKBlendMode.Src };
            canvas.DrawImage(image, sourceRect, SKRect.Create(width, height), sampling, paint);
        }
        return FromRgba(RgbaBytes(target), width, height);
    }

    /// <summary>One image as a <c>[1, 3, H, W]</c> float32 tensor in <paramref name="range"/> (alpha dropped).</summary>
    public static Tensor ToTensor(SKBitmap image, PixelRange range = PixelRange.MinusOneToOne) => ToTensor([image], range);

    /// <summary>Same-size images as one <c>[N, 3, H, W]</c> float32 tensor in <paramref name="range"/> (alpha dropped).</summary>
    /// <exception cref="InvalidInputException">No images, or images of different sizes.</exception>
    public static Tensor ToTensor(IReadOnlyList<SKBitmap> images, PixelRange range = PixelRange.MinusOneToOne)
    {
        if (images.Count == 0) throw new InvalidInputException("No images to convert; pass at least one image");
        int width = images[0].Width, height = images[0].Height;
        if (images.FirstOrDefault(i => i.Width != width || i.Height != height) is { } odd)
            throw new InvalidInputException(
                $"Images differ in size ({width}x{height} and {odd.Width}x{odd.Height}); resize them to one size first");
        long pixels = (long)width * height * 4;
        var bytes = new byte[pixels * images.Count];
        for (int i = 0; i < images.Count; i++) RgbaBytes(images[i]).CopyTo(bytes, pixels * i);
        using var scope = NewDisposeScope();
        using var rgba = torch.tensor(bytes, [images.Count, height, width, 4]);
        var unit = rgba[.., .., .., ..3].permute(0, 3, 1, 2).to_type(ScalarType.Float32).div_(255f); // (N, 3, H, W)
        var result = range == PixelRange.MinusOneToOne ? unit.mul(2f).sub_(1f) : unit.contiguous();
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Converts a <c>[N, 3, H, W]</c> or <c>[3, H, W]</c> tensor (any float dtype, any device) in <paramref name="range"/>
    /// to N opaque bitmaps, pixel = round(clamp(x/2 + 0.5, 0, 1)·255) (for [0, 1]: round(clamp(x, 0, 1)·255)),
    /// as diffusers' image post-processing does. The caller disposes the bitmaps.
    /// </summary>
    /// <exception cref="InvalidInputException">The tensor does not have that shape.</exception>
    public static SKBitmap[] FromTensor(Tensor images, PixelRange range = PixelRange.MinusOneToOne)
    {
        bool single = images.dim() == 3;
        if ((images.dim() != 4 && !single) || images.shape[single ? 0 : 1] != 3)
            throw new InvalidInputException(
                $"Image tensor has shape [{string.Join(", ", images.shape)}]; expected [N, 3, H, W] or [3, H, W]");
        using var scope = NewDisposeScope();
        var batch = single ? images.unsqueeze(0) : images;
        var unit = batch.detach().to(CPU).to_type(ScalarType.Float32);
        if (range == PixelRange.MinusOneToOne) unit = unit.div(2f).add_(0.5f);
        // torch.round rounds half to even, as numpy does in diffusers' numpy_to_pil.
        var rgb = unit.clamp(0f, 1f).mul_(255f).round_().to_type(ScalarType.Byte).permute(0, 2, 3, 1).contiguous(); // (N, H, W, 3)
        int count = (int)rgb.shape[0], height = (int)rgb.shape[1], width = (int)rgb.shape[2];
        var alpha = torch.full([count, height, width, 1], (byte)255, ScalarType.Byte);
        var rgba = torch.cat([rgb, alpha], 3).contiguous(); // (N, H, W, 4)
        var bytes = rgba.bytes.ToArray();
        int imageBytes = height * width * 4;
        return Enumerable.Range(0, count).Select(i => FromRgba(bytes.AsSpan(i * imageBytes, imageBytes), width, height)).ToArray();
    }

    /// <summary>
    /// Encodes <paramref name="image"/> as PNG with <paramref name="parameters"/> (if given) in a text chunk keyed
    /// <see cref="ParametersKey"/>, and writes it atomically (temporary file, then rename), creating the folder.
    /// </summary>
    public static void SavePng(SKBitmap image, string path, string? parameters = null)
    {
        var text = parameters is null ? [] : new[] { KeyValuePair.Create(ParametersKey, parameters) };
        AtomicFile.WriteAllBytes(path, PngText.Insert(EncodePng(image), text));
    }

    /// <summary>The generation settings stored by <see cref="SavePng"/>, or null when the PNG has none.</summary>
    /// <exception cref="InvalidInputException">The file is missing or not a PNG.</exception>
    public static string? ReadParameters(string path) =>
        PngText.Read(path).TryGetValue(ParametersKey, out var value) ? value : null;

    /// <summary>Encodes a bitmap as PNG bytes (lossless).</summary>
    public static byte[] EncodePng(SKBitmap image)
    {
        using var data = image.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new PersonGenException($"PNG encoding of a {image.Width}x{image.Height} {image.ColorType} image failed; convert it to RGBA8888");
        return data.ToArray();
    }

    /// <summary>The pixels as tightly packed RGBA8888 unpremultiplied bytes, <c>(H, W, 4)</c>.</summary>
    internal static byte[] RgbaBytes(SKBitmap image)
    {
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bytes = new byte[info.BytesSize64];
        var handle = GCHandle.Alloc(bytes, GCHandleType.Pinned);
        try
        {
            using var pixmap = image.PeekPixels();
            if (pixmap is null || !pixmap.ReadPixels(info, handle.AddrOfPinnedObject(), info.RowBytes))
                throw new PersonGenException($"Reading the pixels of a {image.Width}x{image.Height} {image.ColorType} image failed; convert it to RGBA8888");
        }
        finally
        {
            handle.Free();
        }
        return bytes;
    }

    internal static unsafe SKBitmap FromRgba(ReadOnlySpan<byte> rgba, int width, int height)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        int rowBytes = width * 4;
        IntPtr pixels = bitmap.GetPixels();
        for (int y = 0; y < height; y++)
            rgba.Slice(y * rowBytes, rowBytes).CopyTo(new Span<byte>(IntPtr.Add(pixels, y * bitmap.RowBytes).ToPointer(), rowBytes));
        return bitmap;
    }

    // Rewrites the pixels upright; dest(x, y) = src(sx, sy) for each of the eight EXIF orientations.
    private static SKBitmap Orient(SKBitmap source, SKEncodedOrigin origin)
    {
        int w = source.Width, h = source.Height;
        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int outW = swap ? h : w, outH = swap ? w : h;
        var src = MemoryMarshal.Cast<byte, uint>(RgbaBytes(source).AsSpan());
        var dst = new uint[outW * outH];
        for (int y = 0; y < outH; y++)
        {
            for (int x = 0; x < outW; x++)
            {
                (int sx, int sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),              // mirrored horizontally
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),   // rotated 180°
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),            // mirrored vertically
                    SKEncodedOrigin.LeftTop => (y, x),                       // transposed
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),              // shown rotated 90° clockwise
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),   // transversed
                    SKEncodedOrigin.LeftBottom => (w - 1 - y, x),            // shown rotated 90° counter-clockwise
                    _ => (x, y),
                };
                dst[y * outW + x] = src[sy * w + sx];
            }
        }
        return FromRgba(MemoryMarshal.AsBytes(dst.AsSpan()), outW, outH);
    }

}
