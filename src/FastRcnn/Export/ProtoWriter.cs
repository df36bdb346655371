using System.Text;

namespace FastRcnn.Export;

/// <summary>
/// Protocol-buffers wire encoding (varints, length-delimited fields), enough to write ONNX's messages
/// (<see cref="OnnxGraph"/>) without a protobuf runtime: a message is built in memory and nested into its parent
/// as bytes. Field numbers are onnx.proto's.
/// </summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _stream = new();

    /// <summary>The bytes written so far.</summary>
    public byte[] ToArray() => _stream.ToArray();

    /// <summary>The number of bytes written so far.</summary>
    public long Length => _stream.Length;

    /// <summary>Writes the bytes written so far to <paramref name="target"/>.</summary>
    public void CopyTo(Stream target)
    {
        _stream.Position = 0;
        _stream.CopyTo(target);
    }

    /// <summary>A varint field (wire type 0): int64, int32, enum.</summary>
    public ProtoWriter Int(int field, long value)
    {
        Tag(field, 0);
        Varint(unchecked((ulong)value));
        return this;
    }

    /// <summary>A 32-bit float field (wire type 5).</summary>
    public ProtoWriter Float(int field, float value)
    {
        Tag(field, 5);
        Span<byte> bytes = stackalloc byte[4];
        BitConverter.TryWriteBytes(bytes, value);
        if (!BitConverter.IsLittleEndian) bytes.Reverse();
        _stream.Write(bytes);
        return this;
    }

    /// <summary>A UTF-8 string field.</summary>
    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A length-delimited field: bytes, or an embedded message's encoding.</summary>
    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, 2);
        Varint((ulong)value.Length);
        _stream.Write(value);
        return this;
    }

    /// <summary>An embedded message.</summary>
    public ProtoWriter Message(int field, ProtoWriter message)
    {
        Tag(field, 2);
        Varint((ulong)message.Length);
        message.CopyTo(_stream);
        return this;
    }

    /// <summary>The tag and length of a length-delimited field whose <paramref name="length"/> bytes the caller writes next.</summary>
    public ProtoWriter LengthPrefix(int field, long length)
    {
        Tag(field, 2);
        Varint((ulong)length);
        return this;
    }

    /// <summary>The encoded size of a length-delimited field <paramref name="field"/> holding <paramref name="length"/> bytes.</summary>
    public static long FieldLength(int field, long length) => VarintLength((ulong)(field << 3 | 2)) + VarintLength((ulong)length) + length;

    private static int VarintLength(ulong value)
    {
        int n = 1;
        while (value >= 0x80) { value >>= 7; n++; }
        return n;
    }

    /// <summary>A packed repeated int64 field.</summary>
    public ProtoWriter PackedInts(int field, IEnumerable<long> values)
    {
        var packed = new ProtoWriter();
        foreach (long v in values) packed.Varint(unchecked((ulong)v));
        return Message(field, packed);
    }

    /// <summary>A packed repeated float field.</summary>
    public ProtoWriter PackedFloats(int field, IEnumerable<float> values)
    {
        var bytes = new List<byte>();
        foreach (float v in values)
        {
            var b = BitConverter.GetBytes(v);
            if (!BitConverter.IsLittleEndian) Array.Reverse(b);
            bytes.AddRange(b);
        }
        return Bytes(field, bytes.ToArray());
    }

    private void Tag(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    private void Varint(ulong value)
    {
        while (value >= 0x80)
        {
            _stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _stream.WriteByte((byte)value);
    }
}
