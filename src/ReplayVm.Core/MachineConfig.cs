using ReplayVm.Core.Board;

namespace ReplayVm.Core;

/// <summary>Which board the machine imitates.</summary>
public enum BoardKind
{
    /// <summary>QEMU's <c>virt</c> board: UART, CLINT, sifive_test finisher.</summary>
    Virt,
    /// <summary>Spike: HTIF through the ELF's <c>tohost</c>/<c>fromhost</c> symbols.</summary>
    Spike,
}

/// <summary>How to build a machine. Everything that decides a run's result lives here or in the input log.</summary>
public sealed record MachineConfig
{
    /// <summary>
    /// The revision of the board layout guests see. Bump when device placement or device
    /// behaviour visible to guests changes: a trace records it, and a replay on another revision
    /// is refused instead of diverging silently.
    /// Revision 2: QEMU-exact 16550 THRE and PLIC pending. Revision 3: the hart has QEMU 7.2's debug
    /// triggers (tselect, tdata1..3, tinfo), which were illegal instructions before. Revision 4: the
    /// device tree's riscv,isa names Sstc (Linux then programs stimecmp itself, as on QEMU), and the
    /// sifive_test finisher takes halfword writes (OpenSBI's SBI SRST power-off). Revision 5: satp
    /// accepts Sv57, as QEMU 7.2's hart does (Linux then pages with five levels), and the device
    /// tree's mmu-type says riscv,sv57.
    /// </summary>
    public const int BoardRevision = 5;

    public ulong RamSize { get; init; } = MemoryMap.DefaultRamSize;
    public BoardKind Board { get; init; } = BoardKind.Virt;

    /// <summary>How guest code is executed (<c>--engine</c>). Never changes a run's result, so it is not
    /// recorded in traces: a trace replays on either engine, and machines rebuilt from a trace (replay,
    /// checkpoints, the debugger's timeline) take <see cref="DefaultEngine"/>.</summary>
    public Translation.ExecutionEngine Engine { get; init; } = DefaultEngine;

    /// <summary>The engine of configurations that do not name one; the CLI sets it from <c>--engine</c>.</summary>
    public static Translation.ExecutionEngine DefaultEngine { get; set; } = Translation.ExecutionEngine.Interpreter;

    /// <summary>The kernel command line published as /chosen/bootargs in the device tree (<c>--append</c>); none when null.</summary>
    public string? Bootargs { get; init; }

    /// <summary>
    /// A machine built only so that the engine's code is compiled before real work starts (a backup
    /// waiting for its log runs one for a few steps): it runs nobody's guest and is never recorded,
    /// so an inspection of the process leaves it out rather than show it as one of its machines.
    /// </summary>
    public bool WarmUpOnly { get; init; }
}
