using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ReplayVm.Cli.Hosting;
using ReplayVm.Core;
using ReplayVm.Core.Board;
using ReplayVm.Core.Loading;

namespace ReplayVm.Cli.Commands;

/// <summary><c>replayvm run</c>: boot a guest with stdin/stdout as its console.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var guest = new Argument<string>("GUEST") { Description = "The guest: a RISC-V ELF64 executable, or a raw binary with --load-address." };
        var memory = CliOptions.Parsed<ulong?>(["--memory", "-m"], "SIZE",
            "RAM size, as QEMU's -m: 128 (MiB), 512K, 128M, 1G [default: 128M].",
            "memory size", "examples: 128, 256M, 1G", Nullable<ulong>(NumberSyntax.TryParseMemorySize));
        var maxInstructions = CliOptions.Parsed<ulong?>(["--max-instructions"], "N",
            "Stop after this many instructions (K, M, G suffixes are powers of 1000) [default: no limit].",
            "instruction count", "examples: 1000000, 500K, 2G", Nullable<ulong>(NumberSyntax.TryParseCount));
        var machine = CliOptions.Parsed<BoardKind?>(["--machine"], "virt|spike",
            "The board: virt (QEMU virt: UART, CLINT, test finisher) or spike (HTIF via tohost) [default: virt].",
            "machine", "virt or spike", Nullable<BoardKind>(TryParseBoard));
        var loadAddress = CliOptions.Parsed<ulong?>(["--load-address"], "ADDR",
            "Treat GUEST as a raw binary: load it at this address (e.g. 0x80000000) and start there.",
            "address", "example: 0x80000000", Nullable<ulong>(NumberSyntax.TryParseAddress));
        var stats = new Option<bool>("--stats") { Description = "At the end, print instructions, MIPS and the stop reason on stderr." };

        var command = new Command("run", "Run a guest; its console is this terminal's stdin/stdout.")
        {
            guest, memory, maxInstructions, machine, loadAddress, stats,
        };
        command.SetAction(parsed => Execute(new RunSettings(
            parsed.GetRequiredValue(guest),
            new MachineConfig
            {
                RamSize = parsed.GetValue(memory) ?? MemoryMap.DefaultRamSize,
                Board = parsed.GetValue(machine) ?? BoardKind.Virt,
            },
            parsed.GetValue(maxInstructions) ?? ulong.MaxValue,
            parsed.GetValue(loadAddress),
            parsed.GetValue(stats))));
        return command;
    }

    private sealed record RunSettings(string GuestPath, MachineConfig Config, ulong MaxInstructions, ulong? LoadAddress, bool Stats);

    private static int Execute(RunSettings settings)
    {
        byte[] bytes = GuestFile.Read(settings.GuestPath);
        // Parse before building the machine so a bad file fails fast, without allocating guest RAM.
        ElfImage? image = settings.LoadAddress is null ? ParseElf(settings.GuestPath, bytes) : null;

        using var output = new ConsoleOutputPump(Console.OpenStandardOutput());
        var machine = CreateMachine(settings.Config, output);
        if (image is not null) machine.LoadElf(image);
        else machine.LoadRaw(bytes, settings.LoadAddress!.Value);

        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // let Run return and the output be flushed
            machine.RequestStop();
        };
        Console.CancelKeyPress += onCancel;
        var clock = Stopwatch.StartNew();
        RunResult result;
        try
        {
            result = machine.Run(settings.MaxInstructions);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            output.Flush();
        }
        clock.Stop();

        if (settings.Stats) PrintStats(result, clock.Elapsed);
        return ExitStatus(result, settings.MaxInstructions);
    }

    private static Machine CreateMachine(MachineConfig config, ConsoleOutputPump output)
    {
        try
        {
            return new Machine(config, new LiveConsoleInput(Console.OpenStandardInput()), output.Write);
        }
        catch (ArgumentException e)
        {
            // The machine's own limits (for instance on the RAM size); drop .NET's " (Parameter 'x')" tail.
            string reason = e.Message.Split(" (Parameter", 2)[0];
            throw new UsageException($"cannot build the machine: {reason}");
        }
    }

    private static ElfImage ParseElf(string path, byte[] bytes)
    {
        try
        {
            return ElfImage.Parse(bytes);
        }
        catch (GuestImageException e) when (e.Message == "not an ELF file")
        {
            throw new GuestImageException($"{path}: not an ELF file (for a raw binary, give --load-address)");
        }
        catch (GuestImageException e)
        {
            throw new GuestImageException($"{path}: {e.Message}");
        }
    }

    private static int ExitStatus(RunResult result, ulong limit)
    {
        switch (result.Reason)
        {
            case StopReason.GuestExit:
                return result.ExitCode;
            case StopReason.InstructionLimit:
                Console.Error.WriteLine($"replayvm: instruction limit {limit} reached");
                return ExitCodes.InstructionLimit;
            case StopReason.TrapLoop:
                Console.Error.WriteLine($"replayvm: {result.Detail ?? "guest is stuck in a trap loop"}");
                return ExitCodes.TrapLoop;
            default:
                return ExitCodes.Interrupted;
        }
    }

    private static void PrintStats(RunResult result, TimeSpan elapsed)
    {
        double mips = elapsed.TotalSeconds > 0 ? result.InstructionsRetired / elapsed.TotalSeconds / 1e6 : 0;
        var error = Console.Error;
        error.WriteLine($"instructions: {result.InstructionsRetired}");
        error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mips: {mips:F2}"));
        error.WriteLine($"stop: {result.Reason}" + (result.Reason == StopReason.GuestExit ? $" (exit code {result.ExitCode})" : ""));
    }

    private static bool TryParseBoard(string text, out BoardKind board)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "virt": board = BoardKind.Virt; return true;
            case "spike": board = BoardKind.Spike; return true;
            default: board = default; return false;
        }
    }

    /// <summary>Options are nullable so that "not given" is distinguishable and help shows our own default text.</summary>
    private static CliOptions.TryParse<T?> Nullable<T>(CliOptions.TryParse<T> parse) where T : struct =>
        (string text, out T? value) =>
        {
            bool ok = parse(text, out T parsed);
            value = ok ? parsed : null;
            return ok;
        };
}
