namespace FastRcnn.IO;

/// <summary>Pre-trained weight files in either format the project reads: safetensors, or a PyTorch <c>.pth</c> state dict.</summary>
public static class WeightFiles
{
    /// <summary>
    /// Every tensor of <paramref name="path"/>, told apart by content, not by name: a <c>torch.save</c> file
    /// (<see cref="PyTorchFiles.Read"/>) or a safetensors file (<see cref="SafeTensors.Read"/>). The caller owns the tensors.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">A file of neither format, or one that cannot be loaded (the message names it).</exception>
    public static SafeTensors.Contents Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such weights file", path);
        return PyTorchFiles.LooksLikePyTorch(path) ? PyTorchFiles.Read(path) : SafeTensors.Read(path);
    }
}
