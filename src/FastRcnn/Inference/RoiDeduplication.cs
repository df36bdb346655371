using static TorchSharp.torch;

namespace FastRcnn.Inference;

/// <summary>
/// Test-time deduplication of RoIs (SPEC §6): proposals whose corners round to the same
/// feature-map cells are pooled into identical features, so each distinct one is scored once and the
/// scores are copied back. The key is exactly RoI pooling's own quantisation — batch index and the
/// four corners × spatial scale rounded half away from zero — so deduplication changes no output.
/// Box regression still decodes against every proposal's own box.
/// </summary>
public static class RoiDeduplication
{
    /// <summary>
    /// <paramref name="rois"/> (R,5) rows (batch_index, x1, y1, x2, y2) → the distinct rows (U,5), in
    /// order of first appearance, and <c>Inverse</c> (R) int64 with rois[i] ≡ Unique[Inverse[i]].
    /// </summary>
    public static (Tensor Unique, Tensor Inverse) Run(Tensor rois, double spatialScale)
    {
        if (rois.dim() != 2 || rois.shape[1] != 5)
            throw new ArgumentException($"rois must be (R,5), got [{string.Join(", ", rois.shape)}]", nameof(rois));
        using var scope = NewDisposeScope();
        int r = checked((int)rois.shape[0]);
        if (r == 0) return (rois.alias().MoveToOuterDisposeScope(), zeros(0, ScalarType.Int64).MoveToOuterDisposeScope());
        var rows = rois.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        var firstOf = new Dictionary<(int, int, int, int, int), int>(r);
        var keep = new List<long>(r);
        var inverse = new long[r];
        float scale = (float)spatialScale;
        for (int i = 0; i < r; i++)
        {
            // The corners as RoI pooling rounds them: float32 product, then half away from zero.
            int Cell(int c) => (int)MathF.Round(rows[5 * i + c] * scale, MidpointRounding.AwayFromZero);
            var key = ((int)rows[5 * i], Cell(1), Cell(2), Cell(3), Cell(4));
            if (!firstOf.TryGetValue(key, out int u))
            {
                u = keep.Count;
                firstOf[key] = u;
                keep.Add(i);
            }
            inverse[i] = u;
        }
        var unique = rois.index_select(0, tensor(keep.ToArray()));
        return (unique.MoveToOuterDisposeScope(), tensor(inverse).MoveToOuterDisposeScope());
    }
}
