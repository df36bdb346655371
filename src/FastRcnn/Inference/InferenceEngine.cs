namespace FastRcnn.Inference;

/// <summary>What runs a <see cref="Detector"/>'s network; the pre- and post-processing are the library's either way.</summary>
public enum InferenceEngine
{
    /// <summary>TorchSharp (libtorch) with this library's RoI pooling kernel.</summary>
    Torch,
    /// <summary>ONNX Runtime on the model's ONNX export (<see cref="Export.OnnxExporter"/>), CPU execution provider.</summary>
    OnnxRuntime,
}

/// <summary>How the ONNX Runtime engine runs the network.</summary>
public enum OnnxArrangement
{
    /// <summary>
    /// Two sessions, trunk and head, with this library's RoI pooling between them (the default: ONNX Runtime's
    /// <c>MaxRoiPool</c> kernel takes 1.6–2.7× the library kernel's time; docs/benchmarks-onnx.md).
    /// </summary>
    Split,
    /// <summary>The exported graph as one session, RoI pooling by ONNX Runtime's <c>MaxRoiPool</c>.</summary>
    Whole,
}
