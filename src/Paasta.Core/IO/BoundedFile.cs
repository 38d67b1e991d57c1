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
}

/// <summary>
/// The engine's one way to read a file it does not own: only regular files (a FIFO would block the open, a
/// device never ends), and never more bytes than a limit, counted as they are read rather than trusted from
/// the size the file system reports (0 for /dev/zero). See docs/RELIABILITY.md.
/// </summary>
public static class BoundedFile
{
    /// <summary>The limit for files people edit by hand (soa-configs, settings, git refs).</summary>
    public const long DefaultLimit = 10L * 1024 * 1024;

    public static FileKind KindOf(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            var buffer = new byte[256];
            // statx follows symbolic links (flags 0), so a link to /dev/zero is what it points at.
            if (Statx(AtFdCwd, path, 0, StatxType, buffer) != 0)
                return Directory.Exists(path) ? FileKind.Directory : FileKind.Missing;
            var mode = BitConverter.ToUInt16(buffer, 28) & 0xF000;
            return mode switch
            {
                0x8000 => FileKind.Regular,
                0x4000 => FileKind.Directory,
                _ => FileKind.Special,
            };
        }
        if (Directory.Exists(path)) return FileKind.Directory;
        return File.Exists(path) ? FileKind.Regular : FileKind.Missing;
    }

    /// <summary>The file's bytes; refuses what is not a regular file and what is longer than <paramref name="limit"/>.</summary>
    public static byte[] ReadAllBytes(string path, long limit = DefaultLimit)
    {
        RequireRegular(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        var chunk = new byte[64 * 1024];
        using var collected = new MemoryStream();
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (collected.Length + read > limit) throw TooLarge(path, limit);
            collected.Write(chunk, 0, read);
        }
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

    /// <summary>Refuses a path that names anything but a regular file (FileNotFound for a missing one).</summary>
    public static void RequireRegular(string path)
    {
        switch (KindOf(path))
        {
            case FileKind.Regular:
                return;
            case FileKind.Missing:
                throw new PaastaException("FileNotFound", PaastaErrorKind.ObjectNotFound, $"{path} does not exist.") { File = path, Target = path };
            default:
                throw new PaastaException("NotARegularFile", PaastaErrorKind.InvalidData,
                    $"{path} is not a regular file (a folder, FIFO, device or socket); Paasta reads only regular files.") { File = path, Target = path };
        }
    }

    private static PaastaException TooLarge(string path, long limit) =>
        new("FileTooLarge", PaastaErrorKind.LimitsExceeded,
            $"{path} is larger than {Describe(limit)}, the limit for files Paasta reads.") { File = path, Target = path };

    private static string Describe(long bytes) => bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB" : $"{bytes} bytes";

    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
}
