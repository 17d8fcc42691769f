using System.Buffers.Binary;
using System.Text;
using PersonGen.IO;
using PersonGen.Tests.Support;
using SkiaSharp;
using static TorchSharp.torch;

namespace PersonGen.Tests.IO;

public class ImageIOTests
{
    [Fact]
    public void A_tensor_survives_png_and_back_exactly_at_uint8_level()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator().manual_seed(7);
        var x = rand([2, 3, 9, 13], generator: generator).mul(2.4f).sub(1.2f); // some values outside [-1, 1]
        string directory = TestPaths.NewTempDirectory();

        var saved = ImageIO.FromTensor(x);
        for (int i = 0; i < saved.Length; i++) ImageIO.SavePng(saved[i], Path.Combine(directory, $"{i}.png"));
        var loaded = Enumerable.Range(0, 2).Select(i => ImageIO.Load(Path.Combine(directory, $"{i}.png"))).ToList();
        var back = ImageIO.ToTensor(loaded);

        var expectedBytes = x.div(2).add(0.5).clamp(0, 1).mul(255).round(); // the reference quantisation
        Assert.Equal(new long[] { 2, 3, 9, 13 }, back.shape);
        Assert.Equal(ScalarType.Float32, back.dtype);
        Assert.Equal(0f, back.add(1).mul(127.5f).round().sub(expectedBytes).abs().max().item<float>());
        Assert.True(back.sub(expectedBytes.div(127.5f).sub(1)).abs().max().item<float>() < 1e-6f);
        foreach (var bitmap in saved.Concat(loaded)) bitmap.Dispose();
    }

    [Theory]
    [InlineData(-1f, 0)]
    [InlineData(1f, 255)]
    [InlineData(0f, 128)]             // 127.5, the only exact tie in range
    [InlineData(-3f, 0)]
    [InlineData(3f, 255)]
    [InlineData(0.5f / 127.5f, 128)]  // 128.0
    [InlineData(-1f + 74f / 255f, 37)]
    [InlineData(-0.2f, 102)]          // 0.4·255 = 102
    public void Pixels_are_round_of_clamped_x_over_2_plus_half_times_255(float value, byte expected)
    {
        using var x = full([1, 3, 1, 1], value);

        using var bitmap = ImageIO.FromTensor(x).Single();

        Assert.Equal(new SKColor(expected, expected, expected, 255), bitmap.GetPixel(0, 0));
    }

    [Fact]
    public void The_zero_to_one_range_maps_v_to_v_over_255()
    {
        using var scope = NewDisposeScope();
        var values = arange(0, 256, dtype: ScalarType.Float32).reshape(1, 1, 16, 16).expand(1, 3, 16, 16).div(255f);

        var bitmaps = ImageIO.FromTensor(values, PixelRange.ZeroToOne);
        var back = ImageIO.ToTensor(bitmaps[0], PixelRange.ZeroToOne);

        Assert.Equal(0f, back.sub(values).abs().max().item<float>());
        Assert.Equal(new SKColor(255, 255, 255, 255), bitmaps[0].GetPixel(15, 15));
        bitmaps[0].Dispose();
    }

    [Fact]
    public void A_three_dimensional_tensor_is_one_image_and_other_shapes_are_refused()
    {
        using var chw = zeros(3, 4, 5);
        using var gray = zeros(1, 1, 4, 5);

        using var single = ImageIO.FromTensor(chw).Single();
        var error = Assert.Throws<InvalidInputException>(() => ImageIO.FromTensor(gray));

        Assert.Equal((5, 4), (single.Width, single.Height));
        Assert.Equal("Image tensor has shape [1, 1, 4, 5]; expected [N, 3, H, W] or [3, H, W]", error.Message);
    }

    [Fact]
    public void Parameters_are_stored_in_a_tEXt_chunk_with_a_valid_crc_and_read_back()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "sub", "out.png");
        const string parameters = "a sks dog in the snow\nSteps: 50, Sampler: DDIM, CFG scale: 7.5, Seed: 42";
        using var image = Quadrants(8, 4);

        ImageIO.SavePng(image, path, parameters);

        Assert.Equal(parameters, ImageIO.ReadParameters(path));
        var chunk = FindChunk(File.ReadAllBytes(path), "tEXt");
        Assert.Equal("parameters\0" + parameters, Encoding.Latin1.GetString(chunk.Data));
        Assert.Equal(BitwiseCrc32([.. "tEXt"u8.ToArray(), .. chunk.Data]), chunk.Crc);
        using var reloaded = ImageIO.Load(path);
        Assert.Equal(image.GetPixel(7, 3), reloaded.GetPixel(7, 3));
    }

    [Fact]
    public void Text_beyond_latin1_goes_into_an_iTXt_chunk()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "out.png");
        const string parameters = "une photo d'un chien 🐕 à Kyōto";
        using var image = Quadrants(4, 4);

        ImageIO.SavePng(image, path, parameters);

        Assert.Equal(parameters, ImageIO.ReadParameters(path));
        Assert.Equal(BitwiseCrc32([.. "iTXt"u8.ToArray(), .. FindChunk(File.ReadAllBytes(path), "iTXt").Data]), FindChunk(File.ReadAllBytes(path), "iTXt").Crc);
    }

    [Fact]
    public void A_png_without_parameters_reads_as_null()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "plain.png");
        using var image = Quadrants(4, 4);

        ImageIO.SavePng(image, path);

        Assert.Null(ImageIO.ReadParameters(path));
    }

    // Stored pixels: top-left red, top-right green, bottom-left blue, bottom-right white (R, G, B, W).
    [Theory]
    [InlineData(1, "RGBW")]
    [InlineData(2, "GRWB")]
    [InlineData(3, "WBGR")]
    [InlineData(4, "BWRG")]
    [InlineData(5, "RBGW")]
    [InlineData(6, "BRWG")]
    [InlineData(7, "WGBR")]
    [InlineData(8, "GWRB")]
    public void Exif_orientation_is_applied_on_load(int orientation, string expectedQuadrants)
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), $"o{orientation}.jpg");
        using var stored = Quadrants(64, 32);
        File.WriteAllBytes(path, WithExifOrientation(Encode(stored, SKEncodedImageFormat.Jpeg), orientation));

        using var loaded = ImageIO.Load(path);

        bool swapped = orientation >= 5;
        Assert.Equal(swapped ? (32, 64) : (64, 32), (loaded.Width, loaded.Height));
        int w = loaded.Width, h = loaded.Height;
        string quadrants = string.Concat(new[] { (w / 4, h / 4), (3 * w / 4, h / 4), (w / 4, 3 * h / 4), (3 * w / 4, 3 * h / 4) }
            .Select(p => ColorLetter(loaded.GetPixel(p.Item1, p.Item2))));
        Assert.Equal(expectedQuadrants, quadrants);
    }

    [Fact]
    public void Webp_files_load()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "x.webp");
        using var stored = Quadrants(16, 8);
        File.WriteAllBytes(path, Encode(stored, SKEncodedImageFormat.Webp));

        using var loaded = ImageIO.Load(path);

        Assert.Equal((16, 8), (loaded.Width, loaded.Height));
        Assert.Equal('G', ColorLetter(loaded.GetPixel(12, 2)));
    }

    [Fact]
    public void Resize_and_center_crop_keeps_the_middle_and_the_requested_size()
    {
        // 40×20: red | green (the middle 20 columns) | blue.
        using var source = new SKBitmap(new SKImageInfo(40, 20, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < 20; y++)
            for (int x = 0; x < 40; x++)
                source.SetPixel(x, y, x < 10 ? SKColors.Red : x < 30 ? SKColors.Lime : SKColors.Blue);

        using var square = ImageIO.ResizeCenterCrop(source, 10, 10);
        using var wide = ImageIO.ResizeCenterCrop(source, 80, 20);
        using var up = ImageIO.ResizeCenterCrop(source, 60, 60);

        Assert.Equal((10, 10), (square.Width, square.Height));
        Assert.All(Enumerable.Range(0, 10), x => Assert.Equal('G', ColorLetter(square.GetPixel(x, 5))));
        Assert.Equal((80, 20), (wide.Width, wide.Height));
        Assert.Equal('R', ColorLetter(wide.GetPixel(10, 10)));
        Assert.Equal('B', ColorLetter(wide.GetPixel(70, 10)));
        Assert.Equal((60, 60), (up.Width, up.Height));
        Assert.Equal('G', ColorLetter(up.GetPixel(2, 30)));
    }

    [Fact]
    public void A_concept_photo_loads_as_a_model_input_tensor()
    {
        string photo = Directory.GetFiles(TestPaths.Data("dreambooth", "dataset", "dog"), "*.jpg").Order().First();

        using var image = ImageIO.Load(photo, 64, 48);
        using var tensor = ImageIO.ToTensor(image);

        Assert.Equal(new long[] { 1, 3, 48, 64 }, tensor.shape);
        Assert.True(tensor.min().item<float>() >= -1f && tensor.max().item<float>() <= 1f);
        Assert.True(tensor.std().item<float>() > 0.05f);
    }

    [Fact]
    public void Several_photos_stack_into_one_batch()
    {
        var photos = Directory.GetFiles(TestPaths.Data("dreambooth", "dataset", "cat"), "*.jpg").Order().Take(3).ToList();

        using var batch = ImageIO.LoadTensor(photos, 32, 32, PixelRange.ZeroToOne);

        Assert.Equal(new long[] { 3, 3, 32, 32 }, batch.shape);
        Assert.True(batch.min().item<float>() >= 0f && batch.max().item<float>() <= 1f);
    }

    [Fact]
    public void A_missing_image_is_reported_by_path()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "nope.png");

        var error = Assert.Throws<InvalidInputException>(() => ImageIO.Load(path));

        Assert.Equal($"{path}: image file not found", error.Message);
    }

    [Fact]
    public void A_file_that_is_not_an_image_is_reported()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "notes.jpg");
        File.WriteAllText(path, "this is not an image");

        var error = Assert.Throws<InvalidInputException>(() => ImageIO.Load(path));

        Assert.StartsWith($"{path}: not a readable image (", error.Message);
    }

    [Theory]
    [InlineData("png")]
    [InlineData("jpg")]
    public void A_truncated_image_is_reported(string extension)
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "cut." + extension);
        using var image = Noise(64, 64);
        byte[] bytes = Encode(image, extension == "png" ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var error = Assert.Throws<InvalidInputException>(() => ImageIO.Load(path));

        Assert.StartsWith($"{path}: image data is corrupt or truncated (", error.Message);
    }

    [Fact]
    public void Reading_text_from_a_non_png_is_refused()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "x.jpg");
        using var image = Quadrants(8, 8);
        File.WriteAllBytes(path, Encode(image, SKEncodedImageFormat.Jpeg));

        var error = Assert.Throws<InvalidInputException>(() => ImageIO.ReadParameters(path));

        Assert.Equal($"{path}: not a PNG file (bad signature)", error.Message);
    }

    internal static SKBitmap Quadrants(int width, int height)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, (x < width / 2, y < height / 2) switch
                {
                    (true, true) => SKColors.Red,
                    (false, true) => SKColors.Lime,
                    (true, false) => SKColors.Blue,
                    _ => SKColors.White,
                });
        return bitmap;
    }

    private static SKBitmap Noise(int width, int height)
    {
        var random = new Random(3);
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
        return bitmap;
    }

    private static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format)
    {
        using var data = bitmap.Encode(format, 100);
        return data.ToArray();
    }

    private static char ColorLetter(SKColor c) => (c.Red > 200, c.Green > 200, c.Blue > 200) switch
    {
        (true, false, false) => 'R',
        (false, true, false) => 'G',
        (false, false, true) => 'B',
        (true, true, true) => 'W',
        _ => '?',
    };

    // Inserts an APP1 Exif segment (big-endian TIFF, one IFD entry: Orientation 0x0112, SHORT) right after SOI.
    private static byte[] WithExifOrientation(byte[] jpeg, int orientation)
    {
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08,
            0x00, 0x01,
            0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, (byte)orientation, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00,
        ];
        byte[] payload = [.. "Exif\0\0"u8.ToArray(), .. tiff];
        int segmentLength = payload.Length + 2;
        byte[] app1 = [0xFF, 0xE1, (byte)(segmentLength >> 8), (byte)segmentLength, .. payload];
        return [.. jpeg[..2], .. app1, .. jpeg[2..]];
    }

    private static (byte[] Data, uint Crc) FindChunk(byte[] png, string type)
    {
        for (int position = 8; position + 12 <= png.Length;)
        {
            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(position));
            if (Encoding.Latin1.GetString(png, position + 4, 4) == type)
                return (png[(position + 8)..(position + 8 + length)], BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(position + 8 + length)));
            position += 12 + length;
        }
        throw new InvalidOperationException($"no {type} chunk");
    }

    // Bit-by-bit CRC-32 (PNG's), independent of the table-driven one under test.
    private static uint BitwiseCrc32(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }
}
