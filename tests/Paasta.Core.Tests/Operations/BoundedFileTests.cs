using System.Diagnostics;
using Paasta.Errors;
using Paasta.IO;
using Paasta.Yaml;
using Xunit;

namespace Paasta.Tests.Operations;

public sealed class BoundedFileTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "paasta-bounded-" + Guid.NewGuid().ToString("N")[..8]);

    public BoundedFileTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_link_to_a_device_is_refused_without_reading()
    {
        if (!OperatingSystem.IsLinux()) return;
        var link = Path.Combine(_folder, "kubernetes-x.yaml");
        File.CreateSymbolicLink(link, "/dev/zero");
        Assert.Equal(FileKind.Special, BoundedFile.KindOf(link));
        Assert.Equal("NotARegularFile", Assert.Throws<PaastaException>(() => BoundedFile.ReadAllBytes(link)).ErrorId);
    }

    [Fact]
    public void A_fifo_is_refused_instead_of_blocking()
    {
        if (!OperatingSystem.IsLinux()) return;
        var fifo = Path.Combine(_folder, "fifo");
        Process.Start("mkfifo", fifo).WaitForExit();
        var read = Task.Run(() => Assert.Throws<PaastaException>(() => BoundedFile.ReadAllText(fifo)).ErrorId);
        Assert.True(read.Wait(TimeSpan.FromSeconds(10)), "reading a FIFO must not block");
        Assert.Equal("NotARegularFile", read.Result);
    }

    [Fact]
    public void The_limit_counts_bytes_read()
    {
        var path = Path.Combine(_folder, "big");
        File.WriteAllBytes(path, new byte[1000]);
        Assert.Equal("FileTooLarge", Assert.Throws<PaastaException>(() => BoundedFile.ReadAllBytes(path, 999)).ErrorId);
        Assert.Equal(1000, BoundedFile.ReadAllBytes(path, 1000).Length);
        Assert.Equal(FileKind.Missing, BoundedFile.KindOf(Path.Combine(_folder, "none")));
        Assert.Equal(FileKind.Directory, BoundedFile.KindOf(_folder));
    }

    [Fact]
    public void Stat_gives_the_size_and_write_time_the_file_system_reports_and_follows_links()
    {
        var file = Path.Combine(_folder, "service.yaml");
        File.WriteAllText(file, "description: x\n");
        File.SetLastWriteTimeUtc(file, new DateTime(2026, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc).AddTicks(1234));
        var info = new FileInfo(file);
        Assert.Equal(new FileStatus(FileKind.Regular, info.Length, info.LastWriteTimeUtc), BoundedFile.Stat(file));
        var link = Path.Combine(_folder, "link.yaml");
        File.CreateSymbolicLink(link, file);
        Assert.Equal(BoundedFile.Stat(file), BoundedFile.Stat(link));
        File.CreateSymbolicLink(Path.Combine(_folder, "dangling.yaml"), Path.Combine(_folder, "gone"));
        Assert.Equal(FileKind.BrokenLink, BoundedFile.Stat(Path.Combine(_folder, "dangling.yaml")).Kind);
        Assert.Equal(FileKind.Missing, BoundedFile.Stat(Path.Combine(_folder, "none")).Kind);
    }

    [Fact]
    public void The_stamp_cache_answers_only_for_the_same_size_and_write_time_and_forgets_everything_when_full()
    {
        var cache = new FileStampCache<string>(capacity: 2);
        var stamp = new FileStatus(FileKind.Regular, 10, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        cache.Set("/a", stamp, "parsed a");
        Assert.True(cache.TryGet("/a", stamp, out var hit));
        Assert.Equal("parsed a", hit);
        Assert.False(cache.TryGet("/a", stamp with { Length = 11 }, out _));
        Assert.False(cache.TryGet("/a", stamp with { LastWriteUtc = stamp.LastWriteUtc.AddTicks(1) }, out _));
        cache.Set("/a", stamp, "parsed a again"); // a replaced entry is not counted twice
        cache.Set("/b", stamp, "parsed b");
        Assert.True(cache.TryGet("/a", stamp, out _));
        cache.Set("/c", stamp, "parsed c"); // full: starts again
        Assert.False(cache.TryGet("/a", stamp, out _));
        Assert.True(cache.TryGet("/c", stamp, out _));
    }

    [Fact]
    public void A_file_written_within_the_racy_window_is_not_kept()
    {
        var cache = new FileStampCache<string>(capacity: 10);
        var written = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var stamp = new FileStatus(FileKind.Regular, 10, written);
        cache.Set("/a", stamp, "read at once", now: written.AddMilliseconds(5));
        Assert.False(cache.TryGet("/a", stamp, out _));
        cache.Set("/a", stamp, "read later", now: written + FileStampCache<string>.RacyWindow);
        Assert.True(cache.TryGet("/a", stamp, out var hit));
        Assert.Equal("read later", hit);
    }

    [Fact]
    public void A_file_rewritten_to_the_same_length_and_write_time_is_read_again()
    {
        // Write times are coarse: two writes a few milliseconds apart can leave the same stamp. Forced here.
        var file = Path.Combine(_folder, "kubernetes-c1.yaml");
        File.WriteAllText(file, "main: {cpus: 0.1}\n");
        var written = File.GetLastWriteTimeUtc(file);
        Assert.Equal(0.1, ((Paasta.Yaml.YScalar)((Paasta.Yaml.YMapping)YamlLoader.LoadMappingFile(file)!["main"]!)["cpus"]!).Value);
        File.WriteAllText(file, "main: {cpus: 0.2}\n");
        File.SetLastWriteTimeUtc(file, written);
        Assert.Equal(0.2, ((Paasta.Yaml.YScalar)((Paasta.Yaml.YMapping)YamlLoader.LoadMappingFile(file)!["main"]!)["cpus"]!).Value);
    }
}
