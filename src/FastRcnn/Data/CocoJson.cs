using System.Text.Json;

namespace FastRcnn.Data;

/// <summary>Typed field access into a COCO JSON document with errors that name the file and the JSON path.</summary>
internal sealed class CocoJson(string file)
{
    public DatasetFormatException Error(string problem) => new(file, problem);

    public IEnumerable<JsonElement> Array(JsonElement parent, string name, string where)
    {
        if (!parent.TryGetProperty(name, out var value))
        {
            throw Error($"{where}: missing field '{name}'");
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Error($"{where}: field '{name}' is {value.ValueKind}, expected an array");
        }
        int i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw Error($"{name}[{i}] is {item.ValueKind}, expected an object");
            }
            i++;
            yield return item;
        }
    }

    public long Long(JsonElement obj, string name, string where)
    {
        var value = Required(obj, name, where);
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long v)) { return v; }
        throw Error($"{where}: field '{name}' is {Show(value)}, expected an integer");
    }

    public long? OptionalLong(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long v) ? v : null;

    /// <summary>An optional non-negative integer field; 0 when absent or null.</summary>
    public int OptionalInt(JsonElement obj, string name, string where)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) { return 0; }
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int v) && v >= 0) { return v; }
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) { return value.GetBoolean() ? 1 : 0; }
        throw Error($"{where}: field '{name}' is {Show(value)}, expected a non-negative integer");
    }

    public string String(JsonElement obj, string name, string where)
    {
        var value = Required(obj, name, where);
        if (value.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(value.GetString())) { return value.GetString()!; }
        throw Error($"{where}: field '{name}' is {Show(value)}, expected a non-empty string");
    }

    /// <summary>The <c>bbox</c> field: exactly four finite numbers [x, y, w, h].</summary>
    public double[] Bbox(JsonElement obj, string where)
    {
        var value = Required(obj, "bbox", where);
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 4)
        {
            var b = new double[4];
            int i = 0;
            foreach (var item in value.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetDouble(out b[i]) || !double.IsFinite(b[i])) { break; }
                i++;
            }
            if (i == 4) { return b; }
        }
        throw Error($"{where}: 'bbox' is {Show(value)}, expected [x, y, width, height] (four numbers)");
    }

    private JsonElement Required(JsonElement obj, string name, string where) =>
        obj.TryGetProperty(name, out var value) ? value : throw Error($"{where}: missing field '{name}'");

    private static string Show(JsonElement value)
    {
        var text = value.GetRawText();
        return text.Length > 40 ? text[..40] + "…" : text;
    }
}
