using System.CommandLine;
using System.Diagnostics;
using ReplayVm.Cli.Hosting;
using ReplayVm.Core.Input;
using ReplayVm.Replay;
using ReplayVm.Replay.Format;
using ReplayVm.Replay.Input;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// <c>replayvm record -o FILE.rvtrace [run options] GUEST</c>: runs a guest exactly as <c>run</c>
/// does and records every input it receives into a self-contained trace (docs/trace-format.md).
/// </summary>
internal static class RecordCommand
{
    public static Command Create()
    {
        var machineOptions = new MachineOptions();
        var output = new Option<string>("--output", "-o")
        {
            Description = "The trace file to write (created or replaced; refused while another recorder writes it, or when it is one of the inputs).",
            HelpName = "FILE.rvtrace",
            Required = true,
        };
        var input = new Option<string?>("--input")
        {
            Description = "Type the bytes of this file into the guest's console (as the UART has room, like piped stdin) instead of reading stdin.",
            HelpName = "FILE",
        };
        var inputScript = new Option<string?>("--input-script")
        {
            Description = "Play a scripted session instead of reading stdin: lines 'wait TEXT' (until the guest prints TEXT) " +
                          "and 'send TEXT' (type it), escapes \\n \\r \\t \\e \\\\ \\xHH, '#' comments (docs/trace-format.md).",
            HelpName = "FILE",
        };
        var embedDisks = new Option<bool>("--embed-disks")
        {
            Description = "Embed every --drive image in the trace [default: embed images up to 256 MiB].",
        };
        var noEmbedDisks = new Option<bool>("--no-embed-disks")
        {
            Description = "Record only each --drive image's size and SHA-256; 'replay --drive FILE' must then supply it.",
        };
        var hashInterval = CliOptions.ParsedValue<ulong>(["--hash-interval"], "N",
            $"Steps between state hashes (K, M, G suffixes are powers of 1000) [default: {TraceHeader.DefaultStateHashInterval}].",
            "hash interval", "a positive count, e.g. 1M", NumberSyntax.TryParsePositiveCount);
        var deterministic = new Option<bool>("--deterministic")
        {
            Description = "Answer the guest's wall-clock reads and entropy requests from fixed sources instead of the host, " +
                          "so the same --input records the same trace.",
        };

        var dumpOnCrash = new Option<bool>("--dump-on-crash")
        {
            Description = "If the recorder dies of an unhandled exception, dump its memory beside the trace (FILE.rvtrace.core, with createdump) " +
                          "and print the 'replayvm inspect --salvage' command that rebuilds the recording from it [default: on].",
        };
        var noDumpOnCrash = new Option<bool>("--no-dump-on-crash") { Description = "Write no dump when the recorder crashes." };
        var checkpointEvery = CliOptions.ParsedValue<ulong>(["--checkpoint-every"], "N",
            "Write the trace's index sidecar (FILE.rvtrace.rvindex, as 'replayvm index' does) while recording: a snapshot at the first " +
            "state hash at least N steps after the previous one (K, M, G suffixes), so debug, gdb and replay --jobs start near any step at once.",
            "checkpoint interval", "a positive count, e.g. 100M", NumberSyntax.TryParsePositiveCount);
        var command = new Command("record",
            "Run a guest like 'run' and record it into a trace that 'replay' reproduces bit for bit. " +
            "In a terminal, Ctrl-A x ends the recording.")
        {
            output, input, inputScript, hashInterval, deterministic, embedDisks, noEmbedDisks, dumpOnCrash, noDumpOnCrash, checkpointEvery,
        };
        machineOptions.AddTo(command);
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(embedDisks) && parsed.GetValue(noEmbedDisks))
                throw new UsageException("give --embed-disks or --no-embed-disks, not both");
            if (parsed.GetValue(input) is not null && parsed.GetValue(inputScript) is not null)
                throw new UsageException("give --input or --input-script, not both");
            if (parsed.GetValue(dumpOnCrash) && parsed.GetValue(noDumpOnCrash))
                throw new UsageException("give --dump-on-crash or --no-dump-on-crash, not both");
            if (!parsed.GetValue(noDumpOnCrash)) CrashDump.Arm(parsed.GetValue(output)!);
            var embedding = parsed.GetValue(embedDisks) ? DiskEmbedding.Always : parsed.GetValue(noEmbedDisks) ? DiskEmbedding.Never : DiskEmbedding.Auto;
            return Execute(machineOptions.Read(parsed), parsed.GetValue(output)!, parsed.GetValue(input), parsed.GetValue(inputScript),
                parsed.GetValue(hashInterval)?.Value ?? TraceHeader.DefaultStateHashInterval, parsed.GetValue(deterministic), embedding,
                parsed.GetValue(checkpointEvery)?.Value);
        });
        return command;
    }

    private static int Execute(RunSettings settings, string tracePath, string? inputPath, string? scriptPath, ulong hashInterval,
        bool deterministic, DiskEmbedding embedding, ulong? checkpointEvery)
    {
        // A replay must see the disk the recording started from, so guest writes stay in the overlay.
        if (settings.Persist)
            throw new UsageException("record cannot take --persist: a replay must start from the disk the recording started from, " +
                                     "so guest writes stay in memory (use 'run --persist' to change the image)");
        var boot = GuestBoot.Read(settings);
        byte[]? keys = inputPath is null ? null : GuestFile.Read(inputPath);
        var script = scriptPath is null ? null : ReadScript(scriptPath);
        if (Directory.Exists(tracePath)) throw new UsageException($"{tracePath}: is a directory");
        using var drives = TraceDrives.ForRecording(settings.Drives, embedding);
        var setup = boot.ToSetup(settings.Config) with { Disks = drives.Disks };
        var supply = drives.For(setup);

        using var console = keys is not null ? HostConsole.FromScript(keys) : script is not null ? HostConsole.FromScript([]) : HostConsole.FromStdin();
        ScriptedSessionPort? session = null;
        IInputPort live = console.Input;
        if (script is not null)
        {
            // The host's clock and entropy, as with --input; the keys come from the script.
            var host = new LiveConsoleInput(Stream.Null);
            live = session = new ScriptedSessionPort(script, host.ReadWallClock, host.ReadEntropy);
        }
        if (deterministic) live = new FixedClockAndEntropy(live);
        var inputs = settings.InputFiles.Concat([inputPath, scriptPath]);
        var trace = OpenTrace(tracePath, inputs.OfType<string>());
        using var index = checkpointEvery is { } every ? new ReplayVm.Replay.TraceIndex.RecordingIndex(tracePath, every) : null;
        var options = new RecorderOptions
        {
            Index = index,
            StateHashInterval = hashInterval,
            RecorderName = "replayvm " + typeof(RecordCommand).Assembly.GetName().Version?.ToString(3),
            Factory = (s, i, o) => GuestBoot.CreateMachine(() => s.Build(i, o, supply)),
            Writer = new TraceWriterOptions { FlushInterval = FlushIntervalForTests() ?? new TraceWriterOptions().FlushInterval },
        };
        Action<byte> output = session is null ? console.Output.Write : b =>
        {
            session.ObserveOutput(b);
            console.Output.Write(b);
        };

        Recorder recorder;
        try
        {
            recorder = new Recorder(setup, live, output, trace, options);
        }
        catch (InvalidOperationException e)
        {
            // The header cannot be written (e.g. embedded disks beyond what the format holds).
            trace.Dispose();
            File.Delete(tracePath);
            throw new UsageException($"cannot record: {e.Message}");
        }
        catch
        {
            trace.Dispose();
            File.Delete(tracePath);
            throw;
        }

        RecordResult? recorded = null;
        if (settings.Pace) recorder.Machine.Pacer = new RealTimePacer();
        var clock = Stopwatch.StartNew();
        using (recorder)
        {
            // A stop from Ctrl-A x or a signal ends Recorder.Run cleanly, with an end record.
            console.Run(recorder.Machine, () => (recorded = recorder.Run(settings.MaxInstructions)).Run);
        }
        clock.Stop();
        if (index is not null)
        {
            try
            {
                if (index.Complete(recorder.Header) is var (sidecar, bytes))
                    Console.Error.WriteLine($"replayvm: wrote {sidecar}: {index.Snapshots} snapshots, {bytes} bytes");
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"replayvm: the index sidecar was not written ({e.Message}); 'replayvm index {tracePath}' builds it");
            }
        }

        if (settings.Stats) RunCommand.PrintStats(recorded!.Run, clock.Elapsed);
        int status = console.ExitStatus(recorded!.Run, settings.MaxInstructions);
        Console.Error.WriteLine($"replayvm: recorded {recorded.Steps} steps, {recorded.Events} events to {tracePath}");
        return status;
    }

    /// <summary>
    /// A test hook: REPLAYVM_TEST_FLUSH_INTERVAL_MS delays the trace's timed flushes, so tests can
    /// hold events in the recorder's memory (to salvage them from a dump) without racing the timer.
    /// </summary>
    private static TimeSpan? FlushIntervalForTests() =>
        int.TryParse(Environment.GetEnvironmentVariable("REPLAYVM_TEST_FLUSH_INTERVAL_MS"), out int ms) && ms > 0 ? TimeSpan.FromMilliseconds(ms) : null;

    private static InputScript ReadScript(string path)
    {
        try
        {
            return InputScript.Parse(System.Text.Encoding.UTF8.GetString(GuestFile.Read(path)));
        }
        catch (FormatException e)
        {
            throw new UsageException($"{path}: {e.Message}");
        }
    }

    /// <summary>
    /// Opens the output through <see cref="TraceOutputFile"/> (locked, never one of the recording's
    /// inputs); live sessions (<c>gdb --live</c>, <c>debug GUEST</c>) open theirs here too, so no two
    /// recorders of any kind share a file.
    /// </summary>
    internal static FileStream OpenTrace(string path, IEnumerable<string> inputs)
    {
        try
        {
            return TraceOutputFile.Open(path, inputs);
        }
        catch (TraceOutputException e)
        {
            throw new UsageException(e.Message);
        }
    }
}
