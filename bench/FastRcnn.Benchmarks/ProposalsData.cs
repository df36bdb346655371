using System.Text.Json;
using FastRcnn.Proposals;

namespace FastRcnn.Benchmarks;

/// <summary>Image decoding, ground truth and recall for the <c>proposals</c> comparison.</summary>
internal static class ProposalsData
{
    /// <summary>Decodes PNG/JPEG/... into interleaved RGB bytes, as displayed (EXIF orientation applied, as <see cref="FastRcnn.Imaging.ImageIO"/> and OpenCV's imread do).</summary>
    internal static (byte[] Rgb, int Width, int Height) Decode(string path)
    {
        var image = FastRcnn.Imaging.ImageIO.Read(path);
        return (image.Data, image.Width, image.Height);
    }

    /// <summary>For each ground-truth box, the best IoU with the first <paramref name="top"/> proposals.</summary>
    internal static double[] BestIoU(IReadOnlyList<float[]> truth, ProposalSet proposals, int top)
    {
        var best = new double[truth.Count];
        int n = Math.Min(top, proposals.Count);
        for (int g = 0; g < truth.Count; g++)
        {
            var t = truth[g];
            double areaT = (t[2] - t[0]) * (double)(t[3] - t[1]);
            for (int i = 0; i < n; i++)
            {
                var b = proposals.Box(i);
                double iw = Math.Min(b[2], t[2]) - Math.Max(b[0], t[0]), ih = Math.Min(b[3], t[3]) - Math.Max(b[1], t[1]);
                if (iw <= 0 || ih <= 0) continue;
                double inter = iw * ih;
                best[g] = Math.Max(best[g], inter / ((b[2] - b[0]) * (double)(b[3] - b[1]) + areaT - inter));
            }
        }
        return best;
    }

    /// <summary>An in-memory dataset of loose images whose ground truth comes from GT.json files (keyed by file name).</summary>
    internal static FastRcnn.Data.DetectionDataset DatasetFromImages(List<string> images, List<string> gtFiles)
    {
        var gt = LoadGroundTruth(gtFiles);
        var records = images.Select(path =>
        {
            if (!FastRcnn.Imaging.ImageIO.TryReadSize(path, out int w, out int h)) throw new InvalidDataException($"{path}: not a readable image");
            var objects = (gt.GetValueOrDefault(Path.GetFileName(path)) ?? [])
                .Select(b => new FastRcnn.Data.ObjectAnnotation(new FastRcnn.Data.BoundingBox(b[0], b[1], b[2], b[3]), 1)).ToArray();
            return new FastRcnn.Data.ImageRecord(Path.GetFileName(path), Path.GetFullPath(path), w, h, objects);
        }).ToArray();
        return new FastRcnn.Data.DetectionDataset(FastRcnn.Data.DetectionDataset.MakeClassNames(["object"]), records, "images", FastRcnn.Data.LoadReport.Empty);
    }

    internal static Dictionary<string, List<float[]>> LoadGroundTruth(List<string> files)
    {
        var gt = new Dictionary<string, List<float[]>>();
        foreach (string file in files)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var image in doc.RootElement.EnumerateObject())
                gt[image.Name] = image.Value.EnumerateArray().Select(b => b.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToList();
        }
        return gt;
    }
}
