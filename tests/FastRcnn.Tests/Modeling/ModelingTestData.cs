using FastRcnn.Modeling;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling;

/// <summary>Synthetic scenes (coloured rectangles on a grey background) and box helpers for the modeling tests.</summary>
internal static class ModelingTestData
{
    /// <summary>Pure red, green, blue: class 1, 2, 3.</summary>
    public static readonly byte[][] ClassColours = [[220, 30, 30], [30, 200, 30], [30, 30, 220]];

    /// <summary>(R,4) float32 boxes from rows of 4 values.</summary>
    public static Tensor Boxes(params float[][] rows) =>
        rows.Length == 0 ? zeros(0, 4, float32) : tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, 4], float32);

    /// <summary>One scene: an RGB 0–255 image (3,H,W) float32 with 2–3 non-overlapping rectangles, their boxes and classes.</summary>
    public static (Tensor Rgb, float[][] GtBoxes, long[] GtClasses) Scene(Random rng, int height, int width)
    {
        var pixels = new float[3 * height * width];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = 110 + (float)rng.NextDouble() * 30;
        var boxes = new List<float[]>();
        var classes = new List<long>();
        int count = 2 + rng.Next(2);
        for (int attempt = 0; boxes.Count < count && attempt < 200; attempt++)
        {
            int w = 24 + rng.Next(32), h = 24 + rng.Next(32);
            int x1 = rng.Next(width - w), y1 = rng.Next(height - h);
            float[] box = [x1, y1, x1 + w, y1 + h];
            if (boxes.Any(b => b[0] < box[2] + 4 && box[0] < b[2] + 4 && b[1] < box[3] + 4 && box[1] < b[3] + 4)) continue;
            int cls = 1 + rng.Next(3);
            for (int c = 0; c < 3; c++)
                for (int y = y1; y < y1 + h; y++)
                    for (int x = x1; x < x1 + w; x++)
                        pixels[(c * height + y) * width + x] = ClassColours[cls - 1][c];
            boxes.Add(box);
            classes.Add(cls);
        }
        return (tensor(pixels, [3, height, width], float32), boxes.ToArray(), classes.ToArray());
    }

    /// <summary>Proposals: <paramref name="jitteredPerGt"/> jittered copies of each GT box (±25% of its size) plus <paramref name="random"/> random boxes, clipped.</summary>
    public static Tensor Proposals(Random rng, float[][] gtBoxes, int height, int width, int jitteredPerGt = 8, int random = 40)
    {
        var rows = new List<float[]>();
        foreach (var g in gtBoxes)
        {
            float w = g[2] - g[0], h = g[3] - g[1];
            for (int j = 0; j < jitteredPerGt; j++)
            {
                float J(double scale) => (float)((rng.NextDouble() * 2 - 1) * scale);
                rows.Add(Clip([g[0] + J(0.25 * w), g[1] + J(0.25 * h), g[2] + J(0.25 * w), g[3] + J(0.25 * h)], height, width));
            }
        }
        for (int j = 0; j < random; j++)
        {
            float x1 = (float)rng.NextDouble() * (width - 16), y1 = (float)rng.NextDouble() * (height - 16);
            float w = 12 + (float)rng.NextDouble() * (width - x1 - 12), h = 12 + (float)rng.NextDouble() * (height - y1 - 12);
            rows.Add(Clip([x1, y1, x1 + w, y1 + h], height, width));
        }
        return Boxes(rows.Where(r => r[2] - r[0] > 2 && r[3] - r[1] > 2).ToArray());
    }

    private static float[] Clip(float[] b, int height, int width) =>
        [Math.Clamp(b[0], 0, width), Math.Clamp(b[1], 0, height), Math.Clamp(b[2], 0, width), Math.Clamp(b[3], 0, height)];

    /// <summary><paramref name="count"/> scenes preprocessed for <paramref name="model"/>: images (N,3,H,W) and their targets.</summary>
    public static (Tensor Images, List<ImageTargets> Targets) Batch(TwoStageModel model, int seed, int count, int height, int width)
    {
        var rng = new Random(seed);
        var images = new List<Tensor>();
        var targets = new List<ImageTargets>();
        for (int i = 0; i < count; i++)
        {
            var (rgb, gt, classes) = Scene(rng, height, width);
            images.Add(model.Pixels.Apply(rgb));
            targets.Add(new ImageTargets(Proposals(rng, gt, height, width), Boxes(gt), tensor(classes)));
        }
        return (stack(images, 0), targets);
    }

    /// <summary>Bit-exact equality of two float tensors.</summary>
    public static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();
}
