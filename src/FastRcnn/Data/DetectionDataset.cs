namespace FastRcnn.Data;

/// <summary>
/// A detection dataset split: K object classes and the images with their ground truth.
/// </summary>
/// <param name="ClassNames">K + 1 names; index 0 is <see cref="Background"/>, object classes are 1..K.</param>
/// <param name="Images">The images in split order.</param>
/// <param name="Split">The split name (VOC image set, e.g. "trainval"; COCO e.g. "val2017").</param>
/// <param name="Report">What the loader fixed or skipped on the way.</param>
/// <param name="Source">The directory or file the dataset was read from (empty when built in memory).</param>
/// <param name="CategoryIds">
/// The dataset's own id of each object class 1..K (entry k − 1), as COCO files number their categories
/// (sparse, e.g. 1..90); null when the dataset has none, and the class index is the id (VOC).
/// </param>
public sealed record DetectionDataset(
    IReadOnlyList<string> ClassNames,
    IReadOnlyList<ImageRecord> Images,
    string Split,
    LoadReport Report,
    string Source = "",
    IReadOnlyList<long>? CategoryIds = null)
{
    /// <summary>The name of class 0.</summary>
    public const string Background = "__background__";

    /// <summary>K, the number of object classes (background excluded).</summary>
    public int NumClasses => ClassNames.Count - 1;

    /// <summary>The total number of objects over all images.</summary>
    public int NumObjects => Images.Sum(i => i.Objects.Count);

    /// <summary>The category id written for class <paramref name="classIndex"/> (1..K) in COCO results files.</summary>
    public long CategoryIdOf(int classIndex)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classIndex, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(classIndex, NumClasses);
        return CategoryIds is null ? classIndex : CategoryIds[classIndex - 1];
    }

    /// <summary>The class index 1..K of a category id (see <see cref="CategoryIds"/>), or −1.</summary>
    public int ClassIndexOfCategory(long categoryId)
    {
        if (CategoryIds is null) return categoryId >= 1 && categoryId <= NumClasses ? (int)categoryId : -1;
        for (int k = 0; k < CategoryIds.Count; k++)
            if (CategoryIds[k] == categoryId) return k + 1;
        return -1;
    }

    /// <summary>The class index of a name, or −1.</summary>
    public int ClassIndexOf(string name)
    {
        for (int k = 1; k < ClassNames.Count; k++)
        {
            if (string.Equals(ClassNames[k], name, StringComparison.Ordinal))
            {
                return k;
            }
        }
        return -1;
    }

    /// <summary>
    /// Builds a <c>[__background__, names…]</c> class list, rejecting empty, duplicate or reserved names.
    /// </summary>
    public static IReadOnlyList<string> MakeClassNames(IEnumerable<string> objectClasses)
    {
        var list = new List<string> { Background };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in objectClasses)
        {
            if (string.IsNullOrWhiteSpace(name) || name != name.Trim())
            {
                throw new ArgumentException($"class name '{name}' is empty or has surrounding whitespace");
            }
            if (name == Background)
            {
                throw new ArgumentException($"'{Background}' is reserved for class 0");
            }
            if (!seen.Add(name))
            {
                throw new ArgumentException($"class name '{name}' appears twice");
            }
            list.Add(name);
        }
        return list.AsReadOnly();
    }
}

/// <summary>
/// What a loader repaired or dropped. All counts are over the loaded split.
/// </summary>
/// <param name="ClippedBoxes">Boxes that reached outside the image and were clipped to it (includes <paramref name="ZeroCoordinateBoxes"/>).</param>
/// <param name="ZeroCoordinateBoxes">VOC boxes with xmin = 0 or ymin = 0 (x1 = −1 after the 1-based conversion; the unsigned-underflow crash of the original), clipped to 0.</param>
/// <param name="SkippedDegenerateBoxes">Boxes dropped because x2 ≤ x1 or y2 ≤ y1 after clipping (only with <see cref="DatasetLoadOptions.SkipDegenerateBoxes"/>).</param>
/// <param name="SkippedImages">Images dropped because the file was missing or unreadable (only with <see cref="DatasetLoadOptions.SkipUnreadableImages"/>).</param>
/// <param name="SizeMismatches">Images whose annotated size disagreed with the file; the file's size was used.</param>
/// <param name="Notes">One human-readable line per fix or skip (capped at <see cref="MaxNotes"/>).</param>
public sealed record LoadReport(
    int ClippedBoxes,
    int ZeroCoordinateBoxes,
    int SkippedDegenerateBoxes,
    int SkippedImages,
    int SizeMismatches,
    IReadOnlyList<string> Notes)
{
    /// <summary>The most notes kept; counts keep counting past it.</summary>
    public const int MaxNotes = 200;

    /// <summary>A report with nothing to say.</summary>
    public static LoadReport Empty { get; } = new(0, 0, 0, 0, 0, []);

    /// <summary>True when nothing was fixed or skipped.</summary>
    public bool IsClean => ClippedBoxes == 0 && SkippedDegenerateBoxes == 0 && SkippedImages == 0 && SizeMismatches == 0;

    /// <inheritdoc />
    public override string ToString() =>
        $"clipped boxes {ClippedBoxes} (xmin/ymin = 0: {ZeroCoordinateBoxes}), skipped degenerate boxes {SkippedDegenerateBoxes}, " +
        $"skipped images {SkippedImages}, size mismatches {SizeMismatches}";
}

/// <summary>Mutable counters behind a <see cref="LoadReport"/>; thread-safe.</summary>
internal sealed class LoadReportBuilder
{
    private readonly object _gate = new();
    private readonly List<string> _notes = [];
    private int _clipped, _zero, _degenerate, _images, _sizes;

    public void Clipped(bool zeroCoordinate, string note)
    {
        lock (_gate) { _clipped++; if (zeroCoordinate) { _zero++; } AddNote(note); }
    }

    public void Degenerate(string note) { lock (_gate) { _degenerate++; AddNote(note); } }

    public void SkippedImage(string note) { lock (_gate) { _images++; AddNote(note); } }

    public void SizeMismatch(string note) { lock (_gate) { _sizes++; AddNote(note); } }

    public LoadReport Build()
    {
        lock (_gate) { return new LoadReport(_clipped, _zero, _degenerate, _images, _sizes, _notes.ToArray()); }
    }

    private void AddNote(string note)
    {
        if (_notes.Count < LoadReport.MaxNotes) { _notes.Add(note); }
    }
}
