using System.Net.Http;
using System.Net.Sockets;
using System.Security;
using System.Text.Json;

namespace Paasta.Errors;

/// <summary>
/// Turns any exception that reaches the edge of the engine into a <see cref="PaastaException"/> with a stable
/// ErrorId, so a cmdlet never shows a raw .NET exception (docs/RELIABILITY.md, "Errors"). Messages are redacted.
/// </summary>
public static class ErrorClassifier
{
    public static PaastaException Classify(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } aggregate) e = aggregate.InnerExceptions[0];
        if (e is PaastaException paasta) return paasta;
        var message = Redaction.Apply(e.Message) ?? e.GetType().Name;
        var (id, kind) = e switch
        {
            UnauthorizedAccessException or SecurityException => ("AccessDenied", PaastaErrorKind.SecurityError),
            FileNotFoundException or DirectoryNotFoundException => ("PathNotFound", PaastaErrorKind.ObjectNotFound),
            PathTooLongException => ("PathTooLong", PaastaErrorKind.InvalidArgument),
            IOException => ("FileSystemError", PaastaErrorKind.ReadError),
            TimeoutException => ("OperationTimedOut", PaastaErrorKind.OperationTimeout),
            HttpRequestException or SocketException => ("ConnectionFailed", PaastaErrorKind.ConnectionError),
            JsonException => ("InvalidJson", PaastaErrorKind.InvalidData),
            FormatException => ("InvalidFormat", PaastaErrorKind.InvalidData),
            ArgumentException => ("InvalidArgument", PaastaErrorKind.InvalidArgument),
            OutOfMemoryException or InsufficientExecutionStackException => ("LimitsExceeded", PaastaErrorKind.LimitsExceeded),
            _ when IsNamed(e, "k8s.Autorest.HttpOperationException") => ("KubernetesApiError", PaastaErrorKind.InvalidOperation),
            _ when IsNamed(e, "Docker.DotNet.DockerApiException") => ("DockerApiError", PaastaErrorKind.NotSpecified),
            _ when IsNamed(e, "LibGit2Sharp.LibGit2SharpException") => ("GitError", PaastaErrorKind.InvalidOperation),
            _ => ("UnexpectedError", PaastaErrorKind.NotSpecified),
        };
        return new PaastaException(id, kind, message, e);
    }

    private static bool IsNamed(Exception e, string typeName)
    {
        for (var t = e.GetType(); t is not null; t = t.BaseType)
            if (t.FullName == typeName) return true;
        return false;
    }
}
