using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace FastRcnn.Serving;

/// <summary>
/// What a <c>POST /v1/detect</c> asks for besides the image: <c>score_threshold</c> (0–1), <c>max_detections</c> (≥ 0)
/// and <c>classes</c> (names, comma-separated or repeated), from the query string or multipart form fields. They
/// filter the detector's own detections.
/// </summary>
public sealed record DetectionParameters(double? ScoreThreshold, int? MaxDetections, IReadOnlySet<string>? Classes)
{
    public const string ScoreThresholdName = "score_threshold", MaxDetectionsName = "max_detections", ClassesName = "classes";

    /// <summary>Reads the parameters; <paramref name="get"/> gives a parameter's values (empty when absent).</summary>
    /// <exception cref="ApiException">400: a number that does not parse or is out of range, or an unknown class.</exception>
    public static DetectionParameters Parse(Func<string, StringValues> get, IReadOnlyList<string> classNames)
    {
        double? threshold = null;
        if (Single(get, ScoreThresholdName) is { } t)
        {
            if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v >= 0 && v <= 1))
                throw new ApiException(400, "bad_parameter", $"{ScoreThresholdName} must be a number from 0 to 1, got '{t}'");
            threshold = v;
        }
        int? max = null;
        if (Single(get, MaxDetectionsName) is { } m)
        {
            if (!int.TryParse(m, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < 0)
                throw new ApiException(400, "bad_parameter", $"{MaxDetectionsName} must be a whole number ≥ 0, got '{m}'");
            max = v;
        }
        HashSet<string>? classes = null;
        var given = get(ClassesName);
        if (given.Count > 0)
        {
            classes = new HashSet<string>(StringComparer.Ordinal);
            foreach (var value in given)
                foreach (var name in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (!classNames.Contains(name))
                        throw new ApiException(400, "unknown_class", $"unknown class '{name}'; the model's classes are {string.Join(", ", classNames)}");
                    classes.Add(name);
                }
        }
        return new DetectionParameters(threshold, max, classes);
    }

    private static string? Single(Func<string, StringValues> get, string name)
    {
        var values = get(name);
        if (values.Count == 0) return null;
        if (values.Count > 1) throw new ApiException(400, "bad_parameter", $"{name} is given {values.Count} times");
        return values[0];
    }
}
