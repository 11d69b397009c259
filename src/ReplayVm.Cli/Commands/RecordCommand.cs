using System.CommandLine;
using System.Diagnostics;
using ReplayVm.Cli.Hosting;
using ReplayVm.Core.Input;
using ReplayVm.Replay;

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
            Description = "The trace file to write (created or replaced).",
            HelpName = "FILE.rvtrace",
            Required = true,
        };
        var input = new Option<string?>("--input")
        {
            Description = "Type the bytes of this file into the guest's console (as the UART has room, like piped stdin) instead of reading stdin.",
            HelpName = "FILE",
        };
        var hashInterval = CliOptions.Parsed<ulong?>(["--hash-interval"], "N",
            $"Steps between state hashes (K, M, G suffixes are powers of 1000) [default: {TraceHeader.DefaultStateHashInterval}].",
            "hash interval", "a positive count, e.g. 1M", (string text, out ulong? value) =>
            {
                bool ok = NumberSyntax.TryParseCount(text, out ulong n) && n > 0;
                value = ok ? n : null;
                return ok;
            });
        var deterministic = new Option<bool>("--deterministic")
        {
            Description = "Answer the guest's wall-clock reads and entropy requests from fixed sources instead of the host, " +
                          "so the same --input records the same trace.",
        };

        var command = new Command("record",
            "Run a guest like 'run' and record it into a trace that 'replay' reproduces bit for bit. " +
            "In a terminal, Ctrl-A x ends the recording.")
        {
            output, input, hashInterval, deterministic,
        };
        machineOptions.AddTo(command);
        command.SetAction(parsed => Execute(machineOptions.Read(parsed), parsed.GetValue(output)!, parsed.GetValue(input),
            parsed.GetValue(hashInterval) ?? TraceHeader.DefaultStateHashInterval, parsed.GetValue(deterministic)));
        return command;
    }

    private static int Execute(RunSettings settings, string tracePath, string? inputPath, ulong hashInterval, bool deterministic)
    {
        // MachineSetup (and so the trace header) carries no disks yet; a recording that cannot
        // replay must not be made at all.
        if (settings.Drives.Length > 0)
            throw new UsageException("record cannot take --drive yet: the trace format does not carry disk images (record without --drive)");
        var boot = GuestBoot.Read(settings);
        var setup = boot.ToSetup(settings.Config);
        byte[]? keys = inputPath is null ? null : GuestFile.Read(inputPath);
        if (Directory.Exists(tracePath)) throw new UsageException($"{tracePath}: is a directory");

        using var console = keys is null ? HostConsole.FromStdin() : HostConsole.FromScript(keys);
        IInputPort live = deterministic ? new FixedClockAndEntropy(console.Input) : console.Input;
        var options = new RecorderOptions
        {
            StateHashInterval = hashInterval,
            RecorderName = "replayvm " + typeof(RecordCommand).Assembly.GetName().Version?.ToString(3),
            Factory = (s, i, o) => GuestBoot.CreateMachine(() => s.Build(i, o)),
        };

        var trace = OpenTrace(tracePath);
        Recorder recorder;
        try
        {
            recorder = new Recorder(setup, live, console.Output.Write, trace, options);
        }
        catch
        {
            trace.Dispose();
            File.Delete(tracePath);
            throw;
        }

        RecordResult? recorded = null;
        var clock = Stopwatch.StartNew();
        using (recorder)
        {
            // A stop from Ctrl-A x or a signal ends Recorder.Run cleanly, with an end record.
            console.Run(recorder.Machine, () => (recorded = recorder.Run(settings.MaxInstructions)).Run);
        }
        clock.Stop();

        if (settings.Stats) RunCommand.PrintStats(recorded!.Run, clock.Elapsed);
        int status = console.ExitStatus(recorded!.Run, settings.MaxInstructions);
        Console.Error.WriteLine($"replayvm: recorded {recorded.Steps} steps, {recorded.Events} events to {tracePath}");
        return status;
    }

    private static FileStream OpenTrace(string path)
    {
        try
        {
            // FileShare.Read: `info` or `replay` may look at a recording still being written.
            return new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{path}: cannot create the trace: {e.Message}");
        }
    }
}
