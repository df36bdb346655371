namespace FastRcnn.Training;

/// <summary>
/// Every random draw of a training run as a pure function of (run seed, stream, index), so that a run
/// resumed at iteration i draws exactly what the uninterrupted run drew: the epoch order of the images,
/// each sampled image's flips, transpose, channel order and scale, the RoI sampler's generator and the dropout generator are all
/// re-derived from the seed instead of carried along. Mixing is SplitMix64's finaliser (Steele et al.
/// 2014), which is fully specified, so the numbers are the same on every platform and .NET version.
/// </summary>
public static class SeedSequence
{
    /// <summary>The independent streams of a training run.</summary>
    public enum Stream : ulong
    {
        /// <summary>Image order of epoch e (index e).</summary>
        Shuffle = 1,

        /// <summary>Flip of the image at stream position p = (i − 1)·N + slot (index p).</summary>
        Flip = 2,

        /// <summary>Scale drawn for the image at batch position p (index p).</summary>
        Scale = 3,

        /// <summary>The RoI sampler's generator at iteration i (index i).</summary>
        Sampler = 4,

        /// <summary>libtorch's global generator (dropout) at iteration i (index i).</summary>
        Dropout = 5,

        /// <summary>Transpose of the image at stream position p (index p).</summary>
        Transpose = 6,

        /// <summary>Top–bottom flip of the image at stream position p (index p).</summary>
        VerticalFlip = 7,

        /// <summary>Channel order of the image at stream position p (index p).</summary>
        Channels = 8,

        /// <summary>
        /// The key of the image at stream position p (index p; <c>ImageTargets.SampleKey</c>): its RoI and anchor sampling
        /// and its dropout masks, so that they do not depend on which process or batch slot takes the image.
        /// </summary>
        ImageKey = 9,
    }

    /// <summary>A 63-bit non-negative seed derived from (<paramref name="seed"/>, <paramref name="stream"/>, <paramref name="index"/>).</summary>
    public static long Derive(long seed, Stream stream, long index) =>
        (long)(Mix(Mix(Mix((ulong)seed) ^ (ulong)stream * 0xD1B54A32D192ED03UL) ^ (ulong)index) >> 1);

    /// <summary>A uniform double in [0, 1) derived like <see cref="Derive"/> (53 random bits).</summary>
    public static double Unit(long seed, Stream stream, long index) =>
        (Derive(seed, stream, index) >> 10) * (1.0 / (1L << 53));

    /// <summary>A uniform integer in [0, <paramref name="count"/>) derived like <see cref="Derive"/>.</summary>
    public static int Below(long seed, Stream stream, long index, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return (int)(Unit(seed, stream, index) * count);
    }

    /// <summary>A permutation of 0..<paramref name="count"/>−1 (Fisher–Yates driven by a SplitMix64 stream).</summary>
    public static int[] Permutation(long seed, Stream stream, long index, int count)
    {
        var order = Enumerable.Range(0, count).ToArray();
        ulong state = (ulong)Derive(seed, stream, index);
        for (int i = count - 1; i > 0; i--)
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong r = Mix(state);
            int j = (int)((r >> 11) * (1.0 / (1UL << 53)) * (i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
