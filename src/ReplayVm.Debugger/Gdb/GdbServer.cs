using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace ReplayVm.Debugger.Gdb;

/// <summary>Where the gdb server listens.</summary>
/// <param name="Address">Loopback by default: the protocol has no authentication, so exposing it is the user's explicit choice.</param>
/// <param name="Port">TCP port; 0 picks a free one (see <see cref="GdbServer.Port"/>).</param>
public sealed record GdbServerOptions(IPAddress Address, int Port)
{
    public static GdbServerOptions Default { get; } = new(IPAddress.Loopback, 1234);
}

/// <summary>
/// A GDB Remote Serial Protocol server for one <see cref="IDebugTarget"/>. It serves one client at a time;
/// when a client detaches, kills or vanishes (even mid-packet or mid-run) the session ends, its points are
/// removed, and the server waits for the next connection. A resumed target runs on a worker thread while
/// the session keeps reading the socket, so Ctrl-C (a bare 0x03) can cancel it.
/// </summary>
public sealed class GdbServer : IDisposable
{
    private readonly IDebugTarget _target;
    private readonly TcpListener _listener;
    private readonly Action<string> _log;

    public GdbServer(IDebugTarget target, GdbServerOptions? options = null, Action<string>? log = null)
    {
        _target = target;
        options ??= GdbServerOptions.Default;
        _listener = new TcpListener(options.Address, options.Port);
        _log = log ?? (_ => { });
    }

    /// <summary>The port actually bound (meaningful after <see cref="Start"/>; useful when asked for port 0).</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Binds the socket; throws <see cref="SocketException"/> if the port is taken.</summary>
    public void Start() => _listener.Start(backlog: 1);

    /// <summary>Accepts and serves clients one after another until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(cancellation);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            using (client)
            {
                client.NoDelay = true;
                _log($"gdb connected from {client.Client.RemoteEndPoint}");
                await ServeAsync(client.GetStream(), cancellation);
                _log("gdb disconnected");
            }
        }
    }

    /// <summary>Serves one client over any duplex stream until it leaves; never throws for client behaviour.</summary>
    public async Task ServeAsync(Stream stream, CancellationToken cancellation)
    {
        var session = new Session(_target, stream);
        try
        {
            await session.RunAsync(cancellation);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
            // The client went away while we were writing, or the server is shutting down.
        }
        finally
        {
            session.Handler.EndSession();
        }
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>One connection: reads events on a background task, handles packets, runs the target.</summary>
    private sealed class Session(IDebugTarget target, Stream stream)
    {
        public GdbCommandHandler Handler { get; } = new(target);
        private readonly Channel<RspEvent> _events = Channel.CreateUnbounded<RspEvent>();
        private readonly Queue<RspEvent> _deferred = new();
        private byte[]? _lastSent;

        public async Task RunAsync(CancellationToken cancellation)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            Task pump = PumpAsync(new RspReader(stream, GdbCommandHandler.PacketSize * 2), stop.Token);
            try
            {
                while (true)
                {
                    if (!_deferred.TryDequeue(out RspEvent? ev))
                    {
                        if (!await _events.Reader.WaitToReadAsync(cancellation)) return;
                        if (!_events.Reader.TryRead(out ev)) continue;
                    }
                    if (!await HandleEventAsync(ev, cancellation)) return;
                }
            }
            finally
            {
                stop.Cancel();
                await pump;
            }
        }

        private async Task PumpAsync(RspReader reader, CancellationToken cancellation)
        {
            try
            {
                while (await reader.ReadAsync(cancellation) is { } ev) await _events.Writer.WriteAsync(ev, cancellation);
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                _events.Writer.TryComplete();
            }
        }

        // Returns false when the session is over.
        private async Task<bool> HandleEventAsync(RspEvent ev, CancellationToken cancellation)
        {
            switch (ev.Kind)
            {
                case RspEventKind.Nack:
                    if (_lastSent is not null && !Handler.NoAckMode) await WriteAsync(_lastSent, cancellation);
                    return true;
                case RspEventKind.Ack:
                case RspEventKind.Interrupt: // nothing is running: nothing to stop
                    return true;
            }

            if (!Handler.NoAckMode)
            {
                bool good = ev.ChecksumOk && ev.Payload is not null;
                await WriteAsync([(byte)(good ? '+' : '-')], cancellation);
                if (!good) return true;
            }
            else if (ev.Payload is null)
            {
                // Without acks nothing asks for a resend: answer so the client does not wait forever.
                await SendAsync("E01", cancellation);
                return true;
            }

            GdbReply reply = Handler.Handle(ev.Payload!);
            switch (reply)
            {
                case GdbReply.Send send:
                    await SendAsync(send.Payload, cancellation);
                    return !send.ThenEndSession;
                case GdbReply.Resume resume:
                    return await RunTargetAsync(resume.Run, cancellation);
                default:
                    return false; // EndSession
            }
        }

        // Runs the target on a worker while watching the client for Ctrl-C or a hang-up.
        private async Task<bool> RunTargetAsync(Func<CancellationToken, StopEvent> run, CancellationToken cancellation)
        {
            using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            Task<StopEvent> running = Task.Run(() => run(interrupt.Token), CancellationToken.None);
            bool clientGone = false;
            while (!running.IsCompleted)
            {
                Task<bool> more = _events.Reader.WaitToReadAsync(CancellationToken.None).AsTask();
                if (await Task.WhenAny(running, more) == running) break;
                if (!await more)
                {
                    clientGone = true;
                    interrupt.Cancel();
                    break;
                }
                while (_events.Reader.TryRead(out RspEvent? ev))
                {
                    // In all-stop mode gdb sends nothing but Ctrl-C while the target runs; anything
                    // else a client sends early is answered after the stop reply, not dropped.
                    if (ev.Kind == RspEventKind.Interrupt) interrupt.Cancel();
                    else _deferred.Enqueue(ev);
                }
            }

            StopEvent stop;
            try
            {
                stop = await running;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                if (clientGone) return false;
                await SendAsync("E02", cancellation);
                return true;
            }
            if (clientGone) return false;
            await SendAsync(Handler.RecordStop(stop), cancellation);
            return true;
        }

        private Task SendAsync(string payload, CancellationToken cancellation)
        {
            byte[] frame = RspCodec.Frame(RspCodec.AsBytes(payload));
            _lastSent = frame;
            return WriteAsync(frame, cancellation);
        }

        private async Task WriteAsync(byte[] bytes, CancellationToken cancellation)
        {
            await stream.WriteAsync(bytes, cancellation);
            await stream.FlushAsync(cancellation);
        }
    }
}
