namespace FastRcnn.Proposals;

/// <summary>
/// An integer bounding box of pixels in the continuous convention of SPEC §2: it covers pixel
/// columns X1 … X2 − 1 and rows Y1 … Y2 − 1, so its width is X2 − X1 (no "+1").
/// </summary>
public readonly record struct PixelBox(int X1, int Y1, int X2, int Y2)
{
    /// <summary>Width X2 − X1.</summary>
    public int Width => X2 - X1;

    /// <summary>Height Y2 − Y1.</summary>
    public int Height => Y2 - Y1;

    /// <summary>Area (X2 − X1)·(Y2 − Y1), as a long so large images cannot overflow.</summary>
    public long Area => (long)Width * Height;

    /// <summary>The smallest box containing both, BB(a ∪ b).</summary>
    public static PixelBox Union(PixelBox a, PixelBox b) =>
        new(Math.Min(a.X1, b.X1), Math.Min(a.Y1, b.Y1), Math.Max(a.X2, b.X2), Math.Max(a.Y2, b.Y2));
}
