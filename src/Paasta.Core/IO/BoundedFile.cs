using System.Runtime.InteropServices;
using System.Text;
using Paasta.Errors;

namespace Paasta.IO;

/// <summary>What a path names, after following symbolic links.</summary>
public enum FileKind
{
    Missing,
    Regular,
    Directory,
    /// <summary>A FIFO, device, socket: reading it can block forever or never end (docs/RELIABILITY.md).</summary>
    Special,
    /// <summary>A symbolic link whose target does not exist, or a loop of links.</summary>
    BrokenLink,
}

/// <summary>What a path names; for a regular file, also its size and last write time (UTC).</summary>
public readonly record struct FileStatus(FileKind Kind, long Length, DateTime LastWriteUtc);

/// <summary>
/// The engine's one way to read a file it does not own: only regular files (a FIFO would block the open, a
/// device never ends), and never more bytes than a limit, counted as they are read rather than trusted from
/// the size the file system reports (0 for /dev/zero). See docs/RELIABILITY.md, "Limits".
/// </summary>
public static class BoundedFile
{
    /// <summary>The limit for files people edit by hand (soa-configs, settings, git refs).</summary>
    public const long DefaultLimit = 10L * 1024 * 1024;

    public static FileKind KindOf(string path) => Stat(path).Kind;

    /// <summary>
    /// What a path names, with its size and write time when it is a regular file: one system call on Linux, as the
    /// caches of parsed files ask this of every file on every read (docs/RELIABILITY.md, "Limits").
    /// </summary>
    public static FileStatus Stat(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            Span<byte> buffer = stackalloc byte[StatxBytes];
            // statx follows symbolic links (flags 0), so a link to /dev/zero is what it points at.
            if (Statx(AtFdCwd, path, 0, StatxType | StatxMtime | StatxSizeField, ref MemoryMarshal.GetReference(buffer)) != 0)
            {
                // The target is unreachable: a link that leads nowhere is not the same as no file at all.
                if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, ref MemoryMarshal.GetReference(buffer)) == 0) return new(FileKind.BrokenLink, 0, default);
                return new(Directory.Exists(path) ? FileKind.Directory : FileKind.Missing, 0, default);
            }
            var kind = (BitConverter.ToUInt16(buffer[28..]) & 0xF000) switch
            {
                0x8000 => FileKind.Regular,
                0x4000 => FileKind.Directory,
                _ => FileKind.Special,
            };
            var length = (long)BitConverter.ToUInt64(buffer[40..]);
            var written = DateTime.UnixEpoch.AddTicks(BitConverter.ToInt64(buffer[112..]) * TimeSpan.TicksPerSecond + BitConverter.ToUInt32(buffer[120..]) / 100);
            return new(kind, length, written);
        }
        // Elsewhere .NET cannot tell a FIFO from a file; only links and folders are told apart.
        if (Directory.Exists(path)) return new(FileKind.Directory, 0, default);
        var info = new FileInfo(path);
        if (info.Exists) return new(FileKind.Regular, info.Length, info.LastWriteTimeUtc);
        return new(info.LinkTarget is not null ? FileKind.BrokenLink : FileKind.Missing, 0, default);
    }

    /// <summary>The file's bytes; refuses what is not a regular file and what is longer than <paramref name="limit"/>.</summary>
    public static byte[] ReadAllBytes(string path, long limit = DefaultLimit)
    {
        using var stream = OpenRead(path, limit);
        using var collected = new MemoryStream();
        stream.CopyTo(collected, 64 * 1024);
        return collected.ToArray();
    }

    /// <summary>The file's text (UTF-8 unless <paramref name="encoding"/> says otherwise), bounded as <see cref="ReadAllBytes"/>.</summary>
    public static string ReadAllText(string path, long limit = DefaultLimit, Encoding? encoding = null)
    {
        var bytes = ReadAllBytes(path, limit);
        var enc = encoding ?? Encoding.UTF8;
        var start = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        return enc.GetString(bytes, start, bytes.Length - start);
    }

    /// <summary>The file's text, or null when nothing is at the path (a broken link, a FIFO or a folder is still refused).</summary>
    public static string? ReadAllTextIfExists(string path, long limit = DefaultLimit, Encoding? encoding = null) =>
        KindOf(path) == FileKind.Missing ? null : ReadAllText(path, limit, encoding);

    /// <summary>The file's lines (\n, \r\n or \r), bounded as <see cref="ReadAllBytes"/>.</summary>
    public static string[] ReadAllLines(string path, long limit = DefaultLimit, Encoding? encoding = null)
    {
        var lines = new List<string>();
        using var reader = new StringReader(ReadAllText(path, limit, encoding));
        while (reader.ReadLine() is { } line) lines.Add(line);
        return lines.ToArray();
    }

    /// <summary>
    /// A stream over a regular file that throws FileTooLarge once more than <paramref name="limit"/> bytes have
    /// been read: for callers that read line by line (wrap it in a StreamReader).
    /// </summary>
    public static Stream OpenRead(string path, long limit = DefaultLimit)
    {
        RequireRegular(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        try
        {
            // A size already over the limit is refused before reading; a file that grows is caught by the count.
            if (stream.Length > limit) throw TooLarge(path, limit);
            return new CountingStream(stream, path, limit);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Refuses a path that names anything but a regular file (FileNotFound for a missing one).</summary>
    public static void RequireRegular(string path)
    {
        switch (KindOf(path))
        {
            case FileKind.Regular:
                return;
            case FileKind.Missing:
                throw new PaastaException("FileNotFound", PaastaErrorKind.ObjectNotFound, $"{path} does not exist.") { File = path, Target = path };
            case FileKind.BrokenLink:
                throw new PaastaException("FileNotFound", PaastaErrorKind.ObjectNotFound,
                    $"{path} is a symbolic link whose target does not exist (or a loop of links).") { File = path, Target = path };
            default:
                throw new PaastaException("NotARegularFile", PaastaErrorKind.InvalidData,
                    $"{path} is not a regular file (a folder, FIFO, device or socket); Paasta reads only regular files.") { File = path, Target = path };
        }
    }

    private static PaastaException TooLarge(string path, long limit) =>
        new("FileTooLarge", PaastaErrorKind.LimitsExceeded,
            $"{path} is larger than {Describe(limit)}, the limit for files Paasta reads.") { File = path, Target = path };

    /// <summary>"10 MiB" or "1000 bytes".</summary>
    public static string Describe(long bytes) => bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB" : $"{bytes} bytes";

    /// <summary>Counts what is read and refuses to go past the limit.</summary>
    private sealed class CountingStream : Stream
    {
        private readonly Stream _inner;
        private readonly string _path;
        private readonly long _limit;
        private long _read;

        public CountingStream(Stream inner, string path, long limit) => (_inner, _path, _limit) = (inner, path, limit);

        public override int Read(byte[] buffer, int offset, int count) => Count(_inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Count(_inner.Read(buffer));

        private int Count(int read)
        {
            _read += read;
            if (_read > _limit) throw TooLarge(_path, _limit);
            return read;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _inner.Dispose();
            base.Dispose(disposing);
        }
    }

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const uint StatxMtime = 0x40;
    private const uint StatxSizeField = 0x200;
    // struct statx is 256 bytes: stx_mode at 28, stx_size at 40, stx_mtime (seconds, then nanoseconds) at 112.
    private const int StatxBytes = 256;

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, ref byte buffer);
}
