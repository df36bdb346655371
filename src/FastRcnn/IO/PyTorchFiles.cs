using System.Collections;
using System.IO.Compression;
using System.Text;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace FastRcnn.IO;

/// <summary>
/// PyTorch weight files (<c>.pth</c>, <c>.pt</c>): a state dict written by <c>torch.save(model.state_dict(), path)</c>
/// in the zip format PyTorch has written since 1.6 (a zip of <c>&lt;name&gt;/data.pkl</c>, the pickled dict, and
/// <c>&lt;name&gt;/data/&lt;key&gt;</c>, each storage's little-endian bytes), read with TorchSharp.PyBridge's unpickler.
/// Two other kinds of <c>torch.save</c> file are refused with a message naming the file and the fix: the legacy
/// pre-1.6 format (one pickle stream; old model-zoo downloads) and a whole pickled module (<c>torch.save(model)</c>,
/// which needs the model's Python classes to load).
/// </summary>
public static class PyTorchFiles
{
    private static readonly byte[] ZipSignature = [0x50, 0x4b, 0x03, 0x04];

    /// <summary>
    /// True when the file's first bytes are those of a <c>torch.save</c> file (a zip archive, or a pickle
    /// stream as the legacy format starts); false for anything else, safetensors included.
    /// </summary>
    public static bool LooksLikePyTorch(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return read == 4 && (head.SequenceEqual(ZipSignature) || IsLegacyStart(head));
    }

    /// <summary>
    /// Reads every tensor of a state dict saved by <c>torch.save</c>, in the dict's name order with numbers
    /// compared as numbers (<c>features.2.weight</c> before <c>features.10.weight</c>), values unchanged
    /// (dtype and bits as in the file). The caller owns the tensors.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">
    /// The legacy non-zip format, a whole pickled module, a file that is not a dict of tensors, or a damaged file;
    /// the message names the file and says how to re-save it.
    /// </exception>
    public static SafeTensors.Contents Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such PyTorch weights file", path);
        byte[] head = new byte[4];
        using (var stream = File.OpenRead(path)) stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (!head.AsSpan().SequenceEqual(ZipSignature))
        {
            throw IsLegacyStart(head)
                ? Bad(path, "it is in PyTorch's legacy (pre-1.6, non-zip) format, which cannot be read here. Re-save it in the zip format " +
                    $"with PyTorch 1.6 or later: python3 -c \"import torch; torch.save(torch.load('{path}', map_location='cpu'), 'weights.pth')\"")
                : Bad(path, "not a PyTorch file (torch.save writes a zip archive)");
        }

        string pickle = ReadPickleText(path);
        if (pickle.Contains("torch.nn.modules", StringComparison.Ordinal) || pickle.Contains("_rebuild_parameter", StringComparison.Ordinal))
        {
            throw Bad(path, "it holds a whole pickled model (torch.save(model)) or nn.Parameter objects, not a state dict of tensors. " +
                "Save the state dict instead: torch.save(model.state_dict(), 'weights.pth')");
        }

        Hashtable table;
        try
        {
            using var stream = File.OpenRead(path);
            table = PyTorchUnpickler.UnpickleStateDict(stream);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw Bad(path, $"it could not be read as a state dict of tensors ({e.GetType().Name}: {e.Message}). Tensors that are views " +
                "of others (an offset or non-contiguous storage) cannot be read: save copies, torch.save({k: v.clone() for k, v in state_dict.items()}, 'weights.pth')", e);
        }

        var tensors = new List<KeyValuePair<string, Tensor>>(table.Count);
        try
        {
            var entries = table.Cast<DictionaryEntry>().OrderBy(e => e.Value is IDictionary ? 0 : 1).ToList();   // report a nested dict first
            foreach (var entry in entries)
            {
                if (entry.Key is not string name || entry.Value is not Tensor tensor)
                {
                    string what = entry.Value is IDictionary nested
                        ? $"a dictionary under '{entry.Key}' (keys: {string.Join(", ", nested.Keys.Cast<object>().Take(5))})"
                        : $"{entry.Value?.GetType().Name ?? "None"} under '{entry.Key}'";
                    throw Bad(path, $"it is not a state dict of tensors: it holds {what}. Save the model's state dict itself: torch.save(model.state_dict(), 'weights.pth')");
                }
                tensors.Add(KeyValuePair.Create(name, tensor));
            }
        }
        catch
        {
            foreach (var value in table.Values) (value as IDisposable)?.Dispose();
            throw;
        }
        tensors.Sort((a, b) => NaturalCompare(a.Key, b.Key));
        return new SafeTensors.Contents(tensors, new Dictionary<string, string>());
    }

    /// <summary>The pickle of the archive (its <c>data.pkl</c>) as Latin-1 text, to look for the classes it names.</summary>
    private static string ReadPickleText(string path)
    {
        try
        {
            using var archive = ZipFile.OpenRead(path);
            var entry = archive.Entries.FirstOrDefault(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal))
                ?? throw Bad(path, "a zip archive without data.pkl: not written by torch.save");
            using var stream = entry.Open();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return Encoding.Latin1.GetString(buffer.ToArray());
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw Bad(path, $"a damaged zip archive ({e.Message})", e);
        }
    }

    /// <summary>The legacy format starts with a protocol-2 pickle of the magic number 0x1950a86a20f9469cfc6c (PROTO 2, LONG1 of 10 bytes).</summary>
    private static bool IsLegacyStart(ReadOnlySpan<byte> head) => head.Length >= 3 && head[0] == 0x80 && head[2] == 0x8a;

    /// <summary>Ordinal comparison in which runs of digits compare by their numeric value.</summary>
    internal static int NaturalCompare(string a, string b)
    {
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            if (char.IsAsciiDigit(a[i]) && char.IsAsciiDigit(b[j]))
            {
                int si = i, sj = j;
                while (i < a.Length && char.IsAsciiDigit(a[i])) i++;
                while (j < b.Length && char.IsAsciiDigit(b[j])) j++;
                string x = a[si..i].TrimStart('0'), y = b[sj..j].TrimStart('0');
                int byValue = x.Length != y.Length ? x.Length.CompareTo(y.Length) : string.CompareOrdinal(x, y);
                if (byValue != 0) return byValue;
            }
            else
            {
                if (a[i] != b[j]) return a[i].CompareTo(b[j]);
                i++;
                j++;
            }
        }
        int rest = (a.Length - i).CompareTo(b.Length - j);
        return rest != 0 ? rest : string.CompareOrdinal(a, b);
    }

    private static InvalidDataException Bad(string path, string what, Exception? inner = null) =>
        new($"{path}: cannot load PyTorch weights: {what}", inner);
}
