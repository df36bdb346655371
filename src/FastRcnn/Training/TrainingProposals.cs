using FastRcnn.Data;
using FastRcnn.Modeling;
using FastRcnn.Proposals;

namespace FastRcnn.Training;

/// <summary>
/// How training names its proposal source (<see cref="TrainingOptions.Proposals"/>): a path to an
/// <c>.npz</c> proposal file, or <see cref="Auto"/> for selective search. Both are served by
/// <see cref="Proposals.DatasetProposals"/>: <see cref="Load"/> validates a file against the dataset, and
/// <c>ComputeOrLoad</c> runs selective search through the content-keyed cache.
/// </summary>
public static class TrainingProposals
{
    /// <summary>The proposal source that computes selective search (fast mode), cached.</summary>
    public const string Auto = "auto";

    /// <summary>
    /// Reads a proposal file for training on <paramref name="dataset"/> (<see cref="DatasetProposals.Import"/>):
    /// every image needs an entry; boxes reaching outside their image are clipped, and empty, swapped and wholly
    /// outside boxes dropped and counted by reason in the report (for the caller to show). An image left without
    /// a usable box is refused: it would give no background RoI (the paper samples backgrounds from proposals
    /// only), and a file where that happens is wrong for this dataset (another split, swapped columns, another scale).
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">A malformed file, images without an entry, or images without a usable box; the message names the file and an image id.</exception>
    public static (PrecomputedProposals Proposals, ProposalImportReport Report) Load(string npzPath, DetectionDataset dataset)
    {
        var (set, report) = DatasetProposals.Import(npzPath, dataset);
        if (report.ImagesWithoutBoxes is [var first, ..] all)
            throw new InvalidDataException($"{report.Path}: {all.Count} of {dataset.Images.Count} images of split '{dataset.Split}' have no usable proposal box, " +
                $"e.g. {first} (boxes are x1, y1, x2, y2 in pixels of the original image, x2 > x1 and y2 > y1); over the file: {report.Drops}");
        return (set.ToSource(), report);
    }
}
