using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.Matching;

/// <summary>
/// Size and balance of a <see cref="BalancedSampler"/> mini-batch.
/// </summary>
/// <param name="BatchSize">B, boxes sampled per image at most (RPN 256, RoI heads 64).</param>
/// <param name="PositiveFraction">Share of B reserved for positives (RPN 0.5, RoI heads 0.25).</param>
public sealed record BalancedSamplerOptions(int BatchSize, double PositiveFraction)
{
    /// <summary>The RPN's (py-faster-rcnn <c>RPN_BATCHSIZE</c>, <c>RPN_FG_FRACTION</c>): 256 anchors, half positive.</summary>
    public static BalancedSamplerOptions Rpn { get; } = new(256, 0.5);

    /// <summary>Fast R-CNN's RoI heads (SPEC §5): 64 RoIs, a quarter foreground.</summary>
    public static BalancedSamplerOptions RoiHeads { get; } = new(64, 0.25);

    /// <summary>Positive quota: <c>round(PositiveFraction · BatchSize)</c>, halves away from zero (as the original).</summary>
    public int PositiveQuota => (int)Math.Round(PositiveFraction * BatchSize, MidpointRounding.AwayFromZero);

    /// <summary>Throws <see cref="ArgumentException"/> unless B ≥ 1 and the fraction lies in [0, 1].</summary>
    public void Validate()
    {
        if (BatchSize < 1) throw new ArgumentException($"The sampler's batch size must be positive, got {BatchSize}.");
        if (PositiveFraction is not (>= 0 and <= 1))
            throw new ArgumentException($"The sampler's positive fraction must lie in [0, 1], got {PositiveFraction}.");
    }
}

/// <summary>
/// Indices sampled from one image's labels: <paramref name="Positive"/> (F) and <paramref name="Negative"/> (B')
/// int64, each in ascending label order before the draw (a draw's order is the random permutation's).
/// </summary>
public sealed record BalancedSample(Tensor Positive, Tensor Negative)
{
    /// <summary>F, the positives drawn.</summary>
    public int PositiveCount => (int)Positive.shape[0];

    /// <summary>The negatives drawn.</summary>
    public int NegativeCount => (int)Negative.shape[0];
}

/// <summary>
/// Balanced positive/negative sampling of one image's boxes (py-faster-rcnn's anchor and proposal target
/// layers, torchvision's <c>BalancedPositiveNegativeSampler</c>): from labels (1 positive, 0 negative,
/// −1 ignored; <see cref="MatchLabel"/>), draws up to <c>round(fraction · B)</c> positives without replacement,
/// then negatives fill B − (positives drawn), without replacement. Fewer positives mean more negatives.
/// </summary>
/// <remarks>
/// A draw from n candidates of a quota k is <c>randperm(n)[:k]</c> from the sampler's generator, and only when
/// n &gt; k (otherwise every candidate is taken in ascending order and the generator is not used): positives
/// first, then negatives. This is exactly the call sequence of the original <c>RoiSampler</c>, so the same seed
/// gives the same sample. The generator is the sampler's own (seeded, <see cref="Reseed"/>) or one the caller
/// owns and shares.
/// </remarks>
public sealed class BalancedSampler : IDisposable
{
    private readonly Generator _generator;
    private readonly bool _ownsGenerator;

    /// <summary>A sampler whose draws come from its own generator seeded with <paramref name="seed"/>.</summary>
    public BalancedSampler(BalancedSamplerOptions options, long seed = 0)
        : this(options, new Generator((ulong)seed), ownsGenerator: true)
    {
    }

    /// <summary>A sampler drawing from <paramref name="generator"/>, which the caller owns (and disposes).</summary>
    public BalancedSampler(BalancedSamplerOptions options, Generator generator)
        : this(options, generator, ownsGenerator: false)
    {
    }

    private BalancedSampler(BalancedSamplerOptions options, Generator generator, bool ownsGenerator)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(generator);
        options.Validate();
        Options = options;
        _generator = generator;
        _ownsGenerator = ownsGenerator;
    }

    public BalancedSamplerOptions Options { get; }

    /// <summary>Samples from <paramref name="labels"/> (R) integer (see the class summary).</summary>
    public BalancedSample Sample(Tensor labels)
    {
        if (labels.dim() != 1 || labels.is_floating_point())
            throw new ArgumentException($"Labels must be a 1-D integer tensor, got {labels.dtype} ({string.Join(",", labels.shape)}).", nameof(labels));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using Scalar positive = MatchLabel.Foreground.ToScalar(), negative = MatchLabel.Background.ToScalar();
        var pos = Draw(labels.eq(positive).nonzero().reshape(-1), Options.PositiveQuota);
        var neg = Draw(labels.eq(negative).nonzero().reshape(-1), Options.BatchSize - (int)pos.shape[0]);
        return new BalancedSample(pos.MoveToOuterDisposeScope(), neg.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Restarts the draws from <paramref name="seed"/> (<c>manual_seed</c> on the generator, the caller's too when
    /// shared): a trainer reseeds every iteration, so a resumed run draws what an uninterrupted one would.
    /// </summary>
    public void Reseed(long seed) => _generator.manual_seed(seed);

    public void Dispose()
    {
        if (_ownsGenerator) _generator.Dispose();
    }

    /// <summary>Up to <paramref name="count"/> of <paramref name="candidates"/>, drawn without replacement.</summary>
    private Tensor Draw(Tensor candidates, int count)
    {
        long n = candidates.shape[0];
        if (n <= count) return candidates;
        return candidates.index_select(0, randperm(n, generator: _generator).narrow(0, 0, count).to(candidates.device));
    }
}
