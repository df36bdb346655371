namespace FastRcnn.Imaging;

/// <summary>What an image file's header says (<see cref="ImageIO.ReadHeader(string)"/>), without decoding pixels.</summary>
/// <param name="Width">Width of the decoded image: displayed orientation, <see cref="Orientation"/> applied.</param>
/// <param name="Height">Height of the decoded image, displayed orientation.</param>
/// <param name="Orientation">The EXIF orientation tag (<see cref="ExifOrientation"/>; 1 when there is none).</param>
/// <param name="Format">The encoding, e.g. "JPEG", "PNG".</param>
public readonly record struct ImageHeader(int Width, int Height, int Orientation, string Format)
{
    /// <summary>The size as stored in the file (before the orientation is applied).</summary>
    public (int Width, int Height) StoredSize => ExifOrientation.DisplayedSize(Width, Height, Orientation);

    /// <summary>Pixels of the decoded image, W·H.</summary>
    public long Pixels => (long)Width * Height;
}
