using System.CommandLine;
using ReplayVm.Core;
using ReplayVm.Core.Board;

namespace ReplayVm.Cli.Commands;

/// <summary>What the machine options of <c>run</c> and <c>record</c> asked for.</summary>
internal sealed record RunSettings(
    string? GuestPath, string? BiosPath, string? KernelPath, string[] Drives, bool Persist,
    MachineConfig Config, ulong MaxInstructions, ulong? LoadAddress, bool Stats, bool Pace)
{
    /// <summary><c>--initrd</c>: an initial RAM disk for the kernel.</summary>
    public string? InitrdPath { get; init; }

    /// <summary>Every file the machine reads (for refusing a trace output that is one of them).</summary>
    public IEnumerable<string?> InputFiles => new[] { GuestPath, BiosPath, KernelPath, InitrdPath }.Concat(Drives);
}

/// <summary>
/// The options that describe a machine and its guest, shared by <c>run</c> and <c>record</c> so
/// that a recording is made with exactly the words a run is: GUEST, --bios, --kernel, --append,
/// --initrd, --drive, --persist, -m, --max-instructions, --machine, --load-address, --stats.
/// </summary>
internal sealed class MachineOptions
{
    private readonly Argument<string?> _guest = new("GUEST")
    {
        Description = "A bare guest: a RISC-V ELF64 executable, or a raw binary with --load-address. Not with --bios.",
        Arity = ArgumentArity.ZeroOrOne,
    };
    private readonly Option<string?> _bios = new("--bios")
    {
        Description = "Firmware, as QEMU's -bios: an ELF at its own addresses, or a raw binary at 0x80000000. " +
                      "Runs instead of GUEST [default: none].",
        HelpName = "FILE",
    };
    private readonly Option<string?> _kernel = new("--kernel")
    {
        Description = "With --bios: the next stage (ELF, or raw at the first 2 MiB boundary after the firmware); " +
                      "the firmware finds its entry in the fw_dynamic info (a2), as with QEMU.",
        HelpName = "FILE",
    };
    private readonly Option<string?> _initrd = new("--initrd")
    {
        Description = "With --kernel: an initial RAM disk, as QEMU's -initrd (at the kernel's entry + min(RAM/2, 128 MiB), " +
                      "its range in the device tree's /chosen).",
        HelpName = "FILE",
    };
    private readonly Option<string?> _append = new("--append")
    {
        Description = "Kernel command line, published as /chosen/bootargs in the device tree.",
        HelpName = "ARGS",
    };
    private readonly Option<string[]> _drive = new("--drive")
    {
        Description = "A raw disk image as a virtio-blk disk (repeat for more). Guest writes stay in memory unless --persist.",
        HelpName = "FILE",
    };
    private readonly Option<bool> _persist = new("--persist") { Description = "Let guest writes reach the --drive files." };
    private readonly Option<CliOptions.Given<ulong>?> _memory = CliOptions.ParsedValue<ulong>(["--memory", "-m"], "SIZE",
        "RAM size, as QEMU's -m: 128 (MiB), 512K, 128M, 1G [default: 128M].",
        "memory size", "a multiple of 4 KiB up to 1 TiB, e.g. 128, 256M, 1G", NumberSyntax.TryParseMemorySize);
    private readonly Option<CliOptions.Given<ulong>?> _maxInstructions = CliOptions.ParsedValue<ulong>(["--max-instructions"], "N",
        "Stop after this many instructions (K, M, G suffixes are powers of 1000) [default: no limit].",
        "instruction count", "a positive count, e.g. 1000000, 500K, 2G", NumberSyntax.TryParsePositiveCount);
    private readonly Option<CliOptions.Given<BoardKind>?> _machine = CliOptions.ParsedValue<BoardKind>(["--machine"], "virt|spike",
        "The board: virt (QEMU virt: UART, CLINT, PLIC, virtio, test finisher) or spike (HTIF via tohost) [default: virt].",
        "machine", "virt or spike", TryParseBoard);
    private readonly Option<CliOptions.Given<ulong>?> _loadAddress = CliOptions.ParsedValue<ulong>(["--load-address"], "ADDR",
        "Treat GUEST as a raw binary: load it at this address (e.g. 0x80000000) and start there.",
        "address", "example: 0x80000000", NumberSyntax.TryParseAddress);
    private readonly Option<bool> _stats = new("--stats") { Description = "At the end, print instructions, MIPS and the stop reason on stderr." };
    private readonly Option<bool> _pace = new("--pace")
    {
        Description = "Keep guest time from running ahead of real time (waits only; results are the same).",
    };

    public MachineOptions() { }

    /// <summary>For commands whose one argument is either a guest or something else (gdb's FILE.rvtrace).</summary>
    public MachineOptions(string argumentName, string argumentDescription)
    {
        _guest = new Argument<string?>(argumentName) { Description = argumentDescription, Arity = ArgumentArity.ZeroOrOne };
    }

    /// <summary>The machine options given on the command line (by their names), for commands that take them only in some modes.</summary>
    public IEnumerable<string> Given(ParseResult parsed) =>
        new Option[] { _bios, _kernel, _initrd, _append, _drive, _persist, _memory, _maxInstructions, _machine, _loadAddress, _stats, _pace }
            .Where(option => parsed.GetResult(option) is { Implicit: false })
            .Select(option => option.Name);

    public void AddTo(Command command)
    {
        command.Arguments.Add(_guest);
        foreach (Option option in new Option[] { _bios, _kernel, _initrd, _append, _drive, _persist, _memory, _maxInstructions, _machine, _loadAddress, _stats, _pace })
            command.Options.Add(option);
    }

    public RunSettings Read(ParseResult parsed) => new(
        parsed.GetValue(_guest),
        parsed.GetValue(_bios) is "none" ? null : parsed.GetValue(_bios),
        parsed.GetValue(_kernel),
        parsed.GetValue(_drive) ?? [],
        parsed.GetValue(_persist),
        new MachineConfig
        {
            RamSize = parsed.GetValue(_memory)?.Value ?? MemoryMap.DefaultRamSize,
            Board = parsed.GetValue(_machine)?.Value ?? BoardKind.Virt,
            Bootargs = parsed.GetValue(_append),
        },
        parsed.GetValue(_maxInstructions)?.Value ?? ulong.MaxValue,
        parsed.GetValue(_loadAddress)?.Value,
        parsed.GetValue(_stats),
        parsed.GetValue(_pace))
    {
        InitrdPath = parsed.GetValue(_initrd),
    };

    private static bool TryParseBoard(string text, out BoardKind board)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "virt": board = BoardKind.Virt; return true;
            case "spike": board = BoardKind.Spike; return true;
            default: board = default; return false;
        }
    }
}
