using FastRcnn.Inference;

namespace FastRcnn.Export;

/// <summary>Where an exported model's weights go.</summary>
public enum OnnxExternalData
{
    /// <summary>Inline, unless the weights pass <see cref="OnnxExportOptions.ExternalDataThreshold"/> (protobuf's 2 GB limit).</summary>
    Auto,
    /// <summary>Always in a data file beside the model (<c>model.onnx.data</c>).</summary>
    Always,
    /// <summary>Always inline (fails past protobuf's limit).</summary>
    Never,
}

/// <summary>How <see cref="OnnxExporter"/> writes a model.</summary>
/// <param name="Opset">The ONNX operator set of the default domain (13, the lowest the graph is written for).</param>
/// <param name="Test">The test-time settings recorded in the file's metadata (scales, max size, postprocessing); the defaults when null.</param>
/// <param name="ExternalData">Whether the weights go to a separate data file.</param>
public sealed record OnnxExportOptions(int Opset = 13, DetectorOptions? Test = null, OnnxExternalData ExternalData = OnnxExternalData.Auto)
{
    /// <summary>Weights above this many bytes go to an external data file under <see cref="OnnxExternalData.Auto"/>: protobuf refuses messages of 2 GiB, and the graph needs some room.</summary>
    public long ExternalDataThreshold { get; init; } = 2_000_000_000;
}

/// <summary>What <see cref="OnnxExporter.Export"/> wrote.</summary>
/// <param name="ModelPath">The .onnx file.</param>
/// <param name="ModelBytes">Its size.</param>
/// <param name="ExternalDataPath">The weights' data file, or null when they are inline.</param>
/// <param name="ExternalDataBytes">The data file's size (0 without one).</param>
public sealed record OnnxExportResult(string ModelPath, long ModelBytes, string? ExternalDataPath, long ExternalDataBytes)
{
    /// <summary>Model and data file together.</summary>
    public long TotalBytes => ModelBytes + ExternalDataBytes;
}
