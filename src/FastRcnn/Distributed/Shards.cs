namespace FastRcnn.Distributed;

/// <summary>
/// Work split across the processes of a job: process r takes items r, r + P, r + 2P, … of a list (round robin, so
/// images of similar cost spread evenly), and rank 0 collects what each computed, in the list's order.
/// </summary>
public static class Shards
{
    /// <summary>The items of <paramref name="items"/> this process takes (all of them in a single process).</summary>
    public static IReadOnlyList<T> Of<T>(IReadOnlyList<T> items, ICommunicator communicator)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(communicator);
        if (communicator.Size == 1) return items;
        var mine = new List<T>((items.Count + communicator.Size - 1) / communicator.Size);
        for (int i = communicator.Rank; i < items.Count; i += communicator.Size) mine.Add(items[i]);
        return mine;
    }

    /// <summary>
    /// Rank 0 receives every process's <paramref name="results"/> (one per item of its <see cref="Of{T}"/> share, in order)
    /// put back in the order of the <paramref name="count"/> items of the full list; the other ranks receive null.
    /// Results travel as bytes: <paramref name="write"/> and <paramref name="read"/> encode one.
    /// </summary>
    public static IReadOnlyList<TResult>? Gather<TResult>(ICommunicator communicator, int count, IReadOnlyList<TResult> results,
        Action<BinaryWriter, TResult> write, Func<BinaryReader, TResult> read)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        ArgumentNullException.ThrowIfNull(results);
        if (communicator.Size == 1) return results;
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(results.Count);
            foreach (var r in results) write(writer, r);
        }
        var parts = communicator.Gather(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        if (parts is null) return null;
        var merged = new TResult[count];
        for (int rank = 0; rank < parts.Length; rank++)
        {
            using var reader = new BinaryReader(new MemoryStream(parts[rank]), System.Text.Encoding.UTF8);
            int n = reader.ReadInt32();
            int expected = count > rank ? (count - rank + parts.Length - 1) / parts.Length : 0;
            if (n != expected) throw new InvalidDataException($"rank {rank} sent {n} results for its {expected} items");
            for (int k = 0; k < n; k++) merged[rank + k * parts.Length] = read(reader);
        }
        return merged;
    }
}
