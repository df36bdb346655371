using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.IO;

/// <summary>
/// The safetensors format (as written by the Python <c>safetensors</c> package): an 8-byte
/// little-endian header length N, N bytes of JSON (<c>{"name": {"dtype", "shape", "data_offsets":
/// [begin, end]}, "__metadata__": {string: string}}</c>), then the tensors' little-endian bytes, with
/// offsets relative to the end of the header. Python tools read our models and we read theirs.
/// </summary>
public static class SafeTensors
{
    private const string MetadataKey = "__metadata__";
    private const long MaxHeaderBytes = 100 << 20;

    private static readonly Dictionary<ScalarType, string> DtypeNames = new()
    {
        [ScalarType.Float64] = "F64", [ScalarType.Float32] = "F32", [ScalarType.Float16] = "F16",
        [ScalarType.BFloat16] = "BF16", [ScalarType.Int64] = "I64", [ScalarType.Int32] = "I32",
        [ScalarType.Int16] = "I16", [ScalarType.Int8] = "I8", [ScalarType.Byte] = "U8", [ScalarType.Bool] = "BOOL",
    };

    private static readonly Dictionary<string, ScalarType> DtypesByName = DtypeNames.ToDictionary(p => p.Value, p => p.Key);

    /// <summary>Tensors by name, in file order, and the string metadata.</summary>
    public sealed record Contents(IReadOnlyList<KeyValuePair<string, Tensor>> Tensors, IReadOnlyDictionary<string, string> Metadata)
    {
        public Tensor this[string name] => Tensors.First(t => t.Key == name).Value;
    }

    /// <summary>Writes the tensors (CPU copies are taken as needed) atomically (<see cref="AtomicFile"/>).</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = tensors.ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
            header[MetadataKey] = new JsonObject(metadata.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)JsonValue.Create(p.Value))));
        long offset = 0;
        var blobs = new List<byte[]>(entries.Count);
        foreach (var (name, tensor) in entries)
        {
            if (name == MetadataKey) throw new ArgumentException($"'{MetadataKey}' is reserved and cannot name a tensor");
            if (!DtypeNames.TryGetValue(tensor.dtype, out var dtype))
                throw new ArgumentException($"tensor '{name}': dtype {tensor.dtype} has no safetensors name");
            using var cpu = tensor.detach().cpu().contiguous();
            byte[] bytes = cpu.numel() == 0 ? [] : cpu.bytes.ToArray();
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors are little-endian");
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray(tensor.shape.Select(d => (JsonNode?)JsonValue.Create(d)).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            offset += bytes.Length;
            blobs.Add(bytes);
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8; // pad with spaces so the data starts 8-byte aligned
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            stream.Write(length);
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var blob in blobs) stream.Write(blob);
        });
    }

    /// <summary>Reads every tensor of a safetensors file; a malformed file throws <see cref="InvalidDataException"/> naming it.</summary>
    public static Contents Read(string path)
    {
        byte[] file;
        try { file = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new FileNotFoundException($"{path}: no such safetensors file", path); }
        InvalidDataException Bad(string what) => new($"{path}: not a valid safetensors file: {what}");
        if (file.Length < 8) throw Bad("shorter than its 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > MaxHeaderBytes || 8 + (long)headerLength > file.Length)
            throw Bad($"header length {headerLength} exceeds the file ({file.Length} bytes)");
        JsonObject header;
        try { header = JsonNode.Parse(file.AsSpan(8, (int)headerLength))?.AsObject() ?? throw Bad("empty header"); }
        catch (JsonException e) { throw Bad($"header is not JSON ({e.Message})"); }
        catch (InvalidOperationException) { throw Bad("header is not a JSON object"); }
        long dataStart = 8 + (long)headerLength, dataLength = file.Length - dataStart;

        var metadata = new Dictionary<string, string>();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, node) in header)
        {
            if (name == MetadataKey)
            {
                foreach (var (key, value) in node?.AsObject() ?? []) metadata[key] = value?.ToString() ?? "";
                continue;
            }
            try
            {
                var entry = node!.AsObject();
                string dtypeName = entry["dtype"]!.GetValue<string>();
                if (!DtypesByName.TryGetValue(dtypeName, out var dtype)) throw Bad($"tensor '{name}' has unsupported dtype {dtypeName}");
                long[] shape = entry["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
                var offsets = entry["data_offsets"]!.AsArray();
                long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
                long expected = shape.Aggregate(1L, (a, b) => a * b) * ElementSize(dtype);
                if (begin < 0 || end < begin || end > dataLength)
                    throw Bad($"tensor '{name}' data [{begin}, {end}) lies outside the {dataLength} data bytes (truncated file?)");
                if (end - begin != expected)
                    throw Bad($"tensor '{name}' has {end - begin} bytes for shape [{string.Join(", ", shape)}] of {dtypeName} ({expected} expected)");
                var tensor = empty(shape, dtype);
                if (expected > 0) file.AsSpan((int)(dataStart + begin), (int)expected).CopyTo(tensor.bytes);
                tensors.Add(KeyValuePair.Create(name, tensor));
            }
            catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or JsonException)
            {
                throw Bad($"tensor '{name}' has a malformed entry ({e.Message})");
            }
        }
        tensors.Sort((a, b) => OffsetOf(header, a.Key).CompareTo(OffsetOf(header, b.Key)));
        return new Contents(tensors, metadata);
    }

    private static long OffsetOf(JsonObject header, string name) => header[name]!["data_offsets"]![0]!.GetValue<long>();

    private static int ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };
}
