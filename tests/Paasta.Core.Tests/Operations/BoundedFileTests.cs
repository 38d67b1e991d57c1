using System.Diagnostics;
using Paasta.Errors;
using Paasta.IO;
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
}
