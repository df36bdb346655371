using FastRcnn.IO;

namespace FastRcnn.Proposals;

/// <summary>
/// Proposal files: a NumPy <c>.npz</c> archive with one array per image, named by the image id, of shape
/// (R, 4), rows (x1, y1, x2, y2) in pixels of the original image (SPEC §2, width = x2 − x1), best-ranked
/// first. Written as float32; float64 is accepted on reading. Any tool with numpy reads and writes it
/// (docs/formats.md):
/// <code>
/// import numpy as np
/// boxes = dict(np.load("proposals.npz"))                 # image id → (R, 4) float32
/// np.savez("mine.npz", **{i: b.astype(np.float32) for i, b in boxes.items()})
/// </code>
/// </summary>
public static class ProposalFile
{
    /// <summary>Writes the proposals (image id → boxes) atomically: a temporary file, then a rename.</summary>
    /// <exception cref="ArgumentException">An image id that cannot be an archive entry name (empty, or with a backslash or NUL).</exception>
    public static void Write(string path, IEnumerable<KeyValuePair<string, ProposalSet>> proposals)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(proposals);
        var arrays = proposals.Select(p =>
        {
            CheckId(p.Key);
            return KeyValuePair.Create(p.Key, new NpyArray([p.Value.Count, 4], p.Value.Boxes[..(4 * p.Value.Count)]));
        });
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        Npz.Write(path, arrays);
    }

    /// <summary>
    /// Reads every array of a proposal file as R×4 values, unclipped. Arrays must be (R, 4), or empty
    /// ((0,) or (0, 4)), and hold finite numbers only.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a readable .npz, an array of another shape or with a NaN or infinity; the message names the file and image id.</exception>
    public static IReadOnlyDictionary<string, float[]> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (id, array) in Npz.Read(path))
        {
            bool empty = array.Shape is [0] or [0, 4];
            if (!empty && (array.Shape.Length != 2 || array.Shape[1] != 4))
                throw new InvalidDataException($"{path}: image '{id}': proposals must have shape (R, 4) (x1, y1, x2, y2), got ({string.Join(", ", array.Shape)})");
            var data = array.Data;
            for (int i = 0; i < data.Length; i++)
            {
                if (!float.IsFinite(data[i]))
                    throw new InvalidDataException($"{path}: image '{id}': box {i / 4} has a non-finite coordinate ({data[i]}) at column {i % 4}");
            }
            result[id] = data;
        }
        return result;
    }

    /// <summary>
    /// Clips R×4 boxes to a <paramref name="width"/>×<paramref name="height"/> image and drops those left
    /// without area (x2 ≤ x1 or y2 ≤ y1), keeping the order. Returns the kept boxes and the two counts
    /// (the dropped boxes by reason: <see cref="SanitizeWithReasons"/>).
    /// </summary>
    public static (ProposalSet Boxes, int Clipped, int Dropped) Sanitize(ReadOnlySpan<float> boxes, int width, int height)
    {
        var (kept, clipped, drops) = SanitizeWithReasons(boxes, width, height);
        return (kept, clipped, drops.Total);
    }

    /// <summary>
    /// <see cref="Sanitize"/> with the dropped boxes counted by reason: swapped corners (x2 &lt; x1 or y2 &lt; y1),
    /// empty (x2 = x1 or y2 = y1), or wholly outside the image (no area left after clipping). Boxes reaching
    /// outside the image (negative coordinates, or past its right or bottom edge) are clipped and counted.
    /// </summary>
    public static (ProposalSet Boxes, int Clipped, ProposalDrops Drops) SanitizeWithReasons(ReadOnlySpan<float> boxes, int width, int height)
    {
        if (boxes.Length % 4 != 0) throw new ArgumentException("Boxes must be R×4 values.", nameof(boxes));
        var kept = new float[boxes.Length];
        int n = 0, clipped = 0, swapped = 0, empty = 0, outside = 0;
        for (int i = 0; i < boxes.Length; i += 4)
        {
            if (boxes[i + 2] < boxes[i] || boxes[i + 3] < boxes[i + 1]) { swapped++; continue; }
            if (boxes[i + 2] == boxes[i] || boxes[i + 3] == boxes[i + 1]) { empty++; continue; }
            float x1 = Math.Clamp(boxes[i], 0, width), y1 = Math.Clamp(boxes[i + 1], 0, height);
            float x2 = Math.Clamp(boxes[i + 2], 0, width), y2 = Math.Clamp(boxes[i + 3], 0, height);
            if (!(x2 > x1 && y2 > y1)) { outside++; continue; }
            if (x1 != boxes[i] || y1 != boxes[i + 1] || x2 != boxes[i + 2] || y2 != boxes[i + 3]) clipped++;
            kept[4 * n] = x1;
            kept[4 * n + 1] = y1;
            kept[4 * n + 2] = x2;
            kept[4 * n + 3] = y2;
            n++;
        }
        return (new ProposalSet(kept[..(4 * n)], n, width, height), clipped, new ProposalDrops(empty, swapped, outside));
    }

    private static void CheckId(string id)
    {
        if (string.IsNullOrEmpty(id) || id.Contains('\\') || id.Contains('\0'))
            throw new ArgumentException($"image id '{id}' cannot name an .npz entry (empty, or contains a backslash or NUL)");
    }
}
