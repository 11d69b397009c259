using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using ReplayVm.Cli.Hosting;
using ReplayVm.Debugger.Gdb;
using ReplayVm.Debugger.Timeline;
using ReplayVm.Replay;
using ReplayVm.Replay.Timeline;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// <c>replayvm gdb FILE.rvtrace [--port N] [--address A] [--checkpoint-memory SIZE] [--drive FILE]</c>:
/// serves the replayed recording to gdb over the remote serial protocol, with reverse execution,
/// until Ctrl-C (or SIGTERM), then exits 0. A port in use or a bad trace is one line and exit 2.
/// <c>replayvm gdb --live [-o FILE.rvtrace] [run options] GUEST</c> records while gdb debugs: the
/// guest's console is this terminal, continuing past the newest step runs it on live input, and
/// everything up to there can be reverse-executed; the trace is complete when the server stops.
/// </summary>
internal static class GdbCommand
{
    public static Command Create()
    {
        var machineOptions = new MachineOptions("FILE.rvtrace|GUEST",
            "The trace to debug; with --live, the guest to run and record (as for 'record').");
        var live = new Option<bool>("--live")
        {
            Description = "Record while debugging: run GUEST (with the run options of 'record') on this terminal's input; " +
                          "gdb can reverse-execute anything run so far.",
        };
        var liveOptions = new LiveRecordingOptions("With --live");
        var port = CliOptions.Parsed<int?>(["--port"], "N",
            "TCP port to listen on; 0 picks a free one [default: 1234].",
            "port", "0 to 65535", Nullable<int>(TryParsePort));
        var address = CliOptions.Parsed<IPAddress?>(["--address"], "ADDR",
            "Address to listen on. The protocol has no authentication: keep it on loopback unless you mean it [default: 127.0.0.1].",
            "address", "an IP address such as 127.0.0.1 or ::1", TryParseAddress);
        var memory = CliOptions.Parsed<ulong?>(["--checkpoint-memory"], "SIZE",
            "Most host memory the replay checkpoints may use: 512M, 2G (a bare number is MiB) [default: 1/12 of the memory available].",
            "memory size", "examples: 512M, 2G", Nullable<ulong>(NumberSyntax.TryParseMemorySize));
        var idle = CliOptions.Parsed<int?>(["--idle-timeout"], "SECONDS",
            "Drop a gdb that sends nothing for this long while the target is stopped, so a forgotten one does not lock others out; 0 never [default: 600].",
            "idle timeout", "a number of seconds, 0 for never", Nullable<int>(TryParseSeconds));
        var command = new Command("gdb",
            "Serve a trace to gdb (target remote 127.0.0.1:PORT) with reverse execution: reverse-stepi, " +
            "reverse-continue, watchpoints; monitor when/seek/checkpoint/info. Runs until Ctrl-C. " +
            "With --live, records GUEST while debugging it.")
        {
            live, port, address, memory, idle,
        };
        liveOptions.AddTo(command);
        machineOptions.AddTo(command);
        command.SetAction(parsed =>
        {
            int idleSeconds = parsed.GetValue(idle) ?? (int)GdbServerOptions.DefaultIdleTimeout.TotalSeconds;
            var listen = new GdbServerOptions(parsed.GetValue(address) ?? IPAddress.Loopback, parsed.GetValue(port) ?? 1234)
            {
                IdleTimeout = idleSeconds == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(idleSeconds),
            };
            if (ProgressIntervalForTests() is { } interval) listen = listen with { ProgressInterval = interval };
            var settings = machineOptions.Read(parsed);
            if (parsed.GetValue(live))
                return ExecuteLive(settings, liveOptions.Output(parsed), liveOptions.Deterministic(parsed), listen, parsed.GetValue(memory));
            liveOptions.RefuseUnlessLive(parsed, "--live sessions");
            if (machineOptions.Given(parsed).FirstOrDefault(name => name != "--drive") is { } option)
                throw new UsageException($"{option} describes a guest to run: add --live to record one (a trace already holds its machine)");
            if (settings.GuestPath is not { } path) throw new UsageException("give the trace to debug (or --live and a guest)");
            return Execute(path, listen, parsed.GetValue(memory), settings.Drives);
        });
        return command;
    }

    private static int ExecuteLive(RunSettings settings, string? tracePath, bool deterministic, GdbServerOptions listen, ulong? checkpointMemory)
    {
        if (settings.GuestPath is null && settings.BiosPath is null) throw new UsageException("--live needs a guest (or --bios)");
        using var console = HostConsole.FromStdin();
        using var session = LiveSession.Start(settings, tracePath, console.Input, deterministic, checkpointMemory);
        session.Timeline.NewOutput += console.Output.Write;
        var target = new TimelineDebugTarget(session.Timeline, Path.GetFileName(session.TracePath));
        return Serve(target, listen, server =>
        {
            Console.Error.WriteLine($"replayvm: recording to {session.TracePath}; the guest's console is this terminal" +
                                    (TerminalMode.StdinIsTerminal ? " (Ctrl-A x ends the session)" : ""));
            console.RunSession(stop => server.RunAsync(stop).GetAwaiter().GetResult());
        });
    }

    /// <summary>Listens for gdb (a port in use is one line and exit 2), says where, and runs <paramref name="serve"/> until it returns.</summary>
    private static int Serve(TimelineDebugTarget target, GdbServerOptions listen, Action<GdbServer> serve)
    {
        using var server = new GdbServer(target, listen, message => Console.Error.WriteLine($"replayvm: {message}"));
        try
        {
            server.Start();
        }
        catch (SocketException e)
        {
            return CliApp.Fail($"cannot listen on {Endpoint(listen.Address, listen.Port)}: {e.Message}");
        }
        string endpoint = Endpoint(listen.Address, server.Port);
        Console.Error.WriteLine($"replayvm: gdb server listening on {endpoint} (target remote {endpoint})");
        serve(server);
        return 0;
    }

    private static int Execute(string path, GdbServerOptions listen, ulong? checkpointMemory, string[] drivePaths)
    {
        var trace = TraceReader.ReadFile(path);
        using var drives = TraceDrives.ForReplay(drivePaths, trace.Header);
        var disks = drives.For(trace.Header.Setup);
        var (index, build) = TraceSidecar.OpenOrBuild(path, trace, disks, out string? notice);
        using var _ = build;
        ReplayTimeline timeline;
        try
        {
            timeline = new ReplayTimeline(trace, new TimelineOptions
            {
                Index = index,
                IndexBuild = build,
                IndexNotice = TraceSidecar.Notice,
                CheckpointMemory = checkpointMemory is { } bytes ? (long)Math.Min(bytes, long.MaxValue) : null,
                Disks = disks,
            });
        }
        catch (TimelineException e)
        {
            return CliApp.Fail($"{path}: {e.Message}");
        }
        if (trace.TruncationReason is { } truncated)
            Console.Error.WriteLine($"replayvm: {path} is truncated ({truncated}); debugging what it holds");

        // Taken from before the line saying where the server listens: a Ctrl-C right after it still leaves with status 0.
        using var signals = StopOnSignal();
        return Serve(new TimelineDebugTarget(timeline, Path.GetFileName(path)), listen, server =>
        {
            // After that line, which gdb users (and scripts) look for first.
            if (notice is not null) TraceSidecar.Notice(notice);
            build?.WhenFinished(b => TraceSidecar.Notice(TraceSidecar.Describe(b)));
            server.RunAsync(signals.Token).GetAwaiter().GetResult();
        });
    }

    /// <summary>SIGINT, SIGTERM and SIGHUP cancel the token (the server then closes its socket and the command leaves with status 0) while it is held.</summary>
    private sealed class SignalStop : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<PosixSignalRegistration> _signals = [];

        public SignalStop()
        {
            foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
            {
                _signals.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    context.Cancel = true; // leave through the normal path: the socket is closed, the status is 0
                    _stop.Cancel();
                }));
            }
        }

        public CancellationToken Token => _stop.Token;

        public void Dispose()
        {
            foreach (var registration in _signals) registration.Dispose();
            _stop.Dispose();
        }
    }

    private static SignalStop StopOnSignal() => new();

    private static string Endpoint(IPAddress address, int port) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";

    private static bool TryParsePort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65535;

    private static bool TryParseSeconds(string text, out int seconds) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out seconds) && seconds <= 7 * 24 * 3600;

    private static bool TryParseAddress(string text, out IPAddress? address) => IPAddress.TryParse(text, out address);

    private static CliOptions.TryParse<T?> Nullable<T>(CliOptions.TryParse<T> parse) where T : struct =>
        (string text, out T? value) =>
        {
            bool ok = parse(text, out T inner);
            value = ok ? inner : null;
            return ok;
        };

    /// <summary>
    /// A test hook: REPLAYVM_TEST_PROGRESS_INTERVAL_MS shortens the wait before a long run's first
    /// progress line, so tests that interrupt a run once it shows progress do not depend on the run
    /// lasting longer than the default second.
    /// </summary>
    private static TimeSpan? ProgressIntervalForTests() =>
        int.TryParse(Environment.GetEnvironmentVariable("REPLAYVM_TEST_PROGRESS_INTERVAL_MS"), out int ms) && ms > 0 ? TimeSpan.FromMilliseconds(ms) : null;
}
