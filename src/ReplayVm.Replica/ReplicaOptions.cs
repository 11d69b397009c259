using ReplayVm.Core;
using ReplayVm.Replay;

namespace ReplayVm.Replica;

/// <summary>How a replica runs; the defaults detect a dead primary within 200 ms.</summary>
public sealed record ReplicaOptions
{
    /// <summary>The primary sends something (a log batch or a heartbeat) at least this often, and so does the backup (acknowledgements).</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// Silence on the log channel this long (six missed heartbeats by default) makes the backup
    /// suspect the primary. Suspicion alone never starts a failover: the backup then asks the
    /// arbiter, and takes over only if it wins it (a live primary holds it, however starved).
    /// </summary>
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromMilliseconds(150);

    /// <summary>
    /// Silence this long ends the log channel: the primary drops a backup that has not
    /// acknowledged anything for this long (and runs on unprotected), and a backup whose primary
    /// still holds the arbiter but has sent nothing for this long knows it has been dropped, and stops.
    /// </summary>
    public TimeSpan PeerTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The primary waits when the backup's replay is this many steps behind it (never the reverse).
    /// A backstop: <see cref="MaxLagTime"/> is the bound that matters, and this one stays well
    /// above it at the translator's speed (about 10⁹ steps/s here), since a step bound tighter than
    /// the backup's normal lag (a batch interval or two) makes the primary wait at every slice.
    /// </summary>
    public ulong MaxLagSteps { get; init; } = 200_000_000;

    /// <summary>
    /// The primary also waits when the backup's replay is behind where the primary was this long
    /// ago: a failover then has at most about this much of the primary's running to replay, however
    /// fast or loaded the machines are.
    /// </summary>
    public TimeSpan MaxLagTime { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Steps the live replica runs between looks at its log; bounds how late output and batches are.</summary>
    public ulong SliceSteps { get; init; } = 250_000;

    /// <summary>Input or new console output after a quiet spell goes out in a batch this soon after the last batch (the output rule then waits only a round trip more).</summary>
    public TimeSpan BatchInterval { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>
    /// Otherwise a batch goes out at most this often: while input or output keeps coming, and when
    /// it would only move the frontier. A frontier only paces the backup's replay, so this can be
    /// well under <see cref="MaxLagTime"/> and <see cref="HeartbeatInterval"/> and still cost the
    /// replicas far fewer wake-ups.
    /// </summary>
    public TimeSpan QuietBatchInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    public ulong StateHashInterval { get; init; } = TraceHeader.DefaultStateHashInterval;

    public string RecorderName { get; init; } = "replayvm replica";

    /// <summary>Clock and entropy from fixed sources while live (as <c>record --deterministic</c>).</summary>
    public bool Deterministic { get; init; }

    /// <summary>
    /// While live, a WFI with nothing pending is a no-op and the guest runs on at full speed
    /// (steps, and so guest time, advance while it idles), as QEMU's <c>-icount sleep=off</c>;
    /// by default an idle guest waits for a client's input as a recording waits for stdin.
    /// </summary>
    public bool IdleSpin { get; init; }

    /// <summary>
    /// The most recent console bytes a replica keeps for clients to read from their offsets (and
    /// to resume from after a failover): memory is bounded by this, never by what the guest prints.
    /// A client asking for an older offset is told which bytes were dropped.
    /// </summary>
    public long ConsoleHistoryBytes { get; init; } = ConsoleHistory.DefaultCapacity;

    public const long DefaultConsoleHistoryBytes = ConsoleHistory.DefaultCapacity, MaxConsoleHistoryBytes = ConsoleHistory.MaxCapacity;

    /// <summary>Where this replica writes its trace, or null.</summary>
    public string? TracePath { get; init; }

    /// <summary>Files this replica reads (guest images, disks, key, arbiter file): the trace may not be written over any of them.</summary>
    public IReadOnlyList<string> TraceInputs { get; init; } = [];

    /// <summary>Paces the guest while live (the CLI's <c>--pace</c>); null runs flat out.</summary>
    public Func<IGuestPacer>? Pacer { get; init; }

    /// <summary>Steps the live guest may run at most (<c>--max-instructions</c>).</summary>
    public ulong MaxSteps { get; init; } = ulong.MaxValue;

    /// <summary>After the guest ends, the live replica keeps its console open this long for a client to collect the end.</summary>
    public TimeSpan Linger { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a backup that lost its primary tries to win the arbiter before it concludes the primary is alive.</summary>
    public TimeSpan ArbiterPatience { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Builds the machine (the CLI supplies disks); by default <see cref="MachineSetup.Build"/>.</summary>
    public MachineFactory? Factory { get; init; }

    /// <summary>Where plain console clients connect (<see cref="PlainConsoleServer"/>; loopback addresses only).</summary>
    public IReadOnlyList<Wire.Endpoint> PlainConsoleListen { get; init; } = [];

    /// <summary>
    /// The process ends when this replica's run does (the command line): the sockets still open
    /// then (the listening ones, and client connections served to the run's end or stop) are left
    /// for the process's exit to close instead of being closed by <see cref="ReplicaNode.Dispose"/>.
    /// .NET on Unix maps every socket close's result through two error tables that it builds, and
    /// JIT-compiles (about 30 methods), at the process's first close: a fixed cost that a replica
    /// with a console client attached otherwise pays as its run ends. Off (a replica inside a
    /// longer-lived process, such as a test), <see cref="ReplicaNode.Dispose"/> closes them all.
    /// </summary>
    public bool ExitClosesSockets { get; init; }

    /// <summary>Where one-line messages go (stderr in the CLI).</summary>
    public Action<string> Say { get; init; } = line => Console.Error.WriteLine("replayvm: " + line);
}
