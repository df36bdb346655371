namespace FastRcnn.Pretraining;

/// <summary>
/// Pre-trained weights that ship with the library (next to its assembly, under <c>weights/</c>), the
/// stand-in for the ImageNet models the paper starts from. <c>small-shapesnet</c>: the <c>small</c> backbone's
/// trunk and fc6/fc7 after <see cref="CropPretrainer"/> and then detection training on a Shapes set of its own
/// seed (1000), disjoint from the demo's, with the classifier and box regressor dropped (how it was made:
/// docs/pretraining.md).
/// </summary>
public static class BuiltinWeights
{
    /// <summary>The name of the Shapes-pretrained <c>small</c> backbone.</summary>
    public const string SmallShapesNet = "small-shapesnet";

    /// <summary>The names of the shipped weights.</summary>
    public static IReadOnlyList<string> Names { get; } = [SmallShapesNet];

    /// <summary>
    /// The folder the shipped weights are in: <c>weights/</c> next to the app (where this repository's build and the
    /// FastRcnn package's buildTransitive targets put them), else <c>weights/</c> next to this library's assembly
    /// when that exists (an app that loads the library from elsewhere).
    /// </summary>
    public static string Directory
    {
        get
        {
            string app = Path.Combine(AppContext.BaseDirectory, "weights");
            if (System.IO.Directory.Exists(app)) return app;
            string? library = Path.GetDirectoryName(typeof(BuiltinWeights).Assembly.Location);
            return !string.IsNullOrEmpty(library) && System.IO.Directory.Exists(Path.Combine(library, "weights"))
                ? Path.Combine(library, "weights") : app;
        }
    }

    /// <summary>
    /// The file of <paramref name="nameOrPath"/> when it names shipped weights (<see cref="Names"/>), else
    /// <paramref name="nameOrPath"/> itself (a path).
    /// </summary>
    /// <exception cref="FileNotFoundException">A shipped name whose file is missing from this installation.</exception>
    public static string Resolve(string nameOrPath)
    {
        if (!Names.Contains(nameOrPath, StringComparer.OrdinalIgnoreCase)) return nameOrPath;
        string path = Path.Combine(Directory, nameOrPath.ToLowerInvariant() + ".safetensors");
        return File.Exists(path) ? path : throw new FileNotFoundException($"the built-in weights '{nameOrPath}' are missing from this installation: {path}", path);
    }
}
