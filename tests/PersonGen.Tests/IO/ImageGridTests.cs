using PersonGen.IO;
using SkiaSharp;

namespace PersonGen.Tests.IO;

public class ImageGridTests
{
    [Fact]
    public void A_grid_without_captions_has_cells_plus_spacing()
    {
        var images = Enumerable.Range(0, 5).Select(_ => ImageIOTests.Quadrants(20, 10)).ToList();

        using var grid = ImageGrid.Create(images, columns: 3, spacing: 4);

        Assert.Equal((3 * 20 + 4 * 4, 2 * 10 + 3 * 4), (grid.Width, grid.Height));
        Assert.Equal(SKColors.Red, grid.GetPixel(4, 4));                  // first cell's top-left
        Assert.Equal(SKColors.White, grid.GetPixel(2, 2));                // spacing
        Assert.Equal(SKColors.Red, grid.GetPixel(4 + 24, 4 + 14));         // second row, first cell
        Assert.Equal(SKColors.White, grid.GetPixel(4 + 2 * 24 + 2, 4 + 14 + 2)); // empty sixth cell
        images.ForEach(i => i.Dispose());
    }

    [Fact]
    public void Captions_add_a_band_under_each_row_with_text_in_it()
    {
        var images = Enumerable.Range(0, 4).Select(_ => ImageIOTests.Quadrants(64, 64)).ToList();
        string[] captions = ["base", "superclass", "mixed wc=3.5 ws=3.5", "a caption long enough to wrap over several lines of this narrow cell"];

        using var plain = ImageGrid.Create(images, columns: 2);
        using var grid = ImageGrid.Create(images, columns: 2, captions);

        Assert.Equal(plain.Width, grid.Width);
        Assert.True(grid.Height > plain.Height + 2 * 10);
        int bandTop = 4 + 64, bandBottom = 4 + (grid.Height - 3 * 4) / 2;
        bool hasInk = Enumerable.Range(bandTop, bandBottom - bandTop)
            .Any(y => Enumerable.Range(4, 64).Any(x => grid.GetPixel(x, y).Red < 128));
        Assert.True(hasInk, "the caption band of the first cell holds dark text pixels");
        images.ForEach(i => i.Dispose());
    }

    [Fact]
    public void Mismatched_captions_and_bad_columns_are_refused()
    {
        var images = new[] { ImageIOTests.Quadrants(4, 4) };

        var captions = Assert.Throws<InvalidInputException>(() => ImageGrid.Create(images, 1, ["a", "b"]));
        var columns = Assert.Throws<InvalidInputException>(() => ImageGrid.Create(images, 0));

        Assert.Equal("The grid has 1 images but 2 captions; give one caption per image", captions.Message);
        Assert.Equal("Grid columns = 0 is invalid; use 1 or more", columns.Message);
        images[0].Dispose();
    }
}
