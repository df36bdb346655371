using FastRcnn.Proposals;

namespace FastRcnn.Tests.Proposals;

/// <summary>
/// Draws small test scenes with plain pixel loops: a textured background (seeded noise plus
/// diagonal stripes) and flat or gradient shapes whose bounding boxes are known exactly.
/// </summary>
internal sealed class SyntheticScene
{
    private readonly Random _random;

    public SyntheticScene(int width, int height, int seed)
    {
        Width = width;
        Height = height;
        Rgb = new byte[width * height * 3];
        _random = new Random(seed);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int stripe = ((x + y) / 6) % 2 == 0 ? 18 : -18;
                for (int c = 0; c < 3; c++)
                {
                    int baseValue = c switch { 0 => 120, 1 => 135, _ => 110 };
                    Set(x, y, c, baseValue + stripe + _random.Next(-22, 23));
                }
            }
        }
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Rgb { get; }

    /// <summary>Ground-truth boxes (x1, y1, x2, y2) of the shapes drawn so far.</summary>
    public List<PixelBox> Objects { get; } = [];

    /// <summary>A rectangle, flat colour (plus mild noise) or a horizontal gradient between two colours.</summary>
    public void Rectangle(int x1, int y1, int x2, int y2, (int R, int G, int B) from, (int R, int G, int B)? to = null)
    {
        for (int y = y1; y < y2; y++)
            for (int x = x1; x < x2; x++)
                Paint(x, y, Lerp(from, to ?? from, (x - x1) / (float)Math.Max(1, x2 - x1 - 1)));
        Objects.Add(new PixelBox(x1, y1, x2, y2));
    }

    /// <summary>An axis-aligned ellipse inside the box, flat or with a vertical gradient.</summary>
    public void Ellipse(int x1, int y1, int x2, int y2, (int R, int G, int B) from, (int R, int G, int B)? to = null)
    {
        float cx = (x1 + x2) / 2f, cy = (y1 + y2) / 2f, rx = (x2 - x1) / 2f, ry = (y2 - y1) / 2f;
        for (int y = y1; y < y2; y++)
        {
            for (int x = x1; x < x2; x++)
            {
                float dx = (x + 0.5f - cx) / rx, dy = (y + 0.5f - cy) / ry;
                if (dx * dx + dy * dy <= 1f) Paint(x, y, Lerp(from, to ?? from, (y - y1) / (float)Math.Max(1, y2 - y1 - 1)));
            }
        }
        Objects.Add(new PixelBox(x1, y1, x2, y2));
    }

    /// <summary>A triangle with apex at the top centre of the box and its base on the bottom edge.</summary>
    public void Triangle(int x1, int y1, int x2, int y2, (int R, int G, int B) colour)
    {
        float cx = (x1 + x2) / 2f, half = (x2 - x1) / 2f;
        for (int y = y1; y < y2; y++)
        {
            float reach = half * (y + 1 - y1) / (y2 - y1);
            for (int x = x1; x < x2; x++)
                if (Math.Abs(x + 0.5f - cx) <= reach) Paint(x, y, colour);
        }
        Objects.Add(new PixelBox(x1, y1, x2, y2));
    }

    /// <summary>The standard test scene: 500×375, six shapes of various sizes, flat and gradient.</summary>
    public static SyntheticScene Standard(int seed = 7)
    {
        var s = new SyntheticScene(500, 375, seed);
        s.Rectangle(30, 30, 150, 120, (200, 40, 40));
        s.Ellipse(200, 40, 330, 170, (40, 60, 200), (120, 160, 250));
        s.Triangle(360, 30, 480, 150, (250, 220, 40));
        s.Rectangle(40, 200, 220, 340, (30, 160, 70), (160, 240, 120));
        s.Ellipse(260, 220, 320, 280, (240, 240, 240));
        s.Rectangle(360, 210, 460, 350, (90, 30, 110));
        return s;
    }

    private void Paint(int x, int y, (float R, float G, float B) c)
    {
        Set(x, y, 0, (int)c.R + _random.Next(-4, 5));
        Set(x, y, 1, (int)c.G + _random.Next(-4, 5));
        Set(x, y, 2, (int)c.B + _random.Next(-4, 5));
    }

    private void Set(int x, int y, int c, int v) => Rgb[(y * Width + x) * 3 + c] = (byte)Math.Clamp(v, 0, 255);

    private static (float R, float G, float B) Lerp((int R, int G, int B) a, (int R, int G, int B) b, float t) =>
        (a.R + t * (b.R - a.R), a.G + t * (b.G - a.G), a.B + t * (b.B - a.B));

    /// <summary>Fraction of <paramref name="truth"/> boxes with IoU ≥ <paramref name="threshold"/> to some proposal.</summary>
    public static double Recall(ProposalSet proposals, IReadOnlyList<PixelBox> truth, double threshold)
    {
        int hit = 0;
        foreach (var g in truth)
        {
            double best = 0;
            for (int i = 0; i < proposals.Count; i++)
            {
                var b = proposals.Box(i);
                double iw = Math.Min(b[2], g.X2) - Math.Max(b[0], g.X1), ih = Math.Min(b[3], g.Y2) - Math.Max(b[1], g.Y1);
                if (iw <= 0 || ih <= 0) continue;
                double inter = iw * ih, union = (b[2] - b[0]) * (b[3] - b[1]) + g.Area - inter;
                best = Math.Max(best, inter / union);
            }
            if (best >= threshold) hit++;
        }
        return hit / (double)truth.Count;
    }
}
