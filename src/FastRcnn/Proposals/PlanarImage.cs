namespace FastRcnn.Proposals;

/// <summary>
/// An 8-bit image stored as C planes of H×W bytes (plane c starts at <c>c·H·W</c>; pixel (x, y)
/// of plane c is <c>Data[c·H·W + y·W + x]</c>). Selective search works on these: every colour
/// space of <see cref="ColorSpaces"/> maps its channels onto the full 0–255 range.
/// </summary>
public sealed class PlanarImage
{
    /// <summary>Wraps <paramref name="data"/> (C·H·W bytes, not copied).</summary>
    public PlanarImage(byte[] data, int channels, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (data.Length != (long)channels * width * height)
            throw new ArgumentException(
                $"Expected {(long)channels * width * height} bytes for {channels}×{height}×{width}, got {data.Length}.", nameof(data));
        Data = data;
        Channels = channels;
        Width = width;
        Height = height;
    }

    /// <summary>Creates a zeroed image.</summary>
    public PlanarImage(int channels, int width, int height)
        : this(new byte[checked(channels * width * height)], channels, width, height)
    {
    }

    /// <summary>The C·H·W bytes, plane after plane.</summary>
    public byte[] Data { get; }

    /// <summary>Number of channels C (1 or 3 for the colour spaces here).</summary>
    public int Channels { get; }

    /// <summary>Width W in pixels.</summary>
    public int Width { get; }

    /// <summary>Height H in pixels.</summary>
    public int Height { get; }

    /// <summary>Pixels per plane, H·W.</summary>
    public int PixelCount => Width * Height;

    /// <summary>Plane <paramref name="channel"/> (H·W bytes, row-major).</summary>
    public Span<byte> Plane(int channel)
    {
        if ((uint)channel >= (uint)Channels)
            throw new ArgumentOutOfRangeException(nameof(channel), channel, $"Image has {Channels} channels.");
        return Data.AsSpan(channel * PixelCount, PixelCount);
    }
}
