using System.Collections.Concurrent;

namespace Paasta.IO;

/// <summary>
/// Values worked out from a file (a parse, a verdict), kept while the file's size and write time are unchanged
/// (docs/RELIABILITY.md, "Limits"):
/// a session that reads soa-configs again re-reads only what changed. Safe for parallel readers; it forgets
/// everything once it holds <see cref="Capacity"/> files, so memory stays bounded however many files pass through.
/// </summary>
internal sealed class FileStampCache<T>
{
    private readonly ConcurrentDictionary<string, (long Length, DateTime Written, T Value)> _entries = new(StringComparer.Ordinal);
    // Counted here: ConcurrentDictionary.Count takes every lock, and the parallel loaders ask on every miss.
    private int _count;

    /// <summary>
    /// A file written this recently is not kept: write times are coarse (a few milliseconds on Linux, a second or two
    /// on some file systems), so a file rewritten to the same length within that time would keep its stamp and its
    /// stale value. Such a file is read again until it is older than this.
    /// </summary>
    public static readonly TimeSpan RacyWindow = TimeSpan.FromSeconds(2);

    public FileStampCache(int capacity) => Capacity = capacity;

    public int Capacity { get; }

    /// <summary>The value kept for <paramref name="path"/>, if the file still has the size and write time it had.</summary>
    public bool TryGet(string path, FileStatus status, out T value)
    {
        if (_entries.TryGetValue(path, out var hit) && hit.Length == status.Length && hit.Written == status.LastWriteUtc)
        {
            value = hit.Value;
            return true;
        }
        value = default!;
        return false;
    }

    public void Set(string path, FileStatus status, T value) => Set(path, status, value, DateTime.UtcNow);

    internal void Set(string path, FileStatus status, T value, DateTime now)
    {
        if (now - status.LastWriteUtc < RacyWindow)
        {
            if (_entries.TryRemove(path, out _)) Interlocked.Decrement(ref _count);
            return;
        }
        if (Volatile.Read(ref _count) >= Capacity)
        {
            _entries.Clear();
            Volatile.Write(ref _count, 0);
        }
        var entry = (status.Length, status.LastWriteUtc, value);
        if (_entries.TryAdd(path, entry)) Interlocked.Increment(ref _count);
        else _entries[path] = entry;
    }
}
