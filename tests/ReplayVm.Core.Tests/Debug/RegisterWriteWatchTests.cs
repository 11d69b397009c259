using ReplayVm.Core.Hart;
using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.Tests.Oracle;

namespace ReplayVm.Core.Tests.Debug;

/// <summary>
/// The register-write watch stops right after an instruction that retires with a watched register
/// as its destination, and never for rd = x0, for instructions without a destination, or for a
/// trapping instruction (which writes nothing).
/// </summary>
public sealed class RegisterWriteWatchTests
{
    private const int A0 = 10, S11 = 27, Fa0 = 10;

    /// <summary>M-mode, FPU on. Labels w_* mark instructions that write a0 (or fa0 for w_fcvt); quiet..quiet_end writes nothing.</summary>
    private const string Program = """
        .globl _start
        _start:
          la t0, trap
          csrw mtvec, t0
          li t0, 0x6000
          csrs mstatus, t0              # FS = Dirty: the FPU is on
          la t1, scratch
        w_addi:
          addi a0, zero, 5
        quiet:
          addi zero, a0, 1              # rd = x0: nothing is written
          add zero, a0, a0
          sd a0, 0(t1)                  # stores, branches and fences have no destination
          beq a0, zero, 1f
        1:
          j 2f                          # jal x0
        2:
          csrrw zero, mscratch, a0      # rd = x0 again
          fence
        .option push
        .option norvc
          ld a0, 0(zero)                # traps (nothing at address 0): a0 keeps its value
          fld fa0, 0(zero)              # traps too
        .option pop
        quiet_end:
        w_cli:
          c.li a0, 3
        w_fcvt:
          fcvt.d.l fa0, a0
          fsd fa0, 8(t1)
        w_fmv:
          fmv.x.d a0, fa0
        w_amo:
          amoadd.d a0, a0, (t1)
        w_jal:
          jal a0, 3f
        3:
        w_csr:
          csrr a0, mscratch
          j finish
        .balign 4
        trap:                           # skips the trapping (4-byte) instruction, counting in s11
          addi s11, s11, 1
          csrr t2, mepc
          addi t2, t2, 4
          csrw mepc, t2
          mret
        finish:
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        4: j 4b
        .balign 8
        scratch: .dword 0, 0
        """;

    private static readonly Lazy<byte[]> Elf = new(Build);

    private static byte[] Build()
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-regwatch-").FullName;
        try
        {
            var source = Path.Combine(dir, "t.S");
            var elf = Path.Combine(dir, "t.elf");
            File.WriteAllText(source, Program);
            var gcc = ExternalTools.Require(ExternalTools.Gcc);
            var r = ExternalTools.Run(gcc, ["-nostdlib", "-march=rv64gc", "-mabi=lp64d", "-Wl,-Ttext=0x80000000", "-Wl,--nmagic",
                "-Wl,--no-warn-rwx-segments", "-o", elf, source], TimeSpan.FromSeconds(60));
            Assert.True(r.ExitCode == 0, r.Stderr);
            return File.ReadAllBytes(elf);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (Machine Machine, ElfImage Image) Boot()
    {
        var image = ElfImage.Parse(Elf.Value);
        var machine = new Machine(new MachineConfig(), NoInput.Instance, _ => { });
        machine.LoadElf(image);
        return (machine, image);
    }

    /// <summary>Runs to the guest's exit, collecting every register-write stop.</summary>
    private static List<DebugStop> RunCollecting(Machine machine, out RunResult end)
    {
        var stops = new List<DebugStop>();
        while (true)
        {
            ulong before = machine.Hart.Steps;
            var result = machine.Run(100_000);
            if (result.Reason != StopReason.DebugStop)
            {
                end = result;
                return stops;
            }
            var stop = machine.TakeDebugStop()!.Value;
            Assert.Equal(DebugStopKind.RegisterWrite, stop.Kind);
            Assert.InRange(stop.Step, before, machine.Hart.Steps - 1);
            // The stop comes after the writing instruction: one step later, at another pc.
            Assert.Equal(stop.Step + 1, machine.Hart.Steps);
            Assert.NotEqual(stop.Pc, machine.Hart.Pc);
            stops.Add(stop);
        }
    }

    [Fact]
    public void Watching_a0_stops_right_after_each_instruction_that_writes_it_and_only_those()
    {
        var (plain, _) = Boot();
        var reference = plain.Run(100_000);
        Assert.Equal(StopReason.GuestExit, reference.Reason);

        var (machine, image) = Boot();
        ulong Label(string name) => image.FindSymbol(name)!.Value;
        machine.Hart.SetRegisterWatch(RegisterWatch.Of(HartRegister.X(A0)));

        var stops = new List<DebugStop>();
        var values = new List<ulong>();
        RunResult end;
        while (true)
        {
            var result = machine.Run(100_000);
            if (result.Reason != StopReason.DebugStop)
            {
                end = result;
                break;
            }
            var stop = machine.TakeDebugStop()!.Value;
            Assert.Equal(stop.Step + 1, machine.Hart.Steps);
            stops.Add(stop);
            values.Add(machine.Hart.GetX(A0));
        }

        // QEMU's reset code in the boot ROM (fetched uncached, outside RAM) sets a0 = mhartid first.
        Assert.InRange(stops[0].Pc, 0x1000UL, 0x1fffUL);
        stops.RemoveAt(0);
        values.RemoveAt(0);
        Assert.Equal(new[] { "w_addi", "w_cli", "w_fmv", "w_amo", "w_jal", "w_csr" }.Select(Label), stops.Select(s => s.Pc));
        Assert.All(stops, s => Assert.Equal(DebugStopKind.RegisterWrite, s.Kind));
        Assert.All(stops, s => Assert.Equal(HartRegister.X(A0), s.Register));
        Assert.Equal(5UL, values[0]);
        Assert.Equal(3UL, values[1]); // c.li: the trapping ld in between left a0 alone
        Assert.Equal(0x4008_0000_0000_0000UL, values[2]); // 3.0 as a double
        Assert.Equal(5UL, values[3]); // amoadd.d: the old memory value, stored by the sd
        Assert.Equal(Label("w_jal") + 4, values[4]); // jal: the return address
        Assert.Equal(2UL, machine.Hart.GetX(S11)); // both loads trapped

        // Stopping changed nothing: the run ends exactly as the plain one.
        Assert.Equal(StopReason.GuestExit, end.Reason);
        Assert.Equal(reference.InstructionsRetired, end.InstructionsRetired);
        Assert.Equal(plain.Hart.Steps, machine.Hart.Steps);
    }

    [Fact]
    public void Watching_every_register_never_stops_for_x0_stores_branches_or_trapping_loads()
    {
        var (machine, image) = Boot();
        ulong Label(string name) => image.FindSymbol(name)!.Value;
        var all = new List<HartRegister>();
        for (int i = 0; i < 32; i++)
        {
            all.Add(HartRegister.X(i));
            all.Add(HartRegister.F(i));
        }
        machine.Hart.SetRegisterWatch(RegisterWatch.Of([.. all]));

        var stops = RunCollecting(machine, out var end);
        Assert.Equal(StopReason.GuestExit, end.Reason);

        Assert.DoesNotContain(stops, s => s.Pc >= Label("quiet") && s.Pc < Label("quiet_end"));
        Assert.Equal(HartRegister.X(A0), stops.Single(s => s.Pc == Label("w_addi")).Register);
        Assert.Equal(HartRegister.F(Fa0), stops.Single(s => s.Pc == Label("w_fcvt")).Register);
        Assert.Equal(HartRegister.X(A0), stops.Single(s => s.Pc == Label("w_fmv")).Register);
        // The trap handler's writes are seen, once per trapping load.
        Assert.Equal(2, stops.Count(s => s.Pc == Label("trap")));
    }

    [Fact]
    public void An_empty_watch_or_one_on_x0_stops_nothing()
    {
        Assert.True(RegisterWatch.Of(HartRegister.X(0)).IsEmpty);
        var (machine, _) = Boot();
        machine.Hart.SetRegisterWatch(RegisterWatch.Of(HartRegister.X(0)));
        Assert.Equal(StopReason.GuestExit, machine.Run(100_000).Reason);
        Assert.Null(machine.TakeDebugStop());
    }
}
