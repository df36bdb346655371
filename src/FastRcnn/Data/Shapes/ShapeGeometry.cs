using SkiaSharp;

namespace FastRcnn.Data;

/// <summary>The object classes of the Shapes benchmark (class index = enum value; 0 is background).</summary>
public enum ShapeClass
{
    /// <summary>Circle or ellipse (any aspect ratio in range).</summary>
    Ellipse = 1,

    /// <summary>Rectangle (square to elongated), any rotation.</summary>
    Rectangle,

    /// <summary>Triangle with jittered vertices.</summary>
    Triangle,

    /// <summary>Star with 5 or 6 points.</summary>
    Star,

    /// <summary>Ring (annulus): the background shows through the hole.</summary>
    Ring,

    /// <summary>Plus-shaped cross.</summary>
    Cross,

    /// <summary>Arrow: a shaft and a triangular head.</summary>
    Arrow,

    /// <summary>Heart.</summary>
    Heart,
}

/// <summary>
/// Unit outlines of the Shapes classes and distractors: paths centred on (0, 0) within about
/// [−1, 1]², later scaled by (r·√a, r/√a) for size r and aspect a, rotated, and translated.
/// </summary>
internal static class ShapeGeometry
{
    public const int NumClasses = 8;

    /// <summary>Class names in index order 1..K.</summary>
    public static readonly string[] Names = ["ellipse", "rectangle", "triangle", "star", "ring", "cross", "arrow", "heart"];

    /// <summary>The unit path of an object class; random details (star points, ring hole, arm width) from <paramref name="rng"/>.</summary>
    public static SKPath ObjectPath(ShapeClass cls, Random rng)
    {
        using var p = new SKPathBuilder();
        bool evenOdd = false;
        switch (cls)
        {
            case ShapeClass.Ellipse:
                p.AddOval(new SKRect(-1, -1, 1, 1));
                break;
            case ShapeClass.Rectangle:
                p.AddRect(new SKRect(-1, -1, 1, 1));
                break;
            case ShapeClass.Triangle:
                p.AddPoly([Jitter(0, -1, rng), Jitter(0.87f, 0.6f, rng), Jitter(-0.87f, 0.6f, rng)]);
                break;
            case ShapeClass.Star:
                p.AddPoly(StarPoints(rng.Next(5, 7), Range(rng, 0.38f, 0.55f), rng.NextSingle() * MathF.PI));
                break;
            case ShapeClass.Ring:
                evenOdd = true;
                p.AddOval(new SKRect(-1, -1, 1, 1));
                float hole = Range(rng, 0.45f, 0.72f);
                p.AddOval(new SKRect(-hole, -hole, hole, hole));
                break;
            case ShapeClass.Cross:
                float t = Range(rng, 0.22f, 0.38f);
                p.AddPoly([new(-t, -1), new(t, -1), new(t, -t), new(1, -t), new(1, t), new(t, t), new(t, 1), new(-t, 1),
                    new(-t, t), new(-1, t), new(-1, -t), new(-t, -t)]);
                break;
            case ShapeClass.Arrow:
                float shaft = Range(rng, 0.16f, 0.3f), headLen = Range(rng, 0.55f, 0.9f), headHalf = Range(rng, 0.5f, 0.8f);
                float neck = 1 - headLen;
                p.AddPoly([new(-1, -shaft), new(neck, -shaft), new(neck, -headHalf), new(1, 0), new(neck, headHalf),
                    new(neck, shaft), new(-1, shaft)]);
                break;
            case ShapeClass.Heart:
                p.MoveTo(0, 1);
                p.CubicTo(-0.35f, 0.7f, -1.05f, 0.2f, -1, -0.35f);
                p.CubicTo(-0.95f, -0.95f, -0.2f, -1.1f, 0, -0.55f);
                p.CubicTo(0.2f, -1.1f, 0.95f, -0.95f, 1, -0.35f);
                p.CubicTo(1.05f, 0.2f, 0.35f, 0.7f, 0, 1);
                p.Close();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(cls));
        }
        var path = p.Detach();
        if (evenOdd) { path.FillType = SKPathFillType.EvenOdd; }
        return path;
    }

    /// <summary>
    /// A distractor: an outline that is no class. Returns the unit path and, for stroked
    /// distractors, the stroke width relative to the unit size (0 = filled).
    /// </summary>
    public static (SKPath Path, float RelativeStroke) DistractorPath(Random rng)
    {
        using var p = new SKPathBuilder();
        float stroke = 0;
        switch (rng.Next(5))
        {
            case 0: // blob: smooth closed curve through jittered radial points
                Blob(p, rng);
                break;
            case 1: // regular pentagon or hexagon (no octagons: too close to a circle)
                p.AddPoly(StarPoints(rng.Next(5, 7), 1f, rng.NextSingle() * MathF.PI, regular: true));
                break;
            case 2: // open arc of 90°–200°: not a ring, and long enough not to read as a bean or ellipse
                p.AddArc(new SKRect(-1, -1, 1, 1), rng.NextSingle() * 360, Range(rng, 90, 200));
                stroke = Range(rng, 0.06f, 0.22f);
                break;
            case 3: // thick line or two-segment polyline
                p.MoveTo(-1, Range(rng, -0.3f, 0.3f));
                if (rng.Next(2) == 0) { p.LineTo(Range(rng, -0.3f, 0.3f), Range(rng, -0.8f, 0.8f)); }
                p.LineTo(1, Range(rng, -0.3f, 0.3f));
                stroke = Range(rng, 0.03f, 0.15f);
                break;
            default: // scribble: a cubic curve
                p.MoveTo(-1, Range(rng, -1, 1));
                p.CubicTo(Range(rng, -1, 1), Range(rng, -1, 1), Range(rng, -1, 1), Range(rng, -1, 1), 1, Range(rng, -1, 1));
                stroke = Range(rng, 0.03f, 0.12f);
                break;
        }
        return (p.Detach(), stroke);
    }

    /// <summary>Uniform in [lo, hi).</summary>
    public static float Range(Random rng, float lo, float hi) => lo + (hi - lo) * rng.NextSingle();

    private static SKPoint Jitter(float x, float y, Random rng) => new(x + Range(rng, -0.15f, 0.15f), y + Range(rng, -0.15f, 0.15f));

    /// <summary>Star with n points and inner radius ratio q (or a regular n-gon when <paramref name="regular"/>).</summary>
    private static SKPoint[] StarPoints(int n, float q, float phase, bool regular = false)
    {
        int m = regular ? n : 2 * n;
        var pts = new SKPoint[m];
        for (int i = 0; i < m; i++)
        {
            float r = regular || i % 2 == 0 ? 1f : q;
            float a = phase + 2 * MathF.PI * i / m;
            pts[i] = new SKPoint(r * MathF.Cos(a), r * MathF.Sin(a));
        }
        return pts;
    }

    private static void Blob(SKPathBuilder p, Random rng)
    {
        int n = rng.Next(5, 9);
        var pts = new SKPoint[n];
        for (int i = 0; i < n; i++)
        {
            float a = 2 * MathF.PI * i / n, r = Range(rng, 0.45f, 1f);
            pts[i] = new SKPoint(r * MathF.Cos(a), r * MathF.Sin(a));
        }
        // One deep dent (radius ≤ 0.35) and one full lobe: kidney- or lump-shaped, never ellipse-like;
        // the quadratic smoothing leaves no corners, so never star-like either.
        int dent = rng.Next(n), lobe = (dent + n / 2) % n;
        float ds = Range(rng, 0.15f, 0.35f) / pts[dent].Length, ls = 1f / pts[lobe].Length;
        pts[dent] = new SKPoint(pts[dent].X * ds, pts[dent].Y * ds);
        pts[lobe] = new SKPoint(pts[lobe].X * ls, pts[lobe].Y * ls);
        // Quadratic curves through the midpoints, the vertices as control points: a smooth closed blob.
        SKPoint Mid(int i) => new((pts[i % n].X + pts[(i + 1) % n].X) / 2, (pts[i % n].Y + pts[(i + 1) % n].Y) / 2);
        p.MoveTo(Mid(0));
        for (int i = 1; i <= n; i++) { p.QuadTo(pts[i % n], Mid(i)); }
        p.Close();
    }
}
