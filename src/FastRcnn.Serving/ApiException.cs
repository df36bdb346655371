namespace FastRcnn.Serving;

/// <summary>
/// A request the service refuses: the HTTP status, a stable machine-readable code and a message naming the problem —
/// the JSON body <c>{"error": {"code": ..., "message": ...}}</c>.
/// </summary>
public sealed class ApiException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;
}
