using FastRcnn.Imaging;
using FastRcnn.Tests.Data;

namespace FastRcnn.Tests.Imaging;

public class LineChartTests
{
    [Fact]
    public void Draws_each_curve_in_its_class_colour()
    {
        using var tmp = new TempDir();
        string path = Path.Combine(tmp.Path, "pr.png");
        new LineChart("precision–recall", "recall", "precision").WritePng(path,
            [new ChartSeries("cat", [0, 0.5, 1], [1, 1, 0.5]), new ChartSeries("dog", [0, 1], [0.2, 0.2])]);
        var image = ImageIO.Read(path);
        Assert.Equal((640, 480), (image.Width, image.Height));
        int Count(Rgb c) => Enumerable.Range(0, image.Width * image.Height)
            .Count(i => Math.Abs(image.Data[3 * i] - c.R) + Math.Abs(image.Data[3 * i + 1] - c.G) + Math.Abs(image.Data[3 * i + 2] - c.B) < 30);
        Assert.True(Count(Palette.ForClass(1)) > 300, "the first curve is drawn");
        Assert.True(Count(Palette.ForClass(2)) > 300, "the second curve is drawn");
    }
}
