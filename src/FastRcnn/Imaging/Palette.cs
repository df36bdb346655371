namespace FastRcnn.Imaging;

/// <summary>An 8-bit RGB colour.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    /// <summary>Black (0,0,0).</summary>
    public static Rgb Black => new(0, 0, 0);

    /// <summary>White (255,255,255).</summary>
    public static Rgb White => new(255, 255, 255);

    /// <summary>Perceived brightness 0–255 (ITU-R BT.601 weights 0.299, 0.587, 0.114).</summary>
    public double Luma => 0.299 * R + 0.587 * G + 0.114 * B;

    /// <inheritdoc/>
    public override string ToString() => $"#{R:X2}{G:X2}{B:X2}";
}

/// <summary>
/// The deterministic colour of each class for drawing: class c ≥ 1 takes entry (c−1) of a fixed
/// 20-colour table (Tableau-20 order, strong hues first); classes beyond 20 take golden-ratio
/// spaced hues. Class 0 (background) is grey. The same class always gets the same colour.
/// </summary>
public static class Palette
{
    private static readonly Rgb[] Table =
    {
        new(31, 119, 180), new(255, 127, 14), new(44, 160, 44), new(214, 39, 40), new(148, 103, 189),
        new(140, 86, 75), new(227, 119, 194), new(127, 127, 127), new(188, 189, 34), new(23, 190, 207),
        new(174, 199, 232), new(255, 187, 120), new(152, 223, 138), new(255, 152, 150), new(197, 176, 213),
        new(196, 156, 148), new(247, 182, 210), new(199, 199, 199), new(219, 219, 141), new(158, 218, 229),
    };

    /// <summary>Number of entries of the fixed table.</summary>
    public static int TableSize => Table.Length;

    /// <summary>The colour of class <paramref name="classId"/> (0 = background, objects 1..K).</summary>
    public static Rgb ForClass(int classId)
    {
        if (classId <= 0)
            return new Rgb(160, 160, 160);
        if (classId <= Table.Length)
            return Table[classId - 1];
        // Golden-ratio hue walk: well separated, deterministic, saturation/value fixed.
        double hue = (classId * 0.6180339887498949) % 1.0;
        return FromHsv(hue, 0.75, 0.9);
    }

    /// <summary>HSV (all in [0,1]) to RGB.</summary>
    internal static Rgb FromHsv(double h, double s, double v)
    {
        double h6 = h * 6;
        int sector = (int)Math.Floor(h6) % 6;
        double f = h6 - Math.Floor(h6);
        double p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
        var (r, g, b) = sector switch
        {
            0 => (v, t, p),
            1 => (q, v, p),
            2 => (p, v, t),
            3 => (p, q, v),
            4 => (t, p, v),
            _ => (v, p, q),
        };
        return new Rgb(ToByte(r), ToByte(g), ToByte(b));
    }

    private static byte ToByte(double x) => (byte)Math.Clamp((int)Math.Round(x * 255), 0, 255);
}
