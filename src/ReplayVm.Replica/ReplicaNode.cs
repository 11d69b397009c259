using System.Diagnostics;
using ReplayVm.Core;
using ReplayVm.Core.State;
using ReplayVm.Replay;
using ReplayVm.Replay.Format;
using ReplayVm.Replica.Arbiter;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica;

/// <summary>
/// One replica of a guest: a machine with a <see cref="ReplicaInputPort"/>, the guest's console
/// history, the log (kept for backups that join) and, optionally, a trace file. It starts either
/// live (<see cref="StartPrimary"/>: a recorder whose log also streams to a backup) or following
/// (<see cref="StartBackup"/>: a replayer fed by the log channel that never runs past what the log
/// covers, verifies the primary's state hashes as it passes them, and on the primary's failure
/// replays to the end of the log, wins the arbiter and goes live at exactly that step).
/// </summary>
public sealed partial class ReplicaNode : IDisposable
{
    private readonly ReplicaOptions _options;
    private readonly ReplicaKey _key;
    private readonly IArbiter _arbiter;
    private readonly ReplicaInputPort _port;
    private readonly LogHistory _history = new();
    private readonly List<ReplicaServer> _servers = [];
    private readonly object _state = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ReplicaProfile _profile = new();
    private TraceHeader? _header;
    private Machine? _machine;
    private MachineStateHasher? _hasher;
    private TraceWriter? _trace;
    private FileStream? _traceFile;
    private volatile ReplicaRole _role;
    private RunResult? _final;
    private string? _stopReason;
    private int _exitStatus;

    private ReplicaNode(ReplicaOptions options, ReplicaKey key, IArbiter arbiter)
    {
        _options = options;
        Console = new ConsoleHistory(options.ConsoleHistoryBytes);
        _key = key;
        _arbiter = arbiter;
        _port = new ReplicaInputPort(LogLive, options.Deterministic) { BeforeIdle = PublishBeforeIdle };
        KeepToBudget(options.MaxSteps);
        _port.Diverged += () => _machine?.RequestStop();
        _arbiter.Lost += reason => LostArbiter(reason);
    }

    /// <summary>
    /// The arbiter was lost (a lease expired or could not be renewed): another replica may go live
    /// now, so this one stops at once, releasing nothing more. Output not yet acknowledged stays held.
    /// </summary>
    private void LostArbiter(string reason)
    {
        if (_role is ReplicaRole.Live) Stop($"lost the arbiter {_arbiter.Description}: {reason}; stopping (another replica may go live)", ExitStatuses.LostArbiter);
    }

    public ReplicaRole Role => _role;

    /// <summary>Steps the guest may run at most, live: this replica's <c>--max-instructions</c>, or its primary's (which a backup keeps to once it takes over).</summary>
    private ulong _maxSteps = ulong.MaxValue;

    /// <summary>
    /// Keeps the live guest to <paramref name="budget"/> steps (the tighter of it and any budget
    /// already set). With a budget an idle guest's WFI does not wait for input but runs on, as
    /// <c>record --max-instructions</c> does once its stdin has ended: the budget counts steps,
    /// and a guest waiting for input takes none, so the run would never reach its end.
    /// </summary>
    private void KeepToBudget(ulong budget)
    {
        _maxSteps = Math.Min(_maxSteps, budget);
        _port.IdleSpin = _options.IdleSpin || _maxSteps != ulong.MaxValue;
    }

    /// <summary>The guest's console stream (released bytes are what clients may see).</summary>
    internal ConsoleHistory Console { get; }

    /// <summary>Steps the machine has run (0 before a following replica has its header).</summary>
    public ulong Steps => _machine?.Hart.Steps ?? 0;

    /// <summary>Addresses this replica listens on (port 0 resolved), in the order they were given.</summary>
    public IReadOnlyList<Endpoint> Listening => _servers.Select(s => s.Endpoint).ToList();

    private void Say(string line) => _options.Say(line);

    /// <summary>The arbiter's successor token while no backup may take over.</summary>
    internal const string NoSuccessor = "none";

    /// <summary>
    /// Starts a primary: wins the arbiter (or refuses: another replica is live), builds the guest,
    /// listens for consoles at <paramref name="listen"/> and connects to the backup, if any. Call
    /// <see cref="Run"/> next.
    /// </summary>
    public static ReplicaNode StartPrimary(MachineSetup setup, ReplicaOptions options, ReplicaKey key, IArbiter arbiter,
        IReadOnlyList<Endpoint> listen, Endpoint? backup)
    {
        var node = new ReplicaNode(options, key, arbiter);
        // The backup's connection and handshake (a TCP round trip or two, the crypto library's
        // first use on both sides) proceed while the guest is built, not before it runs.
        (SecureChannel? Channel, string? Failure) connected = default;
        Thread? connecting = null;
        try
        {
            node.OpenTrace();
            if (!arbiter.TryAcquire(TimeSpan.Zero))
                throw new ReplicaException($"another replica is live: the arbiter {arbiter.Description} is held (a second primary is refused)");
            arbiter.PublishSuccessor(NoSuccessor);
            if (backup is not null)
            {
                connecting = new Thread(() =>
                {
                    long cpu = ReplicaProfile.ThreadCpuNow();
                    connected = node.ConnectLog(backup);
                    node._profile.AddThreadCpu("backup connect, CPU", cpu);
                }) { IsBackground = true, Name = "backup connect" };
                connecting.Start();
            }
            long built = ReplicaProfile.Now();
            node.Build(new TraceHeader(setup, options.StateHashInterval, options.RecorderName));
            node._profile.Add("build", built);
            node._port.GoLive();
            node._role = ReplicaRole.Live;
            node.Listen(listen);
            node.ListenPlain();
            node._backupAddress = backup;
            if (connecting is not null)
            {
                long waited = ReplicaProfile.Now();
                connecting.Join();
                connecting = null;
                node._profile.Add("connect backup (after the build)", waited);
                node.UseBackupChannel(backup!, connected, quiet: false, out _);
            }
            return node;
        }
        catch
        {
            connecting?.Join();
            connected.Channel?.Dispose();
            node.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Starts a backup: listens for a primary's log (and consoles, status) at <paramref name="listen"/>.
    /// Once it has taken over, it protects itself with the backup at <paramref name="next"/>, if any
    /// (retried every second, as a primary's <c>--backup</c>). Call <see cref="Run"/> next.
    /// </summary>
    public static ReplicaNode StartBackup(ReplicaOptions options, ReplicaKey key, IArbiter arbiter, IReadOnlyList<Endpoint> listen, Endpoint? next = null)
    {
        var node = new ReplicaNode(options, key, arbiter) { _backupAddress = next };
        try
        {
            node.OpenTrace();
            node._role = ReplicaRole.Waiting;
            node.Listen(listen);
            node.ListenPlain();
            new Thread(WarmUp) { IsBackground = true, Name = "warm-up", Priority = ThreadPriority.BelowNormal }.Start();
            return node;
        }
        catch
        {
            node.Dispose();
            throw;
        }
    }

    /// <summary>
    /// While a backup waits for its primary, loads the channel's crypto (see
    /// <see cref="SecureChannel.WarmUp"/>), then runs a throwaway machine for a few steps and hashes
    /// it, so that the engine's loop and the state hasher (compiled at their first call, not
    /// ahead of time) are compiled before the log arrives: a backup that starts its replay tens of
    /// milliseconds late starts that far behind a primary that runs as fast as it replays, and the
    /// primary then waits for it (the lag bound). It touches nothing of the replica.
    /// </summary>
    private static void WarmUp()
    {
        try
        {
            SecureChannel.WarmUp();
            var machine = new Machine(new MachineConfig { RamSize = 1 << 20, WarmUpOnly = true }, Core.Input.NoInput.Instance, _ => { });
            machine.Run(10_000);
            new MachineStateHasher(machine).Compute();
        }
        catch (Exception)
        {
            // Only a head start, on a background thread whose failure must not end the backup:
            // the replay compiles the same code at its first step anyway.
        }
    }

    /// <summary>
    /// Opens and locks the trace file, if any, before anything else starts, so a replica whose -o
    /// another recorder holds, or that names one of its inputs, is refused at once and writes nothing.
    /// </summary>
    private void OpenTrace()
    {
        if (_options.TracePath is not { } path) return;
        try
        {
            _traceFile = TraceOutputFile.Open(path, _options.TraceInputs);
        }
        catch (TraceOutputException e)
        {
            throw new ReplicaException(e.Message);
        }
    }

    private void Listen(IReadOnlyList<Endpoint> endpoints)
    {
        foreach (var endpoint in endpoints)
        {
            var server = new ReplicaServer(endpoint, _key, HandleConnection, Say);
            _servers.Add(server);
            server.Start();
        }
    }

    /// <summary>
    /// Builds the machine for <paramref name="header"/> and opens the trace file, if any.
    /// <paramref name="encoded"/> is the header as the primary sent it (a backup), or null to encode
    /// it here (a primary); the trace file gets the same bytes, encoded once.
    /// </summary>
    private void Build(TraceHeader header, byte[]? encoded = null)
    {
        if (header.BoardRevision != MachineConfig.BoardRevision)
            throw new ReplicaException($"the log is for board revision {header.BoardRevision}, this replayvm has {MachineConfig.BoardRevision}: run the same replayvm on both replicas");
        if (header.HasherVersion != MachineStateHasher.Version)
            throw new ReplicaException($"the log's state hashes are state-hasher version {header.HasherVersion}, this replayvm computes {MachineStateHasher.Version}: run the same replayvm on both replicas");
        Machine machine;
        try
        {
            machine = (_options.Factory ?? ((s, i, o) => s.Build(i, o)))(header.Setup, _port, Console.Append);
        }
        catch (Exception e) when (e is Core.Loading.GuestImageException or ArgumentException)
        {
            throw new ReplicaException($"cannot build the guest the log describes: {e.Message}");
        }
        _hasher = new MachineStateHasher(machine);
        _header = header;
        _history.Header = encoded ?? TraceLogCodec.EncodeHeader(header);
        if (_traceFile is not null)
        {
            _trace = new TraceWriter(_traceFile, header, _history.Header);
            _traceFile = null;
        }
        _machine = machine;
    }

    /// <summary>
    /// Runs this replica to its end: follows the primary (a backup) until it ends the run or fails,
    /// then, live, runs the guest until it exits. Returns the exit status for the command:
    /// the guest's, or a replica failure's (see <see cref="StopReason"/>).
    /// </summary>
    public int Run()
    {
        try
        {
            if (_role is ReplicaRole.Waiting or ReplicaRole.Backup)
            {
                if (!Follow()) return _exitStatus;
                if (_role != ReplicaRole.Live) return _exitStatus;
            }
            return RunLive();
        }
        finally
        {
            _trace?.Dispose();
            _trace = null;
        }
    }

    /// <summary>Why this replica stopped without ending the guest, or null.</summary>
    public string? StopMessage => _stopReason;

    /// <summary>Stops with a one-line reason and an exit status (a replica failure, never a guest's).</summary>
    private void Stop(string reason, int status)
    {
        lock (_state)
        {
            if (_role is ReplicaRole.Stopped or ReplicaRole.Ended) return;
            _stopReason = reason;
            _exitStatus = status;
            _role = ReplicaRole.Stopped;
            Monitor.PulseAll(_state);
        }
        Say(reason);
        _machine?.RequestStop();
        Console.Wake();
        // A stopped backup must not go on acknowledging as if it protected the primary: tell it why and hang up.
        if (_upstream is { } upstream)
        {
            TrySend(upstream, MessageType.Error, new PayloadWriter().Text($"the backup stopped: {reason}").ToArray());
            upstream.Dispose();
        }
    }

    /// <summary>Client connections served to the run's end, left open for the process's exit (<see cref="ReplicaOptions.ExitClosesSockets"/>).</summary>
    private readonly List<IDisposable> _leftToExit = [];

    /// <summary>
    /// A client connection this replica is done with: closed, unless the run is over and the
    /// process's exit will close it (<see cref="ReplicaOptions.ExitClosesSockets"/>). Such a
    /// connection is kept referenced: one left to the garbage collector would be closed by its
    /// finalizer, at the same cost.
    /// </summary>
    private void Release(IDisposable connection)
    {
        if (_options.ExitClosesSockets && _role is ReplicaRole.Ended or ReplicaRole.Stopped)
        {
            lock (_leftToExit)
            {
                // Bounded: peers connecting again and again while the replica lingers must not
                // hold our descriptors open; past the first few, one close's one-time cost is paid.
                if (_leftToExit.Count < MaxLeftToExit)
                {
                    _leftToExit.Add(connection);
                    return;
                }
            }
        }
        connection.Dispose();
    }

    /// <summary>At most this many connections are left to the process's exit (<see cref="Release"/>).</summary>
    internal const int MaxLeftToExit = 16;

    /// <summary>Asks the replica to end (Ctrl-C): a live one ends the guest's run with an end record, a following one stops.</summary>
    public void RequestStop()
    {
        _stopAsked = true;
        if (_role == ReplicaRole.Live) _machine?.RequestStop();
        else Stop("stopped by request", ExitStatuses.Stopped);
    }

    public void Dispose()
    {
        if (!_options.ExitClosesSockets)
        {
            foreach (var server in _servers) server.Dispose();
            foreach (var server in _plainServers) server.Dispose();
            lock (_leftToExit) foreach (var connection in _leftToExit) connection.Dispose();
        }
        _backupStream?.Dispose();
        _upstream?.Dispose();
        _trace?.Dispose();
        _traceFile?.Dispose();
        _arbiter.Dispose();
        Console.Wake();
    }
}

/// <summary>The replica commands' exit statuses beyond the guest's own.</summary>
public static class ExitStatuses
{
    public const int Usage = 2;
    /// <summary>The backup's replay parted from the primary's log, or the log was damaged: it stopped.</summary>
    public const int Diverged = 3;
    /// <summary>The primary seems gone but the arbiter says another replica is live: this one stops.</summary>
    public const int LostArbiter = 5;
    /// <summary>Stopped by request (a signal) before the guest's run ended.</summary>
    public const int Stopped = 130;
    public const int InstructionLimit = 124;
    public const int TrapLoop = 125;

    public static int For(RunResult result) => result.Reason switch
    {
        Core.StopReason.GuestExit => result.ExitCode,
        Core.StopReason.InstructionLimit => InstructionLimit,
        Core.StopReason.TrapLoop => TrapLoop,
        _ => 0,
    };
}
