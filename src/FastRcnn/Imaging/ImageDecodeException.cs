namespace FastRcnn.Imaging;

/// <summary>
/// An image could not be decoded: the file is corrupt, truncated, empty or in a format the
/// decoder does not support. The message names the source (file path, or a caller-given name
/// for bytes and streams) and what is wrong.
/// </summary>
/// <remarks>
/// Derives from <see cref="IOException"/> (<see cref="InvalidDataException"/> is sealed), so one
/// <c>catch (IOException)</c> handles missing, unreadable and undecodable image files alike.
/// </remarks>
public sealed class ImageDecodeException : IOException
{
    /// <summary>Creates the exception for <paramref name="source"/> with the reason <paramref name="problem"/>.</summary>
    public ImageDecodeException(string source, string problem, Exception? inner = null)
        : this(source, problem, ImageDecodeFailure.Corrupt, inner)
    {
    }

    /// <summary>Creates the exception for <paramref name="source"/> with the reason <paramref name="problem"/> of kind <paramref name="failure"/>.</summary>
    public ImageDecodeException(string source, string problem, ImageDecodeFailure failure, Exception? inner = null)
        : base($"Cannot decode image '{source}': {problem}", inner)
    {
        ImageSource = source;
        Problem = problem;
        Failure = failure;
    }

    /// <summary>The file path or name of the image that failed.</summary>
    public string ImageSource { get; }

    /// <summary>What is wrong with it, in words.</summary>
    public string Problem { get; }

    /// <summary>What is wrong with it, as a kind a program can branch on.</summary>
    public ImageDecodeFailure Failure { get; }
}
