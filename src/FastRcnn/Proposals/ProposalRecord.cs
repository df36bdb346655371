using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace FastRcnn.Proposals;

/// <summary>
/// One image's proposals with the SHA-256 of the image file they were computed from, as stored in the
/// proposal cache (one record per file) and in the partial store of an interrupted run (records appended).
/// </summary>
/// <remarks>
/// Layout (little-endian): magic <c>FRPB</c>, u32 format version, 32-byte image SHA-256, i32 width,
/// i32 height, i32 R, u16 id length and the UTF-8 id, R×4 float32, then the first 16 bytes of the
/// SHA-256 of everything before. A record that is short, has another magic or version, implausible
/// sizes, or a checksum that does not match is rejected as a whole — never partly trusted.
/// </remarks>
internal sealed record ProposalRecord(string Id, byte[] ImageHash, ProposalSet Proposals)
{
    private static readonly byte[] Magic = "FRPB"u8.ToArray();
    private const uint FormatVersion = 1;
    private const int HeaderLength = 4 + 4 + 32 + 12 + 2;
    private const int ChecksumLength = 16;
    private const int MaxBoxes = 1 << 24;

    /// <summary>The record's bytes.</summary>
    public byte[] Serialize()
    {
        var id = Encoding.UTF8.GetBytes(Id);
        if (id.Length > ushort.MaxValue) throw new ArgumentException($"image id '{Id[..40]}…' is too long");
        if (ImageHash.Length != 32) throw new ArgumentException("the image hash must be a SHA-256 (32 bytes)");
        int r = Proposals.Count;
        var bytes = new byte[HeaderLength + id.Length + 16 * r + ChecksumLength];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], FormatVersion);
        ImageHash.CopyTo(span[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], Proposals.ImageWidth);
        BinaryPrimitives.WriteInt32LittleEndian(span[44..], Proposals.ImageHeight);
        BinaryPrimitives.WriteInt32LittleEndian(span[48..], r);
        BinaryPrimitives.WriteUInt16LittleEndian(span[52..], (ushort)id.Length);
        id.CopyTo(span[HeaderLength..]);
        int data = HeaderLength + id.Length;
        var floats = span.Slice(data, 16 * r);
        if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(Proposals.Boxes.AsSpan(0, 4 * r)).CopyTo(floats);
        else
            for (int i = 0; i < 4 * r; i++) BinaryPrimitives.WriteSingleLittleEndian(floats[(4 * i)..], Proposals.Boxes[i]);
        SHA256.HashData(span[..(data + 16 * r)])[..ChecksumLength].CopyTo(span[(data + 16 * r)..]);
        return bytes;
    }

    /// <summary>
    /// Reads one record at the start of <paramref name="bytes"/>; null when it is not a complete, intact
    /// record. <paramref name="length"/> is the number of bytes it took.
    /// </summary>
    public static ProposalRecord? TryParse(ReadOnlySpan<byte> bytes, out int length)
    {
        length = 0;
        if (bytes.Length < HeaderLength + ChecksumLength || !bytes[..4].SequenceEqual(Magic)) return null;
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]) != FormatVersion) return null;
        int width = BinaryPrimitives.ReadInt32LittleEndian(bytes[40..]);
        int height = BinaryPrimitives.ReadInt32LittleEndian(bytes[44..]);
        int r = BinaryPrimitives.ReadInt32LittleEndian(bytes[48..]);
        int idLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[52..]);
        if (width < 1 || height < 1 || r < 0 || r > MaxBoxes) return null;
        long total = (long)HeaderLength + idLength + 16L * r + ChecksumLength;
        if (bytes.Length < total) return null;
        int data = HeaderLength + idLength;
        int end = data + 16 * r;
        if (!SHA256.HashData(bytes[..end])[..ChecksumLength].AsSpan().SequenceEqual(bytes.Slice(end, ChecksumLength))) return null;
        var boxes = new float[4 * r];
        for (int i = 0; i < 4 * r; i++) boxes[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(data + 4 * i)..]);
        string id;
        try { id = new UTF8Encoding(false, true).GetString(bytes.Slice(HeaderLength, idLength)); }
        catch (DecoderFallbackException) { return null; }
        length = (int)total;
        return new ProposalRecord(id, bytes.Slice(8, 32).ToArray(), new ProposalSet(boxes, r, width, height));
    }

    /// <summary>The SHA-256 of a file's bytes.</summary>
    public static byte[] Hash(ReadOnlySpan<byte> fileBytes) => SHA256.HashData(fileBytes);
}
