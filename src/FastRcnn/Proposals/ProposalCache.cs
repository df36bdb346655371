using System.Security.Cryptography;
using System.Text;

namespace FastRcnn.Proposals;

/// <summary>
/// A directory of per-image selective-search results keyed by content (SPEC §11.6: a cache must never
/// serve results for data that changed): the key is the SHA-256 of the image file's bytes together with
/// <see cref="SelectiveSearchOptions.Fingerprint"/> (every setting that changes the output, and
/// <see cref="SelectiveSearch.AlgorithmVersion"/>). An edited image or a changed setting therefore looks
/// up another entry; image ids and paths play no part, so datasets sharing images share entries.
/// </summary>
/// <remarks>
/// Entries are <c>&lt;dir&gt;/&lt;2 hex&gt;/&lt;64 hex&gt;.ssb</c>, one <see cref="ProposalRecord"/> each, written to a
/// temporary name and renamed, so a reader sees a whole entry or none; concurrent writers of the same
/// entry write the same bytes. A damaged entry (checksum, length, or a record for another image) is
/// counted in <see cref="Corrupt"/>, deleted and reported as a miss, so it is recomputed.
/// </remarks>
public sealed class ProposalCache
{
    private readonly byte[] _fingerprint;
    private int _hits, _misses, _corrupt;

    /// <summary>A cache in <paramref name="directory"/> for results of <paramref name="options"/>.</summary>
    public ProposalCache(string directory, SelectiveSearchOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(options);
        Directory = Path.GetFullPath(directory);
        _fingerprint = Encoding.UTF8.GetBytes(options.Fingerprint());
    }

    /// <summary>The cache directory.</summary>
    public string Directory { get; }

    /// <summary>Lookups answered from the cache.</summary>
    public int Hits => _hits;

    /// <summary>Lookups that found no entry (damaged ones included).</summary>
    public int Misses => _misses;

    /// <summary>Entries found damaged and discarded.</summary>
    public int Corrupt => _corrupt;

    /// <summary>
    /// The default location: <c>$FASTRCNN_CACHE/proposals</c> when that variable is set, else
    /// <c>$XDG_CACHE_HOME/fastrcnn/proposals</c>, else <c>~/.cache/fastrcnn/proposals</c>.
    /// </summary>
    public static string DefaultDirectory
    {
        get
        {
            string? own = Environment.GetEnvironmentVariable("FASTRCNN_CACHE");
            if (!string.IsNullOrWhiteSpace(own)) return Path.Combine(own, "proposals");
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string root = !string.IsNullOrWhiteSpace(xdg) ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(root, "fastrcnn", "proposals");
        }
    }

    /// <summary>The entry file for an image whose bytes hash to <paramref name="imageHash"/>.</summary>
    public string EntryPath(byte[] imageHash)
    {
        var key = Convert.ToHexStringLower(SHA256.HashData([.. imageHash, .. _fingerprint]));
        return Path.Combine(Directory, key[..2], key + ".ssb");
    }

    /// <summary>The cached proposals of the image whose bytes hash to <paramref name="imageHash"/>, or null.</summary>
    public ProposalSet? TryGet(byte[] imageHash)
    {
        string path = EntryPath(imageHash);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            Interlocked.Increment(ref _misses);
            return null;
        }
        var record = ProposalRecord.TryParse(bytes, out int length);
        if (record is null || length != bytes.Length || !record.ImageHash.AsSpan().SequenceEqual(imageHash))
        {
            Interlocked.Increment(ref _corrupt);
            Interlocked.Increment(ref _misses);
            try { File.Delete(path); }
            catch (IOException) { } // another process may be replacing it; the next Put overwrites it anyway
            return null;
        }
        Interlocked.Increment(ref _hits);
        return record.Proposals;
    }

    /// <summary>Stores the proposals of the image whose bytes hash to <paramref name="imageHash"/>.</summary>
    public void Put(byte[] imageHash, ProposalSet proposals)
    {
        string path = EntryPath(imageHash);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        FastRcnn.IO.AtomicFile.WriteAllBytes(path, new ProposalRecord("", imageHash, proposals).Serialize(), durable: false);
    }
}
