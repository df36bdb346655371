using System.Runtime.InteropServices;

namespace FastRcnn.Export;

/// <summary>An ONNX tensor element type (onnx.proto's <c>TensorProto.DataType</c>).</summary>
internal enum OnnxType
{
    Float = 1,
    Int64 = 7,
}

/// <summary>
/// An ONNX graph under construction: nodes in topological order, float and int64 initializers, typed inputs and
/// outputs (dimensions fixed or named, i.e. dynamic). <see cref="WriteModel"/> writes the ModelProto (IR version 7,
/// the default domain at <see cref="Opset"/>), its weights inline or, for a graph past protobuf's 2 GB, in an external
/// data file beside it.
/// </summary>
internal sealed class OnnxGraph(string name, int opset)
{
    /// <summary>IR version 7 (ONNX 1.7); every ONNX Runtime since 1.3 reads it.</summary>
    public const int IrVersion = 7;

    private readonly List<ProtoWriter> _nodes = [];
    private readonly List<Initializer> _initializers = [];
    private readonly List<ProtoWriter> _inputs = [], _outputs = [];
    private readonly HashSet<string> _names = [];
    private int _counter;

    public string Name { get; } = name;
    public int Opset { get; } = opset;

    /// <summary>The bytes of all initializers' data.</summary>
    public long WeightBytes => _initializers.Sum(i => (long)i.Data.Length);

    private sealed record Initializer(string Name, long[] Dims, OnnxType Type, byte[] Data);

    /// <summary>A fresh value name with <paramref name="stem"/>.</summary>
    public string Fresh(string stem)
    {
        string n;
        do n = $"{stem}_{_counter++}";
        while (!_names.Add(n));
        return n;
    }

    /// <summary>A graph input; a dimension is a fixed size (long) or a name (string, dynamic).</summary>
    public void Input(string valueName, OnnxType type, params object[] dims) => _inputs.Add(ValueInfo(valueName, type, dims));

    /// <summary>A graph output; a dimension is a fixed size (long) or a name (string, dynamic).</summary>
    public void Output(string valueName, OnnxType type, params object[] dims) => _outputs.Add(ValueInfo(valueName, type, dims));

    /// <summary>A float initializer.</summary>
    public string Weight(string weightName, long[] dims, ReadOnlySpan<float> values)
    {
        if (dims.Aggregate(1L, (a, b) => a * b) != values.Length)
            throw new ArgumentException($"{weightName}: {values.Length} values for dims [{string.Join(", ", dims)}]");
        var bytes = MemoryMarshal.AsBytes(values).ToArray();
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX export needs a little-endian machine");
        _names.Add(weightName);
        _initializers.Add(new Initializer(weightName, dims, OnnxType.Float, bytes));
        return weightName;
    }

    /// <summary>A float scalar constant (rank 0).</summary>
    public string Scalar(float value) => Weight(Fresh("const"), [], [value]);

    /// <summary>A 1-D int64 constant (shapes, slice bounds, axes).</summary>
    public string Ints(params long[] values)
    {
        string n = Fresh("ints");
        _initializers.Add(new Initializer(n, [values.Length], OnnxType.Int64, MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));
        return n;
    }

    /// <summary>A rank-0 int64 constant.</summary>
    public string Long(long value)
    {
        string n = Fresh("long");
        _initializers.Add(new Initializer(n, [], OnnxType.Int64, BitConverter.GetBytes(value)));
        return n;
    }

    /// <summary>Adds a node of the default domain; returns its first output's name (fresh unless given).</summary>
    public string Node(string opType, string[] inputs, IReadOnlyDictionary<string, object>? attributes = null, string? output = null) =>
        Nodes(opType, inputs, 1, attributes, output)[0];

    /// <summary>Adds a node with <paramref name="outputs"/> outputs; returns their names (the first given, or all fresh).</summary>
    public string[] Nodes(string opType, string[] inputs, int outputs, IReadOnlyDictionary<string, object>? attributes = null, string? output = null)
    {
        var names = Enumerable.Range(0, outputs).Select(i => i == 0 && output is not null ? Claim(output) : Fresh(opType.ToLowerInvariant())).ToArray();
        var node = new ProtoWriter();
        foreach (var input in inputs) node.String(1, input);
        foreach (var o in names) node.String(2, o);
        node.String(3, names[0] + "_node");
        node.String(4, opType);
        foreach (var (key, value) in attributes ?? new Dictionary<string, object>()) node.Message(5, Attribute(key, value));
        _nodes.Add(node);
        return names;
    }

    private string Claim(string valueName) => _names.Add(valueName) ? valueName : throw new ArgumentException($"value {valueName} is defined twice");

    private static ProtoWriter Attribute(string key, object value)
    {
        var a = new ProtoWriter().String(1, key);
        switch (value)
        {
            case float f: a.Float(2, f).Int(20, 1); break;
            case double d: a.Float(2, (float)d).Int(20, 1); break;
            case int i: a.Int(3, i).Int(20, 2); break;
            case long l: a.Int(3, l).Int(20, 2); break;
            case string s: a.String(4, s).Int(20, 3); break;
            case long[] ints: a.PackedInts(8, ints).Int(20, 7); break;
            case float[] floats: a.PackedFloats(7, floats).Int(20, 6); break;
            default: throw new ArgumentException($"attribute {key}: unsupported type {value.GetType().Name}");
        }
        return a;
    }

    private static ProtoWriter ValueInfo(string valueName, OnnxType type, object[] dims)
    {
        var shape = new ProtoWriter();
        foreach (var dim in dims)
        {
            var d = new ProtoWriter();
            if (dim is string param) d.String(2, param);
            else d.Int(1, Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture));
            shape.Message(1, d);
        }
        var tensor = new ProtoWriter().Int(1, (int)type).Message(2, shape);
        var typeProto = new ProtoWriter().Message(1, tensor);
        return new ProtoWriter().String(1, valueName).Message(2, typeProto);
    }

    /// <summary>
    /// Writes the ModelProto to <paramref name="model"/>; with <paramref name="externalData"/> (the data file's name,
    /// relative to the model file's folder, and its stream) every initializer of 1 KiB or more is stored there, at
    /// 4 KiB-aligned offsets, and referenced from the model (onnx.proto's <c>data_location = EXTERNAL</c>).
    /// </summary>
    public void WriteModel(Stream model, IReadOnlyList<KeyValuePair<string, string>> metadata, string producerVersion,
        (string Location, Stream Stream)? externalData = null, string? docString = null)
    {
        // The graph's small fields in memory; each initializer's header, then its data straight from its array (no copy of the weights).
        var graph = new ProtoWriter();
        foreach (var node in _nodes) graph.Message(1, node);
        graph.String(2, Name);
        foreach (var input in _inputs) graph.Message(11, input);
        foreach (var output in _outputs) graph.Message(12, output);
        var tensors = _initializers.Select(init => (Header: TensorHeader(init, externalData), Inline: externalData is null || init.Data.Length < 1024 ? init.Data : null)).ToList();
        var prefixes = tensors.Select(t =>
        {
            long length = t.Header.Length + (t.Inline is null ? 0 : ProtoWriter.FieldLength(9, t.Inline.Length));
            var prefix = new ProtoWriter().LengthPrefix(5, length);
            if (t.Inline is not null) t.Header.LengthPrefix(9, t.Inline.Length);
            return prefix;
        }).ToList();
        long graphLength = graph.Length + tensors.Select((t, i) => prefixes[i].Length + t.Header.Length + (t.Inline?.Length ?? 0)).Sum();

        var head = new ProtoWriter().Int(1, IrVersion).String(2, "FastRcnn").String(3, producerVersion);
        if (docString is not null) head.String(6, docString);
        head.Message(8, new ProtoWriter().String(1, "").Int(2, Opset));
        head.LengthPrefix(7, graphLength);
        head.CopyTo(model);
        graph.CopyTo(model);
        for (int i = 0; i < tensors.Count; i++)
        {
            prefixes[i].CopyTo(model);
            tensors[i].Header.CopyTo(model);
            if (tensors[i].Inline is { } data) model.Write(data);
        }
        var tail = new ProtoWriter();
        foreach (var (key, value) in metadata) tail.Message(14, new ProtoWriter().String(1, key).String(2, value));
        tail.CopyTo(model);
    }

    /// <summary>The model's bytes (weights inline), written into one array of the final size.</summary>
    public byte[] ToBytes(IReadOnlyList<KeyValuePair<string, string>> metadata, string producerVersion)
    {
        using var counter = new CountingStream();
        WriteModel(counter, metadata, producerVersion);
        var bytes = new byte[counter.Length];
        using var stream = new MemoryStream(bytes, writable: true);
        WriteModel(stream, metadata, producerVersion);
        return bytes;
    }

    /// <summary>A stream that only counts the bytes written to it.</summary>
    private sealed class CountingStream : Stream
    {
        private long _length;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => _length += count;
        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
    }

    /// <summary>
    /// A TensorProto without its inline data: dims, type, name, and for external data the reference to where this
    /// writes the data in <paramref name="external"/>'s stream (4 KiB-aligned). Inline data (field 9) follows it.
    /// </summary>
    private static ProtoWriter TensorHeader(Initializer init, (string Location, Stream Stream)? external)
    {
        var t = new ProtoWriter().PackedInts(1, init.Dims).Int(2, (int)init.Type).String(8, init.Name);
        if (external is not { } ext || init.Data.Length < 1024) return t;
        long offset = (ext.Stream.Position + 4095) / 4096 * 4096;
        while (ext.Stream.Position < offset) ext.Stream.WriteByte(0);
        ext.Stream.Write(init.Data);
        t.Message(13, new ProtoWriter().String(1, "location").String(2, ext.Location));
        t.Message(13, new ProtoWriter().String(1, "offset").String(2, offset.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        t.Message(13, new ProtoWriter().String(1, "length").String(2, init.Data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return t.Int(14, 1);
    }
}
