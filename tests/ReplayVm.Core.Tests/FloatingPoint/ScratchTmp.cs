using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
namespace ReplayVm.Core.Tests.FloatingPoint;
public class ScratchTmp
{
    [Fact]
    public void Scratch()
    {
        var op = FpOperation.All.First(o => o.Mnemonic == "fadd.s");
        var cases = Enumerable.Range(0, 50).Select(i => new FpCase(op, 0, 0, FpValues.Box | 0x3f800000, FpValues.Box | 0x3f800000, 0)).ToArray();
        var dir = Directory.CreateTempSubdirectory("fpscratch").FullName;
        File.WriteAllText(dir + "/a.S", FpProgramWriter.Render(cases));
        var r = Oracle.ExternalTools.Run("riscv64-unknown-elf-gcc", ["-nostdlib", "-march=rv64gc", "-mabi=lp64d", "-Wl,-Ttext=0x80000000", "-Wl,--nmagic", "-o", dir + "/a.elf", dir + "/a.S"], TimeSpan.FromSeconds(30));
        var console = new List<byte>();
        var machine = new Machine(new MachineConfig(), NoInput.Instance, console.Add);
        machine.LoadElf(ElfImage.Parse(File.ReadAllBytes(dir + "/a.elf")));
        string log = "";
        try { for (int i = 0; i < 400; i++) { log += $"{machine.Hart.Pc:x} "; machine.Run(1); } }
        catch (Exception e) { log += e.Message; }
        Assert.Fail(dir + " " + log);
    }
}
