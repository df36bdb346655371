namespace FastRcnn.Training;

/// <summary>
/// How training names its proposal source (<see cref="TrainingOptions.Proposals"/>): a path to an
/// <c>.npz</c> proposal file, or <see cref="Auto"/> for selective search. Both are served by
/// <see cref="Proposals.DatasetProposals"/>: <c>Load</c> validates a file against the dataset, and
/// <c>ComputeOrLoad</c> runs selective search through the content-keyed cache.
/// </summary>
public static class TrainingProposals
{
    /// <summary>The proposal source that computes selective search (fast mode), cached.</summary>
    public const string Auto = "auto";
}
