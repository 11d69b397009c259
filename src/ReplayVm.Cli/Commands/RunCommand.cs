using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ReplayVm.Cli.Hosting;
using ReplayVm.Core;
using ReplayVm.Core.Board;
using ReplayVm.Core.Loading;
using Microsoft.Win32.SafeHandles;

namespace ReplayVm.Cli.Commands;

/// <summary><c>replayvm run</c>: boot a guest with stdin/stdout as its console.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var guest = new Argument<string?>("GUEST")
        {
            Description = "A bare guest: a RISC-V ELF64 executable, or a raw binary with --load-address. Not with --bios.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var bios = new Option<string?>("--bios")
        {
            Description = "Firmware, as QEMU's -bios: an ELF at its own addresses, or a raw binary at 0x80000000. " +
                          "Runs instead of GUEST [default: none].",
            HelpName = "FILE",
        };
        var kernel = new Option<string?>("--kernel")
        {
            Description = "With --bios: the next stage (ELF, or raw at the first 2 MiB boundary after the firmware); " +
                          "the firmware finds its entry in the fw_dynamic info (a2), as with QEMU.",
            HelpName = "FILE",
        };
        var append = new Option<string?>("--append")
        {
            Description = "Kernel command line, published as /chosen/bootargs in the device tree.",
            HelpName = "ARGS",
        };
        var drive = new Option<string[]>("--drive")
        {
            Description = "A raw disk image as a virtio-blk disk (repeat for more). Guest writes stay in memory unless --persist.",
            HelpName = "FILE",
        };
        var persist = new Option<bool>("--persist") { Description = "Let guest writes reach the --drive files." };
        var memory = CliOptions.Parsed<ulong?>(["--memory", "-m"], "SIZE",
            "RAM size, as QEMU's -m: 128 (MiB), 512K, 128M, 1G [default: 128M].",
            "memory size", "examples: 128, 256M, 1G", Nullable<ulong>(NumberSyntax.TryParseMemorySize));
        var maxInstructions = CliOptions.Parsed<ulong?>(["--max-instructions"], "N",
            "Stop after this many instructions (K, M, G suffixes are powers of 1000) [default: no limit].",
            "instruction count", "examples: 1000000, 500K, 2G", Nullable<ulong>(NumberSyntax.TryParseCount));
        var machine = CliOptions.Parsed<BoardKind?>(["--machine"], "virt|spike",
            "The board: virt (QEMU virt: UART, CLINT, PLIC, virtio, test finisher) or spike (HTIF via tohost) [default: virt].",
            "machine", "virt or spike", Nullable<BoardKind>(TryParseBoard));
        var loadAddress = CliOptions.Parsed<ulong?>(["--load-address"], "ADDR",
            "Treat GUEST as a raw binary: load it at this address (e.g. 0x80000000) and start there.",
            "address", "example: 0x80000000", Nullable<ulong>(NumberSyntax.TryParseAddress));
        var stats = new Option<bool>("--stats") { Description = "At the end, print instructions, MIPS and the stop reason on stderr." };

        var command = new Command("run",
            "Run a guest; its console is this terminal's stdin/stdout. In a terminal, Ctrl-A x quits and Ctrl-A Ctrl-A sends Ctrl-A.")
        {
            guest, bios, kernel, append, drive, persist, memory, maxInstructions, machine, loadAddress, stats,
        };
        command.SetAction(parsed => Execute(new RunSettings(
            parsed.GetValue(guest),
            parsed.GetValue(bios) is "none" ? null : parsed.GetValue(bios),
            parsed.GetValue(kernel),
            parsed.GetValue(drive) ?? [],
            parsed.GetValue(persist),
            new MachineConfig
            {
                RamSize = parsed.GetValue(memory) ?? MemoryMap.DefaultRamSize,
                Board = parsed.GetValue(machine) ?? BoardKind.Virt,
                Bootargs = parsed.GetValue(append),
            },
            parsed.GetValue(maxInstructions) ?? ulong.MaxValue,
            parsed.GetValue(loadAddress),
            parsed.GetValue(stats))));
        return command;
    }

    private sealed record RunSettings(
        string? GuestPath, string? BiosPath, string? KernelPath, string[] Drives, bool Persist,
        MachineConfig Config, ulong MaxInstructions, ulong? LoadAddress, bool Stats);

    /// <summary>What to load, read and parsed before any machine or terminal is touched.</summary>
    private abstract record Boot
    {
        public sealed record Bare(ElfImage? Elf, byte[] Raw, ulong LoadAddress) : Boot;
        public sealed record Firmware(BootImage Bios, BootImage? Kernel) : Boot;
    }

    private static int Execute(RunSettings settings)
    {
        Boot boot = ReadBoot(settings);
        using var disks = new DiskImages(settings.Drives, settings.Persist);

        var stop = new StopRequest();
        using var output = new ConsoleOutputPump(Console.OpenStandardOutput());
        bool interactive = TerminalMode.StdinIsTerminal;
        var input = interactive
            ? new LiveConsoleInput(TerminalInput(), new EscapeKeys(
                quit: () => stop.Request(0, "terminated"),
                showHelp: text => { output.Flush(); Console.Error.Write(text); }).Process)
            : new LiveConsoleInput(Console.OpenStandardInput());
        var machine = CreateMachine(settings.Config, input, output);
        stop.Attach(machine);
        // Disks first: the device tree written at load time lists the virtio slots in use.
        foreach (var disk in disks.Disks) machine.AttachDisk(disk);
        Load(machine, boot);

        var clock = Stopwatch.StartNew();
        RunResult result;
        var terminal = interactive ? TerminalMode.EnterRaw() : null;
        EventHandler restoreAtExit = (_, _) => terminal?.Restore();
        UnhandledExceptionEventHandler restoreOnCrash = (_, _) => terminal?.Restore();
        AppDomain.CurrentDomain.ProcessExit += restoreAtExit;
        AppDomain.CurrentDomain.UnhandledException += restoreOnCrash;
        try
        {
            using var signals = new StopSignals(stop, terminal);
            result = machine.Run(settings.MaxInstructions);
        }
        finally
        {
            output.Flush();
            terminal?.Restore();
            AppDomain.CurrentDomain.ProcessExit -= restoreAtExit;
            AppDomain.CurrentDomain.UnhandledException -= restoreOnCrash;
        }
        clock.Stop();
        disks.Flush();

        if (settings.Stats) PrintStats(result, clock.Elapsed);
        if (result.Reason == StopReason.HostRequest && stop.ExitCode is { } code)
        {
            if (stop.Message is { } message) Console.Error.WriteLine($"replayvm: {message}");
            return code;
        }
        return ExitStatus(result, settings.MaxInstructions);
    }

    /// <summary>
    /// Checks which of GUEST and --bios was given and reads the files. A terminal's stdin is read
    /// from file descriptor 0 directly: .NET's console stream would do its own line editing and echo.
    /// </summary>
    private static Boot ReadBoot(RunSettings settings)
    {
        if (settings.KernelPath is not null && settings.BiosPath is null)
            throw new UsageException("--kernel needs --bios FIRMWARE (a bare guest is given as GUEST)");
        if (settings.Persist && settings.Drives.Length == 0)
            throw new UsageException("--persist needs a --drive FILE");
        if (settings.Config.Board == BoardKind.Spike && (settings.BiosPath ?? settings.Drives.FirstOrDefault() ?? settings.Config.Bootargs) is not null)
            throw new UsageException("--bios, --drive and --append need --machine virt");

        if (settings.BiosPath is { } biosPath)
        {
            if (settings.GuestPath is not null)
                throw new UsageException($"give either GUEST or --bios, not both (with a firmware, the next stage is --kernel {settings.GuestPath})");
            if (settings.LoadAddress is not null)
                throw new UsageException("--load-address is for a raw GUEST; a raw --bios goes to 0x80000000 and a raw --kernel after it");
            return new Boot.Firmware(ReadBootImage(biosPath), settings.KernelPath is { } k ? ReadBootImage(k) : null);
        }

        if (settings.GuestPath is not { } path)
            throw new UsageException("nothing to run: give a GUEST file, or --bios FIRMWARE (see replayvm run --help)");
        byte[] bytes = GuestFile.Read(path);
        // Parse before building the machine so a bad file fails fast, without allocating guest RAM.
        return settings.LoadAddress is { } address
            ? new Boot.Bare(null, bytes, address)
            : new Boot.Bare(ParseElf(path, bytes), bytes, 0);
    }

    private static BootImage ReadBootImage(string path)
    {
        try
        {
            return BootImage.FromBytes(GuestFile.Read(path));
        }
        catch (GuestImageException e)
        {
            throw new GuestImageException($"{path}: {e.Message}");
        }
    }

    private static void Load(Machine machine, Boot boot)
    {
        switch (boot)
        {
            case Boot.Bare { Elf: { } elf }:
                machine.LoadElf(elf);
                break;
            case Boot.Bare bare:
                machine.LoadRaw(bare.Raw, bare.LoadAddress);
                break;
            case Boot.Firmware firmware:
                machine.LoadFirmware(firmware.Bios, firmware.Kernel);
                break;
        }
    }

    /// <summary>File descriptor 0 as an unbuffered stream (not owned: the process keeps its stdin).</summary>
    private static Stream TerminalInput() =>
        new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);

    private static Machine CreateMachine(MachineConfig config, LiveConsoleInput input, ConsoleOutputPump output)
    {
        try
        {
            return new Machine(config, input, output.Write);
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
