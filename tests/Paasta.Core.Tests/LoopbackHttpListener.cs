using System.Net;
using System.Net.Sockets;

namespace Paasta.Tests;

/// <summary>
/// An HttpListener on a free loopback port. The port is probed first and may be taken again before the listener
/// binds (other tests and processes share the machine), so binding is retried on a fresh listener each time.
/// </summary>
public static class LoopbackHttpListener
{
    public static HttpListener Start(out int port)
    {
        for (var attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return listener;
            }
            catch (HttpListenerException) when (attempt < 20)
            {
                listener.Close();
            }
        }
    }

    /// <summary>
    /// Stops and closes a listener. The managed HttpListener looks its port up again while closing and can
    /// fail with "address already in use" when another listener of the process took that port meanwhile.
    /// </summary>
    public static void Close(HttpListener listener)
    {
        try { listener.Stop(); }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { }
        try { listener.Close(); }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { }
    }
}
