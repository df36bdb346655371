using FastRcnn.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Imaging;

public class DrawingTests
{
    private const string DejaVu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

    [Fact]
    public void Label_text_pixels_are_drawn_inside_the_tag()
    {
        if (!File.Exists(DejaVu) && Environment.GetEnvironmentVariable("FASTRCNN_FONT") is null)
            return;   // no font on this machine: the fallback is covered by Tag_layout_without_a_font
        Assert.True(Drawing.FontAvailable, $"a font exists at {DejaVu} but none was loaded");
        var blank = RgbImage.Filled(200, 100, Rgb.Black);
        var opt = new DrawOptions { FontSize = 16, LineWidth = 2 };
        var box = new LabeledBox(20, 50, 180, 95, ClassId: 1, Label: "dog", Score: 0.93f);
        var drawn = Drawing.DrawBoxes(blank, new[] { box }, opt);

        var tagColor = Palette.ForClass(1);                         // (31,119,180): dark, so white text
        Assert.Equal(Rgb.White, Drawing.TextColor(tagColor));
        using var typeface = SkiaSharp.SKTypeface.FromFile(Drawing.FontSource!.StartsWith('/') ? Drawing.FontSource : DejaVu);
        using var font = new SkiaSharp.SKFont(typeface, 16);
        var (tag, _, _, text) = Drawing.LayoutTag(box, opt, 200, 100, font);
        Assert.Equal("dog 0.93", text);
        Assert.True(tag.Bottom <= 49 && tag.Top >= 0, $"tag {tag} should sit above the box top y=50");
        Assert.True(tag.Width > 40, $"tag {tag} too narrow for 8 characters at 16 px");

        int textPixels = 0, tagPixels = 0, strayTextPixels = 0;
        for (int y = 0; y < 100; y++)
            for (int x = 0; x < 200; x++)
            {
                var p = drawn[x, y];
                bool inTag = x >= tag.Left && x < tag.Right && y >= tag.Top && y < tag.Bottom;
                bool textLike = p.R > 200 && p.G > 200 && p.B > 200;    // the tag is (31,119,180): R > 200 is ink
                if (inTag && textLike) textPixels++;
                if (inTag && p == tagColor) tagPixels++;
                if (!inTag && textLike) strayTextPixels++;
            }
        // DejaVu Sans at 16 px puts about 236 near-white pixels into this tag.
        Assert.True(textPixels >= 80, $"only {textPixels} text pixels in tag {tag}");
        Assert.True(tagPixels >= textPixels, $"tag background ({tagPixels} px) should dominate the text ({textPixels} px)");
        Assert.Equal(0, strayTextPixels);
    }

    [Fact]
    public void Box_outline_has_the_class_colour_and_the_input_is_untouched()
    {
        var blank = RgbImage.Filled(60, 50, Rgb.Black);
        var before = (byte[])blank.Data.Clone();
        var drawn = Drawing.DrawBoxes(blank, new[] { new LabeledBox(10, 20, 40, 45, 3) },
            new DrawOptions { LineWidth = 2, ShowLabels = false });
        Assert.Equal(before, blank.Data);
        var c = Palette.ForClass(3);
        Assert.Equal(c, drawn[25, 20]);    // top edge
        Assert.Equal(c, drawn[25, 44]);    // bottom edge (stroke centred on y = 45)
        Assert.Equal(c, drawn[10, 30]);    // left edge
        Assert.Equal(c, drawn[40, 30]);    // right edge
        Assert.Equal(Rgb.Black, drawn[25, 32]);   // interior
        Assert.Equal(Rgb.Black, drawn[5, 5]);     // outside
    }

    [Fact]
    public void Tag_goes_inside_the_box_when_there_is_no_room_above()
    {
        var opt = new DrawOptions { FontSize = 12 };
        var (tag, _, _, _) = Drawing.LayoutTag(new LabeledBox(190, 1, 199, 30, 2, "person"), opt, 200, 100, font: null);
        Assert.True(tag.Top >= 1, $"tag {tag}");
        Assert.True(tag.Right <= 200, $"tag {tag} should be shifted into the image");
    }

    [Fact]
    public void Tag_layout_without_a_font_still_draws_the_tag()
    {
        var opt = new DrawOptions { FontSize = 10 };
        var (tag, _, baseline, text) = Drawing.LayoutTag(new LabeledBox(10, 40, 50, 80, 1, "cat", 0.5f), opt, 100, 100, font: null);
        Assert.Equal("cat 0.50", text);
        Assert.True(tag.Width > 0 && tag.Height > 0 && tag.Bottom <= 40);
        Assert.InRange(baseline, tag.Top, tag.Bottom);
    }

    [Fact]
    public void Detections_from_tensors_use_class_names_and_scores()
    {
        using var scope = NewDisposeScope();
        var img = RgbImage.Filled(120, 80, Rgb.White);
        var boxes = tensor(new float[] { 10, 30, 50, 70, 60, 35, 110, 75 }, new long[] { 2, 4 });
        var classes = tensor(new long[] { 1, 2 });
        var scores = tensor(new float[] { 0.9f, 0.25f });
        var names = new[] { "__background__", "cat", "dog" };
        var viaTensors = Drawing.DrawDetections(img, boxes, classes, scores, names);
        var viaList = Drawing.DrawBoxes(img, new[]
        {
            new LabeledBox(10, 30, 50, 70, 1, "cat", 0.9f), new LabeledBox(60, 35, 110, 75, 2, "dog", 0.25f),
        });
        Assert.Equal(viaList.Data, viaTensors.Data);
        Assert.NotEqual(img.Data, viaTensors.Data);
        Assert.Throws<ArgumentException>(() => Drawing.DrawDetections(img, boxes, tensor(new long[] { 1 })));
    }

    [Fact]
    public void Palette_is_deterministic_and_distinct()
    {
        var colours = Enumerable.Range(1, 60).Select(Palette.ForClass).ToList();
        Assert.Equal(colours, Enumerable.Range(1, 60).Select(Palette.ForClass));
        Assert.Equal(Palette.TableSize, colours.Take(Palette.TableSize).Distinct().Count());
        Assert.Equal(new Rgb(31, 119, 180), Palette.ForClass(1));
        Assert.Equal("dog 0.93", Drawing.FormatLabel("dog", 0.929f));
        Assert.Equal("dog", Drawing.FormatLabel("dog", null));
        Assert.Contains(DejaVu, Drawing.FontSearchPaths);
    }
}
