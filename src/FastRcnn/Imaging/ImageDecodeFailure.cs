namespace FastRcnn.Imaging;

/// <summary>Why an image could not be decoded (<see cref="ImageDecodeException.Failure"/>).</summary>
public enum ImageDecodeFailure
{
    /// <summary>The data is corrupt, or the decoder failed for another reason.</summary>
    Corrupt,

    /// <summary>The data is empty (0 bytes).</summary>
    Empty,

    /// <summary>Not a recognised image format, or too short for a header.</summary>
    NotAnImage,

    /// <summary>The header gives a size that is not positive.</summary>
    InvalidSize,

    /// <summary>The header declares more pixels than <see cref="ImageIO.MaxPixels"/> (a decompression bomb, or an image too large to decode).</summary>
    TooManyPixels,

    /// <summary>The data ends before the image does.</summary>
    Truncated,
}
