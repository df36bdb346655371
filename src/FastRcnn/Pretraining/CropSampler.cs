using FastRcnn.Data;
using FastRcnn.Data.Transforms;
using FastRcnn.Evaluation;
using FastRcnn.Imaging;
using static TorchSharp.torch;

namespace FastRcnn.Pretraining;

/// <summary>
/// Draws labelled square crops from a detection dataset for <see cref="CropPretrainer"/>: jittered
/// ground-truth boxes (label = the object's class) and random boxes that overlap no object much
/// (label 0, background), each resized to S×S and, when asked, rotated by a multiple of 90°, flipped
/// and given a random permutation of its colour channels. Images are decoded once and kept as uint8.
/// </summary>
public sealed class CropSampler : IDisposable
{
    private readonly List<(Tensor Pixels, BoundingBox[] Boxes, int[] Classes)> _images = [];
    private readonly CropPretrainingOptions _options;
    private readonly Random _rng;

    /// <summary>Decodes every image of <paramref name="dataset"/> that has at least one non-difficult object.</summary>
    public CropSampler(DetectionDataset dataset, CropPretrainingOptions options, long seed)
    {
        _options = options;
        _rng = new Random(unchecked((int)seed) ^ 0x5eed);
        foreach (var image in dataset.Images)
        {
            var objects = image.Objects.Where(o => !o.Difficult && !o.Crowd).ToArray();
            if (objects.Length == 0) continue;
            _images.Add((ImageIO.ReadTensor(image.ImagePath), objects.Select(o => o.Box).ToArray(), objects.Select(o => o.ClassIndex).ToArray()));
        }
        if (_images.Count == 0) throw new ArgumentException($"{dataset.Source} ({dataset.Split}): no image with a non-difficult object to crop", nameof(dataset));
        NumClasses = dataset.NumClasses;
    }

    /// <summary>K, object classes; labels run 0 (background) … K.</summary>
    public int NumClasses { get; }

    /// <summary>Images held.</summary>
    public int Images => _images.Count;

    /// <summary>
    /// <paramref name="count"/> crops (count, 3, size, size) uint8 RGB and their labels (count) int64;
    /// a share <see cref="CropPretrainingOptions.BackgroundFraction"/> of them background.
    /// </summary>
    public (Tensor Crops, Tensor Labels) Sample(int count, int size, bool augment)
    {
        using var scope = NewDisposeScope();
        var crops = new Tensor[count];
        var labels = new long[count];
        for (int i = 0; i < count; i++)
        {
            var (pixels, boxes, classes) = _images[_rng.Next(_images.Count)];
            int h = (int)pixels.shape[1], w = (int)pixels.shape[2];
            BoundingBox box;
            if (_rng.NextDouble() < _options.BackgroundFraction && Background(w, h, boxes) is { } bg)
            {
                box = bg;
                labels[i] = 0;
            }
            else
            {
                int k = _rng.Next(boxes.Length);
                box = Jitter(boxes[k], w, h);
                labels[i] = classes[k];
            }
            var crop = Crop(pixels, box, size);
            crops[i] = augment ? Augment(crop) : crop;
        }
        return (stack(crops).MoveToOuterDisposeScope(), tensor(labels).MoveToOuterDisposeScope());
    }

    private static Tensor Crop(Tensor pixels, BoundingBox box, int size)
    {
        int h = (int)pixels.shape[1], w = (int)pixels.shape[2];
        int x1 = Math.Clamp((int)MathF.Floor(box.X1), 0, w - 1), y1 = Math.Clamp((int)MathF.Floor(box.Y1), 0, h - 1);
        int x2 = Math.Clamp((int)MathF.Ceiling(box.X2), x1 + 1, w), y2 = Math.Clamp((int)MathF.Ceiling(box.Y2), y1 + 1, h);
        using var region = pixels.slice(1, y1, y2, 1).slice(2, x1, x2, 1);
        return ImageScaling.Resize(region, size, size);
    }

    /// <summary>A box around <paramref name="gt"/> (centre shift and log-size noise) with IoU ≥ the jitter bound, inside the image.</summary>
    private BoundingBox Jitter(BoundingBox gt, int w, int h)
    {
        float gw = gt.X2 - gt.X1, gh = gt.Y2 - gt.Y1;
        for (int attempt = 0; attempt < 10; attempt++)
        {
            float cx = (gt.X1 + gt.X2) / 2 + (float)(Gaussian() * 0.08 * gw), cy = (gt.Y1 + gt.Y2) / 2 + (float)(Gaussian() * 0.08 * gh);
            float bw = gw * MathF.Exp((float)(Gaussian() * 0.12)), bh = gh * MathF.Exp((float)(Gaussian() * 0.12));
            var box = new BoundingBox(cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2).ClipTo(w, h);
            if (box.IsValid && EvaluationMath.IoU(box, gt) >= _options.JitterMinIoU) return box;
        }
        return gt;
    }

    /// <summary>A random box (side log-uniform in [16, min(W, H)/2], aspect up to 1.65) overlapping no object by the background bound, or null.</summary>
    private BoundingBox? Background(int w, int h, BoundingBox[] boxes)
    {
        double maxSide = Math.Max(17, Math.Min(w, h) / 2.0);
        for (int attempt = 0; attempt < 20; attempt++)
        {
            double side = Math.Exp(Math.Log(16) + _rng.NextDouble() * (Math.Log(maxSide) - Math.Log(16)));
            double aspect = Math.Exp((_rng.NextDouble() * 2 - 1) * 0.5);
            float bw = (float)Math.Min(w, side * Math.Sqrt(aspect)), bh = (float)Math.Min(h, side / Math.Sqrt(aspect));
            float x = (float)(_rng.NextDouble() * (w - bw)), y = (float)(_rng.NextDouble() * (h - bh));
            var box = new BoundingBox(x, y, x + bw, y + bh);
            if (boxes.All(b => EvaluationMath.IoU(box, b) < _options.BackgroundMaxIoU)) return box;
        }
        return null;
    }

    /// <summary>One of the 8 rotations/reflections of the square, and a permutation of R, G, B.</summary>
    private Tensor Augment(Tensor crop)
    {
        int turns = _rng.Next(4);
        var x = turns == 0 ? crop : crop.rot90(turns, (1, 2));
        if (_rng.Next(2) == 1) x = x.flip(2);
        long[] order = [0, 1, 2];
        for (int i = 2; i > 0; i--) { int j = _rng.Next(i + 1); (order[i], order[j]) = (order[j], order[i]); }
        using var index = tensor(order);
        return x.index_select(0, index);
    }

    private double Gaussian()
    {
        double u = 1 - _rng.NextDouble(), v = _rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
    }

    public void Dispose()
    {
        foreach (var (pixels, _, _) in _images) pixels.Dispose();
        _images.Clear();
    }
}
