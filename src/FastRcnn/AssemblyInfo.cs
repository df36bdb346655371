namespace FastRcnn;

/// <summary>Library-wide facts.</summary>
public static class FastRcnnInfo
{
    /// <summary>The library's informational version.</summary>
    public static string Version => typeof(FastRcnnInfo).Assembly.GetName().Version?.ToString() ?? "0.0.0";
}
