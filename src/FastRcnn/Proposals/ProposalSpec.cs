using FastRcnn.Data;

namespace FastRcnn.Proposals;

/// <summary>The kinds of proposal source a user can name.</summary>
public enum ProposalSpecKind
{
    /// <summary>An <c>.npz</c> proposal file (<see cref="ProposalFile"/>), made by this library or any other tool.</summary>
    File,

    /// <summary>Selective search (fast mode) through the content-keyed cache: <c>auto</c>.</summary>
    SelectiveSearch,

    /// <summary>The model's own region proposal network (Faster R-CNN): <c>rpn</c>.</summary>
    Rpn,
}

/// <summary>
/// The one place that turns what a user writes for proposals — a path to an <c>.npz</c> file, <c>auto</c> (selective
/// search) or <c>rpn</c> (a Faster R-CNN model's own proposals) — into a proposal source. Every command that takes
/// <c>--proposals</c> parses it here, and training records <see cref="ToString"/> in its configuration.
/// </summary>
public sealed record ProposalSpec(ProposalSpecKind Kind, string? Path = null)
{
    /// <summary>The word for selective search.</summary>
    public const string Auto = "auto";

    /// <summary>The word for a model's region proposal network.</summary>
    public const string RpnWord = "rpn";

    /// <summary>Selective search through the cache.</summary>
    public static ProposalSpec SelectiveSearch { get; } = new(ProposalSpecKind.SelectiveSearch);

    /// <summary>A model's region proposal network.</summary>
    public static ProposalSpec Rpn { get; } = new(ProposalSpecKind.Rpn);

    /// <summary>
    /// Parses <c>auto</c>, <c>rpn</c> (case-insensitive) or a file path (made absolute, so that a recorded configuration
    /// still names it from another directory).
    /// </summary>
    /// <exception cref="ArgumentException">An empty text.</exception>
    public static ProposalSpec Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new ArgumentException($"a proposal source is a .npz file, '{Auto}' (selective search) or '{RpnWord}' (a Faster R-CNN model's own); got nothing");
        text = text.Trim();
        if (text.Equals(Auto, StringComparison.OrdinalIgnoreCase)) return SelectiveSearch;
        if (text.Equals(RpnWord, StringComparison.OrdinalIgnoreCase)) return Rpn;
        return new ProposalSpec(ProposalSpecKind.File, System.IO.Path.GetFullPath(text));
    }

    /// <summary>Whether the proposals come from outside the model (a file or selective search).</summary>
    public bool IsExternal => Kind != ProposalSpecKind.Rpn;

    /// <summary>
    /// The external proposals of every image of <paramref name="dataset"/>: a file is read and validated against the
    /// dataset (<see cref="DatasetProposals.Load"/>), selective search is computed or read from the cache in
    /// <paramref name="cacheDir"/> (<see cref="DatasetProposals.ComputeOrLoad"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The spec is <c>rpn</c>: those proposals come from the model.</exception>
    /// <exception cref="InvalidDataException">A malformed file, or one that misses images of the dataset (named in the message).</exception>
    public PrecomputedProposals Open(DetectionDataset dataset, string? cacheDir = null, IProgress<ProposalProgress>? progress = null,
        CancellationToken cancel = default) => Kind switch
    {
        ProposalSpecKind.File => DatasetProposals.Load(Path!, dataset),
        ProposalSpecKind.SelectiveSearch => DatasetProposals.ComputeOrLoad(dataset, cacheDir: cacheDir, progress: progress, cancel: cancel),
        _ => throw new InvalidOperationException($"'{RpnWord}' proposals come from a Faster R-CNN model, not from a file or selective search"),
    };

    /// <summary><c>auto</c>, <c>rpn</c> or the file's path.</summary>
    public override string ToString() => Kind switch
    {
        ProposalSpecKind.File => Path!,
        ProposalSpecKind.SelectiveSearch => Auto,
        _ => RpnWord,
    };
}
