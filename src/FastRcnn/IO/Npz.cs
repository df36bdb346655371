using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace FastRcnn.IO;

/// <summary>A float32 array with its shape (row-major), as stored in one <c>.npy</c> entry.</summary>
public sealed record NpyArray(long[] Shape, float[] Data)
{
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// NumPy <c>.npz</c> archives of float32 arrays — a zip of <c>name.npy</c> files (format 1.0:
/// magic <c>\x93NUMPY</c>, version, a little-endian u16 header length, a Python-dict header
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (R, 4), }</c> padded to 64 bytes, then the
/// data). <c>numpy.load(path)</c> reads what <see cref="Write"/> writes; <see cref="Read"/> takes
/// little-endian float32 or float64 (converted) arrays in C order, as numpy writes them by default.
/// </summary>
public static partial class Npz
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>The time stamp of every entry (ZIP's earliest date): the same arrays give the same bytes, whenever and wherever written.</summary>
    private static readonly DateTimeOffset EntryTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Writes the arrays (key → array) atomically (<see cref="AtomicFile"/>); equal arrays give equal files.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, NpyArray>> arrays) =>
        AtomicFile.Write(path, file =>
        {
            using var zip = new ZipArchive(file, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (key, array) in arrays)
            {
                if (array.Count != array.Data.Length)
                    throw new ArgumentException($"array '{key}': shape [{string.Join(", ", array.Shape)}] needs {array.Count} values, has {array.Data.Length}");
                var entry = zip.CreateEntry(key + ".npy", CompressionLevel.Fastest);
                entry.LastWriteTime = EntryTime;
                using var stream = entry.Open();
                WriteNpy(stream, array);
            }
        });

    /// <summary>Reads every array; a malformed archive throws <see cref="InvalidDataException"/> naming the file and entry.</summary>
    public static IReadOnlyDictionary<string, NpyArray> Read(string path)
    {
        var result = new Dictionary<string, NpyArray>();
        try
        {
            using var zip = ZipFile.OpenRead(path);
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                using var stream = entry.Open();
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                try { result[entry.FullName[..^4]] = ReadNpy(buffer.ToArray()); }
                catch (InvalidDataException e) { throw new InvalidDataException($"{path}: entry '{entry.FullName}': {e.Message}"); }
            }
        }
        catch (FileNotFoundException) { throw new FileNotFoundException($"{path}: no such .npz file", path); }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: not a readable .npz archive ({e.Message})");
        }
        return result;
    }

    private static void WriteNpy(Stream stream, NpyArray array)
    {
        string shape = array.Shape.Length == 1 ? $"({array.Shape[0]},)" : "(" + string.Join(", ", array.Shape) + ")";
        string header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}";
        int total = Magic.Length + 4 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        stream.Write(Magic);
        stream.Write([1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(array.Data.AsSpan()));
    }

    private static NpyArray ReadNpy(byte[] bytes)
    {
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic)) throw new InvalidDataException("not a .npy array (bad magic)");
        int major = bytes[6];
        if (major is not (1 or 2 or 3)) throw new InvalidDataException($"unknown .npy format version {major}.{bytes[7]}");
        int headerStart = major == 1 ? 10 : 12;
        if (bytes.Length < headerStart) throw new InvalidDataException("truncated header");
        long headerLength = major == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToUInt32(bytes, 8);
        if (headerStart + headerLength > bytes.Length) throw new InvalidDataException("truncated header");
        string header = Encoding.ASCII.GetString(bytes, headerStart, (int)headerLength);
        var descr = DescrPattern().Match(header);
        var shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !shapeMatch.Success) throw new InvalidDataException($"unreadable header {header.Trim()}");
        if (header.Contains("'fortran_order': True", StringComparison.Ordinal)) throw new InvalidDataException("Fortran-ordered arrays are not supported");
        var dims = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shape = new long[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            if (!long.TryParse(dims[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                throw new InvalidDataException($"unreadable shape ({shapeMatch.Groups[1].Value})");
        }
        int itemSize = descr.Groups[1].Value switch
        {
            "<f4" => 4,
            "<f8" => 8,
            var other => throw new InvalidDataException($"dtype {other} is not supported (float32 or float64 expected)"),
        };
        long dataStart = headerStart + headerLength, available = (bytes.Length - dataStart) / itemSize;
        long count = shape.Contains(0) ? 0 : 1;
        foreach (long d in count == 0 ? [] : shape)
        {
            // Checked against the bytes present before anything is allocated (a corrupt shape must not allocate gigabytes).
            if (d != 0 && count > available / d) throw new InvalidDataException($"data shorter than shape [{string.Join(", ", shape)}]");
            count *= d;
        }
        if (count > available) throw new InvalidDataException($"data shorter than shape [{string.Join(", ", shape)}]");
        var data = new float[count];
        if (itemSize == 4)
            Buffer.BlockCopy(bytes, (int)dataStart, data, 0, (int)count * 4);
        else
            for (long i = 0; i < count; i++) data[i] = (float)BitConverter.ToDouble(bytes, (int)(dataStart + 8 * i));
        return new NpyArray(shape, data);
    }

    [GeneratedRegex(@"'descr':\s*'([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
