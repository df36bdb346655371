using System.Security.Cryptography;
using System.Text;

namespace FastRcnn.Proposals;

/// <summary>
/// The journal of a run that is writing a proposal file: each finished image is appended (and flushed)
/// as a <see cref="ProposalRecord"/>, so a run that is interrupted — Ctrl+C, a crash, a killed job — can
/// be started again and only computes the images that are missing. The journal begins with the options'
/// fingerprint; a journal written with other settings is discarded, and a record is reused only while
/// the image file still has the bytes it was computed from.
/// </summary>
/// <remarks>
/// Layout: magic <c>FRPJ</c>, u16 fingerprint length, the UTF-8 fingerprint, 16 bytes of its SHA-256,
/// then records. A torn last record (the process died mid-write) or any damaged record ends the usable
/// part: the file is cut back to the last intact record before appending continues.
/// </remarks>
internal sealed class PartialProposalStore : IDisposable
{
    private static readonly byte[] Magic = "FRPJ"u8.ToArray();
    private readonly Dictionary<string, ProposalRecord> _records;
    private readonly FileStream _stream;
    private readonly object _gate = new();

    private PartialProposalStore(string path, FileStream stream, Dictionary<string, ProposalRecord> records, string? discarded)
    {
        Path = path;
        _stream = stream;
        _records = records;
        Discarded = discarded;
    }

    /// <summary>The journal file.</summary>
    public string Path { get; }

    /// <summary>Records found when the journal was opened (the work of earlier runs).</summary>
    public int Resumable => _records.Count;

    /// <summary>Why an existing journal was thrown away, or null.</summary>
    public string? Discarded { get; }

    /// <summary>Opens the journal at <paramref name="path"/>, keeping its intact records when it was written with <paramref name="options"/>.</summary>
    public static PartialProposalStore Open(string path, SelectiveSearchOptions options)
    {
        path = System.IO.Path.GetFullPath(path);
        System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var header = Header(options.Fingerprint());
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            var existing = new byte[stream.Length];
            stream.ReadExactly(existing);
            string? discarded = null;
            var records = new Dictionary<string, ProposalRecord>(StringComparer.Ordinal);
            long good = 0;
            if (existing.Length > 0 && !existing.AsSpan().StartsWith(header))
                discarded = "it was written with other selective-search settings or is damaged";
            else if (existing.Length > 0)
            {
                good = header.Length;
                var rest = existing.AsSpan(header.Length);
                while (ProposalRecord.TryParse(rest, out int length) is { } record)
                {
                    records[record.Id] = record;
                    rest = rest[length..];
                    good += length;
                }
            }
            if (good == 0)
            {
                stream.SetLength(0);
                stream.Write(header);
            }
            else stream.SetLength(good);
            stream.Seek(0, SeekOrigin.End);
            stream.Flush();
            return new PartialProposalStore(path, stream, records, discarded);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>The journalled proposals of image <paramref name="id"/> when they were computed from bytes hashing to <paramref name="imageHash"/>.</summary>
    public ProposalSet? TryGet(string id, byte[] imageHash)
    {
        lock (_gate)
        {
            return _records.TryGetValue(id, out var r) && r.ImageHash.AsSpan().SequenceEqual(imageHash) ? r.Proposals : null;
        }
    }

    /// <summary>Appends one finished image and flushes it to the operating system.</summary>
    public void Append(string id, byte[] imageHash, ProposalSet proposals)
    {
        var bytes = new ProposalRecord(id, imageHash, proposals).Serialize();
        lock (_gate)
        {
            _stream.Write(bytes);
            _stream.Flush();
        }
    }

    /// <summary>Closes the journal and deletes it (the run finished and its file is written).</summary>
    public void Delete()
    {
        _stream.Dispose();
        File.Delete(Path);
    }

    public void Dispose() => _stream.Dispose();

    private static byte[] Header(string fingerprint)
    {
        var text = Encoding.UTF8.GetBytes(fingerprint);
        return [.. Magic, .. BitConverter.GetBytes((ushort)text.Length), .. text, .. SHA256.HashData(text)[..16]];
    }
}
