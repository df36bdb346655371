using static TorchSharp.torch;

namespace FastRcnn.Proposals;

/// <summary>
/// Region proposals of one image in rank order (best first): R boxes (x1, y1, x2, y2) in float32
/// pixel coordinates of the input image (SPEC §2: width = x2 − x1), stored as R×4 values.
/// </summary>
public sealed class ProposalSet
{
    /// <summary>Wraps <paramref name="boxes"/> (at least 4·<paramref name="count"/> values, not copied).</summary>
    public ProposalSet(float[] boxes, int count, int imageWidth, int imageHeight, int strategyCount = 0)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (boxes.Length < 4L * count) throw new ArgumentException($"Need {4L * count} values for {count} boxes, got {boxes.Length}.", nameof(boxes));
        Boxes = boxes;
        Count = count;
        ImageWidth = imageWidth;
        ImageHeight = imageHeight;
        StrategyCount = strategyCount;
    }

    /// <summary>The boxes, R×4 values (x1, y1, x2, y2), row i at 4i.</summary>
    public float[] Boxes { get; }

    /// <summary>Number of boxes R.</summary>
    public int Count { get; }

    /// <summary>Width of the image the boxes refer to.</summary>
    public int ImageWidth { get; }

    /// <summary>Height of the image the boxes refer to.</summary>
    public int ImageHeight { get; }

    /// <summary>Strategies whose hierarchies were combined (0 when unknown).</summary>
    public int StrategyCount { get; }

    /// <summary>Box <paramref name="i"/> as (x1, y1, x2, y2).</summary>
    public ReadOnlySpan<float> Box(int i)
    {
        if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(i), i, $"There are {Count} boxes.");
        return Boxes.AsSpan(4 * i, 4);
    }

    /// <summary>The first <paramref name="count"/> boxes (or all, when there are fewer).</summary>
    public ProposalSet Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int r = Math.Min(count, Count);
        return new ProposalSet(Boxes[..(4 * r)], r, ImageWidth, ImageHeight, StrategyCount);
    }

    /// <summary>The boxes as a new float32 CPU tensor (R,4).</summary>
    public Tensor ToTensor() => tensor(Boxes.AsSpan(0, 4 * Count).ToArray(), [Count, 4], ScalarType.Float32);
}
