using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace ReplayVm.Debugger.Gdb;

/// <summary>Where the gdb server listens, and how it treats clients that go quiet.</summary>
/// <param name="Address">Loopback by default: the protocol has no authentication, so exposing it is the user's explicit choice.</param>
/// <param name="Port">TCP port; 0 picks a free one (see <see cref="GdbServer.Port"/>).</param>
public sealed record GdbServerOptions(IPAddress Address, int Port)
{
    public static GdbServerOptions Default { get; } = new(IPAddress.Loopback, 1234);

    /// <summary>The default <see cref="IdleTimeout"/>: long enough to think, short enough that a forgotten gdb frees the server.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(10);

    /// <summary>A connection that sends no packet this long after connecting is not a gdb: it is closed.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A session that sends nothing this long while the target is stopped is closed, so that a gdb left
    /// behind does not lock everyone else out (<see cref="Timeout.InfiniteTimeSpan"/>: never). A running
    /// target is not idle: gdb is waiting for it.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = DefaultIdleTimeout;

    /// <summary>How often a long run prints its progress on gdb's console (the first after this long).</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// A GDB Remote Serial Protocol server for one <see cref="IDebugTarget"/>. It serves one client at a
/// time: while a session lasts, another connection gets one error reply saying so (gdb prints it) and is
/// closed, never queued behind it. A session ends when its client detaches, kills or vanishes (even
/// mid-packet or mid-run), or stays silent past <see cref="GdbServerOptions.IdleTimeout"/>; its points
/// are removed and the next client starts clean. Long work runs on a worker thread while the session
/// keeps reading the socket, so Ctrl-C (a bare 0x03) cancels it, and it prints its progress on gdb's
/// console (O packets) every <see cref="GdbServerOptions.ProgressInterval"/>.
/// </summary>
public sealed class GdbServer : IDisposable
{
    /// <summary>At most this many connections wait to be refused; beyond that one is closed at once (a flood must not cost threads).</summary>
    private const int MaxPendingRefusals = 4;

    private readonly IDebugTarget _target;
    private readonly GdbServerOptions _options;
    private readonly TcpListener _listener;
    private readonly Action<string> _log;

    /// <summary>The session being served, for the refusal message; null between clients.</summary>
    private volatile Session? _current;

    public GdbServer(IDebugTarget target, GdbServerOptions? options = null, Action<string>? log = null)
    {
        _target = target;
        _options = options ?? GdbServerOptions.Default;
        _listener = new TcpListener(_options.Address, _options.Port);
        _log = log ?? (_ => { });
    }

    /// <summary>The port actually bound (meaningful after <see cref="Start"/>; useful when asked for port 0).</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Binds the socket; throws <see cref="SocketException"/> if the port is taken.</summary>
    public void Start() => _listener.Start(backlog: 4);

    /// <summary>Accepts clients until cancelled: serves one at a time and refuses the others while it does.</summary>
    public async Task RunAsync(CancellationToken cancellation)
    {
        var connections = new List<Task>();
        try
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
                connections.RemoveAll(t => t.IsCompleted);
                if (connections.Count > MaxPendingRefusals)
                {
                    client.Dispose(); // a flood must not cost threads
                    continue;
                }
                client.NoDelay = true;
                connections.Add(Task.Run(() => ConnectionAsync(client, cancellation), CancellationToken.None));
            }
        }
        finally
        {
            await Task.WhenAll(connections);
        }
    }

    /// <summary>
    /// One connection: served if no one else is; otherwise it waits for its first packet (gdb discards
    /// what arrives before it asks) and a moment more, in case the other session is just ending (a gdb
    /// that disconnects and reconnects at once), and is then refused with an error reply gdb prints.
    /// </summary>
    private async Task ConnectionAsync(TcpClient client, CancellationToken cancellation)
    {
        // Until the first packet: gives up on a silent connection, and on all when the server stops.
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using (client)
        {
            string peer = client.Client.RemoteEndPoint?.ToString() ?? "?";
            var stream = client.GetStream();
            var reader = new RspReader(stream, GdbCommandHandler.PacketSize * 2);
            Task<RspEvent?>? firstPacket = null;
            try
            {
                if (!await _slot.WaitAsync(0, CancellationToken.None))
                {
                    handshake.CancelAfter(_options.HandshakeTimeout);
                    firstPacket = FirstPacketAsync(reader, handshake.Token);
                    Task<bool> slot = _slot.WaitAsync(Timeout.Infinite, handshake.Token);
                    await Task.WhenAny(firstPacket, slot);
                    if (!slot.IsCompleted && firstPacket.IsCompletedSuccessfully && firstPacket.Result is not null)
                        await Task.WhenAny(slot, Task.Delay(ReconnectGrace, CancellationToken.None));
                    if (!slot.IsCompletedSuccessfully)
                    {
                        handshake.Cancel();
                        await Task.WhenAll(slot.ContinueWith(_ => { }, TaskScheduler.Default), firstPacket.ContinueWith(_ => { }, TaskScheduler.Default));
                        if (firstPacket.IsCompletedSuccessfully && firstPacket.Result is not null) await RefuseAsync(client, stream, peer);
                        return;
                    }
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
            {
                return; // it left, or never spoke: nothing to tell it
            }

            try
            {
                _log($"gdb connected from {peer}");
                string why = await ServeAsync(stream, reader, firstPacket, cancellation, peer);
                _log($"gdb from {peer} disconnected ({why})");
            }
            finally
            {
                _slot.Release();
            }
        }
    }

    /// <summary>How long a refused connection waits in case the session in its way is ending.</summary>
    private static readonly TimeSpan ReconnectGrace = TimeSpan.FromSeconds(1);

    /// <summary>Serving one client at a time.</summary>
    private readonly SemaphoreSlim _slot = new(1, 1);

    private static async Task<RspEvent?> FirstPacketAsync(RspReader reader, CancellationToken cancellation)
    {
        RspEvent? first;
        do first = await reader.ReadAsync(cancellation);
        while (first is { Kind: not RspEventKind.Packet });
        return first;
    }

    /// <summary>Serves one client over any duplex stream until it leaves; never throws for client behaviour. Returns why the session ended.</summary>
    public Task<string> ServeAsync(Stream stream, CancellationToken cancellation, string peer = "a client") =>
        ServeAsync(stream, new RspReader(stream, GdbCommandHandler.PacketSize * 2), null, cancellation, peer);

    private async Task<string> ServeAsync(Stream stream, RspReader reader, Task<RspEvent?>? firstPacket, CancellationToken cancellation, string peer)
    {
        var session = new Session(_target, stream, _options, _log, peer);
        _current = session;
        try
        {
            return await session.RunAsync(reader, firstPacket, cancellation);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
            // The client went away while we were writing, or the server is shutting down.
            return cancellation.IsCancellationRequested ? "the server is stopping" : "the connection broke";
        }
        finally
        {
            session.Handler.EndSession();
            _current = null;
        }
    }

    /// <summary>Answers gdb's first packet with an error reply that gdb prints ("E.text"), then closes.</summary>
    private async Task RefuseAsync(TcpClient client, NetworkStream stream, string peer)
    {
        string busy = BusyMessage();
        _log($"refused gdb from {peer}: {busy}");
        using var timeout = new CancellationTokenSource(_options.HandshakeTimeout);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("+"), timeout.Token);
        await stream.WriteAsync(RspCodec.Frame(RspCodec.AsBytes("E." + busy)), timeout.Token);
        await stream.FlushAsync(timeout.Token);
        client.Client.Shutdown(SocketShutdown.Send);
        // Let gdb read the reply (and ack it) before the socket goes, so a reset does not swallow it.
        var drain = new byte[256];
        while (await stream.ReadAsync(drain, timeout.Token) > 0) { }
    }

    private string BusyMessage()
    {
        var current = _current;
        string who = current is null ? "another gdb" : $"another gdb (from {current.Peer}, idle {current.IdleSeconds} s)";
        string dropped = _options.IdleTimeout == Timeout.InfiniteTimeSpan
            ? ""
            : string.Create(CultureInfo.InvariantCulture, $", or wait: a client idle for {Seconds(_options.IdleTimeout)} s is dropped");
        return $"replayvm serves one gdb at a time and {who} is connected; detach or quit that one first{dropped}";
    }

    private static string Seconds(TimeSpan span) => ((long)span.TotalSeconds).ToString(CultureInfo.InvariantCulture);

    public void Dispose() => _listener.Dispose();

    /// <summary>One connection: reads events on a background task, handles packets, runs long work on a worker.</summary>
    private sealed class Session(IDebugTarget target, Stream stream, GdbServerOptions options, Action<string> log, string peer)
    {
        public GdbCommandHandler Handler { get; } = new(target);
        public string Peer => peer;
        private readonly Channel<RspEvent> _events = Channel.CreateUnbounded<RspEvent>();
        private readonly Queue<RspEvent> _deferred = new();
        private byte[]? _lastSent;
        private bool _spoke;
        private long _lastHeardTicks = Environment.TickCount64;

        public long IdleSeconds => (Environment.TickCount64 - Interlocked.Read(ref _lastHeardTicks)) / 1000;

        /// <summary>Serves until the session ends; returns why.</summary>
        public async Task<string> RunAsync(RspReader reader, Task<RspEvent?>? firstPacket, CancellationToken cancellation)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            Task pump = PumpAsync(reader, firstPacket, stop.Token);
            try
            {
                while (true)
                {
                    if (!_deferred.TryDequeue(out RspEvent? ev))
                    {
                        TimeSpan limit = _spoke ? options.IdleTimeout : options.HandshakeTimeout;
                        using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                        if (limit != Timeout.InfiniteTimeSpan) quiet.CancelAfter(limit);
                        try
                        {
                            if (!await _events.Reader.WaitToReadAsync(quiet.Token)) return "it closed the connection";
                        }
                        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
                        {
                            return _spoke
                                ? $"idle for {Seconds(limit)} s: dropped so that another gdb can connect"
                                : $"no packet within {Seconds(limit)} s of connecting: not a gdb";
                        }
                        if (!_events.Reader.TryRead(out ev)) continue;
                    }
                    if (await HandleEventAsync(ev, cancellation) is { } ended) return ended;
                }
            }
            finally
            {
                stop.Cancel();
                await pump;
            }
        }

        private async Task PumpAsync(RspReader reader, Task<RspEvent?>? firstPacket, CancellationToken cancellation)
        {
            try
            {
                // A connection that waited for its turn has read its first packet already.
                if (firstPacket is not null)
                {
                    if (await firstPacket is not { } first) return;
                    await _events.Writer.WriteAsync(first, cancellation);
                }
                while (await reader.ReadAsync(cancellation) is { } ev)
                {
                    Interlocked.Exchange(ref _lastHeardTicks, Environment.TickCount64);
                    await _events.Writer.WriteAsync(ev, cancellation);
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                _events.Writer.TryComplete();
            }
        }

        // Returns why the session is over, or null to go on.
        private async Task<string?> HandleEventAsync(RspEvent ev, CancellationToken cancellation)
        {
            switch (ev.Kind)
            {
                case RspEventKind.Nack:
                    if (_lastSent is not null && !Handler.NoAckMode) await WriteAsync(_lastSent, cancellation);
                    return null;
                case RspEventKind.Ack:
                case RspEventKind.Interrupt: // nothing is running: nothing to stop
                    return null;
            }
            _spoke = true;

            if (!Handler.NoAckMode)
            {
                bool good = ev.ChecksumOk && ev.Payload is not null;
                await WriteAsync([(byte)(good ? '+' : '-')], cancellation);
                if (!good) return null;
            }
            else if (ev.Payload is null)
            {
                // Without acks nothing asks for a resend: answer so the client does not wait forever.
                await SendAsync("E01", cancellation);
                return null;
            }

            GdbReply reply;
            try
            {
                reply = Handler.Handle(ev.Payload!);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                await SendAsync(InternalError(e, RspCodec.AsText(ev.Payload!)), cancellation);
                return null;
            }
            switch (reply)
            {
                case GdbReply.Send send:
                    await SendAsync(send.Payload, cancellation);
                    return send.ThenEndSession ? "it detached or killed the session" : null;
                case GdbReply.Run run:
                    return await RunWorkAsync(run, cancellation);
                default:
                    return "it killed the session"; // EndSession
            }
        }

        /// <summary>
        /// A bug in ReplayVm, not the client's fault: the server says so on its log with the stack (so it
        /// gets reported and fixed) and gdb gets one error line; the session goes on.
        /// </summary>
        private string InternalError(Exception e, string packet)
        {
            string shown = packet.Length > 40 ? packet[..40] + "..." : packet;
            log($"internal error handling the packet '{shown}' (please report it): {e}");
            return $"E.replayvm internal error: {e.GetType().Name}: {e.Message} (details on the server's stderr)";
        }

        /// <summary>Runs long work on a worker while watching the client for Ctrl-C or a hang-up, printing progress.</summary>
        private async Task<string?> RunWorkAsync(GdbReply.Run run, CancellationToken cancellation)
        {
            using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            var progress = new LatestProgress();
            Task<RunOutcome> running = Task.Run(() => run.Work(interrupt.Token, progress), CancellationToken.None);
            var reporter = new ProgressReporter(run.Activity);
            bool clientGone = false;
            Task<bool>? more = null;
            using (var ticks = new PeriodicTimer(options.ProgressInterval))
            {
                Task<bool>? tick = null;
                while (!running.IsCompleted)
                {
                    more ??= _events.Reader.WaitToReadAsync(CancellationToken.None).AsTask();
                    tick ??= ticks.WaitForNextTickAsync(CancellationToken.None).AsTask();
                    Task done = await Task.WhenAny(running, more, tick);
                    if (done == running) break;
                    if (done == tick)
                    {
                        tick = null;
                        if (reporter.Line(progress) is { } line) await SendAsync("O" + RspCodec.ToHex(Encoding.UTF8.GetBytes(line)), cancellation);
                        continue;
                    }
                    more = null;
                    if (!await (Task<bool>)done)
                    {
                        clientGone = true;
                        interrupt.Cancel();
                        break;
                    }
                    while (_events.Reader.TryRead(out RspEvent? ev))
                    {
                        // In all-stop mode gdb sends nothing but Ctrl-C while the target runs; anything
                        // else a client sends early is answered after the reply, not dropped.
                        if (ev.Kind == RspEventKind.Interrupt) interrupt.Cancel();
                        else _deferred.Enqueue(ev);
                    }
                }
            }

            RunOutcome outcome;
            try
            {
                outcome = await running;
            }
            catch (DebugTargetException e)
            {
                outcome = new RunOutcome("E." + e.Message, $"replayvm: {e.Message}\n");
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                outcome = new RunOutcome(InternalError(e, run.Activity));
            }
            if (clientGone) return "it closed the connection";
            if (outcome.Console is { } text) await SendAsync("O" + RspCodec.ToHex(Encoding.UTF8.GetBytes(text)), cancellation);
            await SendAsync(outcome.Reply, cancellation);
            return null;
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

    /// <summary>The newest progress a worker reported; read by the session between ticks.</summary>
    private sealed class LatestProgress : IProgress<RunProgress>
    {
        private readonly Lock _lock = new();
        private RunProgress? _latest, _first;

        public RunProgress? Latest
        {
            get { lock (_lock) return _latest; }
        }

        /// <summary>The first sample, reported as the run starts: where the speed is measured from.</summary>
        public RunProgress? First
        {
            get { lock (_lock) return _first; }
        }

        public void Report(RunProgress value)
        {
            lock (_lock)
            {
                _first ??= value;
                _latest = value;
            }
        }
    }

    /// <summary>Turns progress samples into console lines: how far, where, and how fast since the last line.</summary>
    private sealed class ProgressReporter(string activity)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private (ulong Position, TimeSpan At)? _previous;

        public string? Line(LatestProgress progress)
        {
            if (progress.Latest is not { } p) return null;
            TimeSpan now = _clock.Elapsed;
            if (_previous is null && progress.First is { } first) _previous = (first.Position, TimeSpan.Zero);
            var text = new StringBuilder("replayvm: ").Append(activity);
            if (p.Fraction is { } f) text.Append(CultureInfo.InvariantCulture, $" {Math.Clamp(f, 0, 1) * 100:0}%");
            text.Append(CultureInfo.InvariantCulture, $", at event {p.Position}");
            if (_previous is { } prev && now > prev.At)
            {
                double distance = p.Position >= prev.Position ? p.Position - prev.Position : prev.Position - p.Position;
                double rate = distance / (now - prev.At).TotalSeconds;
                if (rate >= 1e6) text.Append(CultureInfo.InvariantCulture, $", {rate / 1e6:0.#} M events/s");
                else text.Append(CultureInfo.InvariantCulture, $", {rate / 1e3:0} k events/s");
            }
            _previous = (p.Position, now);
            return text.Append("; Ctrl-C stops it\n").ToString();
        }
    }
}
