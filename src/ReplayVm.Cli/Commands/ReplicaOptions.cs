using System.CommandLine;
using System.Globalization;
using ReplayVm.Replica;
using ReplayVm.Replica.Arbiter;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Cli.Commands;

/// <summary>The options every replica command shares: the key, and for primary and backup the arbiter, console address, trace and timing.</summary>
internal sealed class ReplicaCliOptions
{
    public readonly Option<string?> Key = new("--key")
    {
        Description = "The pre-shared replica key [default: ~/.config/replayvm/replica.key, created with mode 0600 on first use; copy it to the other host].",
        HelpName = "FILE",
    };
    public readonly Option<string> Arbiter = new("--arbiter")
    {
        Description = "Who decides which replica is live: file:PATH (an OS lock on a file both replicas reach) or etcd://HOST:PORT[/NAME][?ttl=SECONDS] (a lease on an etcd both reach; default TTL 2 s).",
        HelpName = "file:PATH|etcd://HOST:PORT",
        Required = true,
    };
    public readonly Option<string?> ConsoleListen = new("--console-listen")
    {
        Description = "Serve console clients (and status) at [ADDR:]PORT (127.0.0.1 unless an address is given; 0 picks a free port).",
        HelpName = "ADDR:PORT",
    };
    public readonly Option<string?> PlainConsoleListen = new("--plain-console-listen")
    {
        Description = "Also serve a plain TCP console for scripts at [ADDR:]PORT, loopback only (unencrypted): the first line sent is the token 'replayvm console --print-token' prints, optionally followed by a space and an output offset; then bytes in are guest input and bytes out the guest's console.",
        HelpName = "ADDR:PORT",
    };
    public readonly Option<string?> Output = new("--output", "-o")
    {
        Description = "Write this replica's trace here (the two replicas' traces replay identically).",
        HelpName = "FILE.rvtrace",
    };
    // The numeric options hold their value in a class (CliOptions.ParsedValue, as the machine
    // options and record's do), never int, ulong or double: System.CommandLine's code for an option
    // over a value type is compiled afresh in each process that declares one (40 methods, a few
    // milliseconds of every primary's and backup's start-up), while an option over a class shares
    // the precompiled code of every option over a reference type.
    public readonly Option<CliOptions.Given<int>?> HeartbeatInterval = Milliseconds("--heartbeat-interval",
        "Milliseconds between heartbeats on the log channel [default: 25].");
    public readonly Option<CliOptions.Given<int>?> HeartbeatTimeout = Milliseconds("--heartbeat-timeout",
        "Milliseconds of silence after which a backup suspects its primary and asks the arbiter, which decides: it takes over only if it wins [default: 150].");
    public readonly Option<CliOptions.Given<int>?> PeerTimeout = Milliseconds("--peer-timeout",
        "Milliseconds of silence after which the primary drops its backup (and runs on unprotected), and a backup whose primary holds the arbiter stops [default: 3000].");
    public readonly Option<CliOptions.Given<ulong>?> MaxLag = CliOptions.ParsedValue<ulong>(["--max-lag"], "STEPS",
        "Steps the backup's replay may fall behind before the primary slows down; a backstop behind --max-lag-ms [default: 200000000].",
        "step count", "a count, e.g. 200000000, 200M", NumberSyntax.TryParseCount);
    public readonly Option<CliOptions.Number?> MaxLagMs = CliOptions.Parsed<CliOptions.Number?>(["--max-lag-ms"], "MS",
        "The primary also slows down when the backup's replay is behind where the primary was this many milliseconds ago (bounds a failover's catch-up) [default: 50].",
        "milliseconds", "a positive number, e.g. 50", CliOptions.Number.TryParse);
    public readonly Option<CliOptions.Number?> Linger = CliOptions.Parsed<CliOptions.Number?>(["--linger"], "S",
        "Seconds a live replica keeps its console open after the guest's run ends, for clients to collect the end [default: 3].",
        "seconds", "0 to 86400, e.g. 3, 0.5", CliOptions.Number.TryParse);
    public readonly Option<bool> Deterministic = new("--deterministic")
    {
        Description = "While live, answer wall-clock reads and entropy requests from fixed sources (as 'record --deterministic').",
    };

    public readonly Option<CliOptions.Given<int>?> ConsoleHistory = CliOptions.ParsedValue<int>(["--console-history"], "MIB",
        "MiB of the guest's most recent console output kept for clients to read from their offsets, also across a failover; a client asking for older output is told what was dropped (the trace holds it all) [default: 64; 1 to 1024].",
        "size in MiB", "a whole number from 1 to 1024", TryParseWhole);

    /// <summary>The longest --linger: a day.</summary>
    private const int MaxLingerSeconds = 86400;

    private static Option<CliOptions.Given<int>?> Milliseconds(string name, string description) =>
        CliOptions.ParsedValue<int>([name], "MS", description, "milliseconds", "a whole number, e.g. 25", TryParseWhole);

    private static bool TryParseWhole(string text, out int value) =>
        int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    public readonly Option<bool> IdleSpin = new("--idle-spin")
    {
        Description = "While live, let the guest's wfi run on instead of waiting for console input (steps advance while it idles, as QEMU's -icount sleep=off).",
    };

    public void AddKey(Command command) => command.Options.Add(Key);

    public void AddReplica(Command command)
    {
        foreach (var option in new Option[] { Key, Arbiter, ConsoleListen, PlainConsoleListen, Output, HeartbeatInterval, HeartbeatTimeout, PeerTimeout, MaxLag, MaxLagMs, Linger, Deterministic, IdleSpin, ConsoleHistory })
            command.Options.Add(option);
    }

    public static ReplicaKey ReadKey(ParseResult parsed, Option<string?> key) => ReplicaKey.Load(parsed.GetValue(key));

    /// <summary>The options; <paramref name="guestFiles"/> (images and disks the replica reads) join the key and arbiter files as inputs the trace may not overwrite.</summary>
    public ReplicaOptions Read(ParseResult parsed, IEnumerable<string?>? guestFiles = null)
    {
        // An option not given takes the replica's own default (the help text says it).
        var defaults = new ReplicaOptions();
        int interval = parsed.GetValue(HeartbeatInterval)?.Value ?? (int)defaults.HeartbeatInterval.TotalMilliseconds;
        int timeout = parsed.GetValue(HeartbeatTimeout)?.Value ?? (int)defaults.HeartbeatTimeout.TotalMilliseconds;
        if (interval <= 0 || timeout <= interval)
            throw new UsageException("--heartbeat-timeout must be longer than --heartbeat-interval, and both positive");
        int peerTimeout = parsed.GetValue(PeerTimeout)?.Value ?? (int)defaults.PeerTimeout.TotalMilliseconds;
        if (peerTimeout <= timeout)
            throw new UsageException("--peer-timeout must be longer than --heartbeat-timeout");
        double linger = parsed.GetValue(Linger)?.Value ?? defaults.Linger.TotalSeconds;
        int history = parsed.GetValue(ConsoleHistory)?.Value ?? (int)(ReplicaOptions.DefaultConsoleHistoryBytes >> 20);
        if (history < 1 || history > (int)(ReplicaOptions.MaxConsoleHistoryBytes >> 20))
            throw new UsageException($"--console-history takes MiB from 1 to {ReplicaOptions.MaxConsoleHistoryBytes >> 20}");
        // Bounded so that it makes a TimeSpan (1e300 seconds overflowed it: a stack trace).
        if (linger < 0 || double.IsNaN(linger) || linger > MaxLingerSeconds) throw new UsageException($"--linger takes seconds, from 0 to {MaxLingerSeconds}");
        return new ReplicaOptions
        {
            HeartbeatInterval = TimeSpan.FromMilliseconds(interval),
            HeartbeatTimeout = TimeSpan.FromMilliseconds(timeout),
            PeerTimeout = TimeSpan.FromMilliseconds(peerTimeout),
            ArbiterPatience = TimeSpan.FromMilliseconds(2L * timeout), // long: twice an int timeout may not fit one
            MaxLagSteps = parsed.GetValue(MaxLag)?.Value ?? defaults.MaxLagSteps,
            MaxLagTime = (parsed.GetValue(MaxLagMs)?.Value ?? defaults.MaxLagTime.TotalMilliseconds) is var ms && ms > 0 && !double.IsNaN(ms) && ms < 1e9 ? TimeSpan.FromMilliseconds(ms) : throw new UsageException("--max-lag-ms takes a positive number of milliseconds"),
            Linger = TimeSpan.FromSeconds(linger),
            Deterministic = parsed.GetValue(Deterministic),
            IdleSpin = parsed.GetValue(IdleSpin),
            ConsoleHistoryBytes = (long)history << 20,
            TracePath = parsed.GetValue(Output),
            PlainConsoleListen = parsed.GetValue(PlainConsoleListen) is { } plain ? [Endpoint.Parse(plain, "--plain-console-listen")] : [],
            TraceInputs = InputFiles(parsed, guestFiles ?? []),
            RecorderName = "replayvm " + typeof(ReplicaCliOptions).Assembly.GetName().Version?.ToString(3),
            // The command's process ends with the replica's run.
            ExitClosesSockets = true,
        };
    }

    private List<string> InputFiles(ParseResult parsed, IEnumerable<string?> guestFiles)
    {
        var files = guestFiles.OfType<string>().ToList();
        files.Add(parsed.GetValue(Key) ?? ReplicaKey.DefaultPath);
        if (parsed.GetValue(Arbiter) is { } spec && spec.StartsWith("file:", StringComparison.Ordinal) && spec.Length > 5) files.Add(spec[5..]);
        return files;
    }

    public IArbiter OpenArbiter(ParseResult parsed, string owner) => Arbiters.Open(parsed.GetValue(Arbiter)!, owner);

    public List<Endpoint> ConsoleEndpoints(ParseResult parsed) =>
        parsed.GetValue(ConsoleListen) is { } text ? [Endpoint.Parse(text, "--console-listen")] : [];

    /// <summary>Stops the node on SIGINT, SIGTERM, SIGHUP (a live one ends the run with an end record).</summary>
    public static IDisposable StopOnSignals(ReplicaNode node)
    {
        var registrations = new List<System.Runtime.InteropServices.PosixSignalRegistration>();
        foreach (var signal in new[] { System.Runtime.InteropServices.PosixSignal.SIGINT, System.Runtime.InteropServices.PosixSignal.SIGTERM, System.Runtime.InteropServices.PosixSignal.SIGHUP })
            registrations.Add(System.Runtime.InteropServices.PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                node.RequestStop();
            }));
        return new Registrations(registrations);
    }

    private sealed class Registrations(List<System.Runtime.InteropServices.PosixSignalRegistration> list) : IDisposable
    {
        public void Dispose()
        {
            foreach (var r in list) r.Dispose();
        }
    }

    public static string Format(Endpoint endpoint) => endpoint.ToString();

    public static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);
}
