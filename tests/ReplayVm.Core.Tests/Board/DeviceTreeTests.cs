using System.Buffers.Binary;
using System.Text.RegularExpressions;
using ReplayVm.Core.Board;
using ReplayVm.Core.Input;
using ReplayVm.Core.Tests.Oracle;
using Xunit.Abstractions;

namespace ReplayVm.Core.Tests.Board;

/// <summary>
/// Our device tree, decompiled by dtc, against the one QEMU 7.2 builds for the same virt board
/// (<c>-machine virt,dumpdtb=</c>): the same nodes and properties, except those
/// <see cref="VirtDeviceTree"/> documents as intentionally different.
/// </summary>
public class DeviceTreeTests(ITestOutputHelper output)
{
    /// <summary>Nodes QEMU has for devices we do not model.</summary>
    private static readonly string[] AbsentNodes =
        ["/pmu", "/fw-cfg@10100000", "/flash@20000000", "/platform-bus@4000000", "/soc/pci@30000000"];

    /// <summary>Properties that describe our hart rather than QEMU's, or would make runs nondeterministic.</summary>
    private static readonly string[] DifferentProperties =
        ["/cpus/cpu@0:riscv,isa", "/cpus/cpu@0:mmu-type", "/chosen:rng-seed"];

    private static string Dtc()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(dir, "dtc"))) return Path.Combine(dir, "dtc");
        Assert.Fail("'dtc' is not installed: apt-get install device-tree-compiler");
        return null!;
    }

    private static string Decompile(string dtbPath)
    {
        var r = ExternalTools.Run(Dtc(), ["-I", "dtb", "-O", "dts", dtbPath], TimeSpan.FromSeconds(30));
        Assert.True(r.ExitCode == 0, $"dtc rejected {dtbPath}: {r.Stderr}");
        return System.Text.Encoding.UTF8.GetString(r.Stdout);
    }

    /// <summary>Node path -> (property name -> value text) from dtc's output.</summary>
    private static Dictionary<string, Dictionary<string, string>> Parse(string dts)
    {
        var nodes = new Dictionary<string, Dictionary<string, string>>();
        var path = new Stack<string>();
        string Current() => path.Count == 0 ? "" : "/" + string.Join("/", path.Reverse().Skip(1));
        foreach (var raw in dts.Split('\n'))
        {
            var line = raw.Trim();
            if (line.EndsWith('{'))
            {
                path.Push(line[..^1].Trim());
                nodes[Current() == "" ? "/" : Current()] = new();
            }
            else if (line == "};") path.Pop();
            else if (line.EndsWith(';') && path.Count > 0 && !line.StartsWith("/dts-v1/"))
            {
                var m = Regex.Match(line, @"^([^=\s]+)\s*(?:=\s*(.*))?;$");
                string node = Current() == "" ? "/" : Current();
                nodes[node][m.Groups[1].Value] = m.Groups[2].Value;
            }
        }
        return nodes;
    }

    private static string OurDts(MachineConfig config)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("replayvm-dtb-").FullName, "ours.dtb");
        File.WriteAllBytes(path, VirtDeviceTree.Build(config));
        return Decompile(path);
    }

    [Fact]
    public void Matches_qemus_virt_device_tree_except_documented_differences()
    {
        var qemuDtb = Path.Combine(Directory.CreateTempSubdirectory("replayvm-dtb-").FullName, "qemu.dtb");
        var run = ExternalTools.Run(ExternalTools.Require(ExternalTools.Qemu),
            ["-machine", $"virt,dumpdtb={qemuDtb}", "-m", "128M", "-smp", "1", "-nographic", "-monitor", "none"],
            TimeSpan.FromSeconds(30));
        Assert.True(File.Exists(qemuDtb), $"QEMU did not dump its device tree: {run.Stderr}");
        var qemu = Parse(Decompile(qemuDtb));
        var ours = Parse(OurDts(new MachineConfig { RamSize = 128UL << 20 }));

        Assert.Equal(qemu.Keys.Except(AbsentNodes).Order(), ours.Keys.Order());
        foreach (var (node, properties) in ours)
        {
            var expected = qemu[node].Where(p => !DifferentProperties.Contains($"{node}:{p.Key}")).ToDictionary();
            var actual = properties.Where(p => !DifferentProperties.Contains($"{node}:{p.Key}")).ToDictionary();
            Assert.True(expected.Count == actual.Count && expected.All(p => actual.TryGetValue(p.Key, out var v) && v == p.Value),
                $"{node}: QEMU has {{{string.Join("; ", expected.Select(p => $"{p.Key}={p.Value}"))}}}, we have {{{string.Join("; ", actual.Select(p => $"{p.Key}={p.Value}"))}}}");
        }
        output.WriteLine($"{ours.Count} nodes agree with QEMU");
    }

    [Fact]
    public void Describes_configured_memory_bootargs_and_our_isa()
    {
        var dts = Parse(OurDts(new MachineConfig { RamSize = 256UL << 20, Bootargs = "console=ttyS0 root=/dev/vda" }));
        Assert.Equal("<0x00 0x80000000 0x00 0x10000000>", dts["/memory@80000000"]["reg"]);
        Assert.Equal("\"console=ttyS0 root=/dev/vda\"", dts["/chosen"]["bootargs"]);
        Assert.Equal("\"/soc/serial@10000000\"", dts["/chosen"]["stdout-path"]);
        Assert.Equal($"\"{VirtDeviceTree.IsaString(ReplayVm.Core.Hart.Hart.Misa)}\"", dts["/cpus/cpu@0"]["riscv,isa"]);
        Assert.StartsWith("\"rv64ima", dts["/cpus/cpu@0"]["riscv,isa"]);
        // The deepest translation mode satp takes (Sv57; QEMU 7.2 says riscv,sv48 whatever its hart takes).
        Assert.Equal("\"riscv,sv57\"", dts["/cpus/cpu@0"]["mmu-type"]);
        Assert.False(Parse(OurDts(new MachineConfig())).ContainsKey("/chosen/bootargs"));
    }

    /// <summary>
    /// QEMU's CPU trimmed to our hart (no H, no Zb*, no Zihintpause: the -cpu the Linux tests
    /// boot QEMU with) names the same riscv,isa as ours, Sstc included — so a kernel reading it
    /// takes the same paths on both.
    /// </summary>
    [Fact]
    public void Riscv_isa_names_what_qemu_names_for_the_same_extensions()
    {
        var qemuDtb = Path.Combine(Directory.CreateTempSubdirectory("replayvm-dtb-").FullName, "qemu.dtb");
        var run = ExternalTools.Run(ExternalTools.Require(ExternalTools.Qemu),
            ["-machine", $"virt,dumpdtb={qemuDtb}", "-cpu", $"{QemuVirt.CpuModel},zba=false,zbb=false,zbc=false,zbs=false,Zihintpause=false",
             "-m", "128M", "-smp", "1", "-nographic", "-monitor", "none"],
            TimeSpan.FromSeconds(30));
        Assert.True(File.Exists(qemuDtb), $"QEMU did not dump its device tree: {run.Stderr}");
        var qemu = Parse(Decompile(qemuDtb));
        var ours = Parse(OurDts(new MachineConfig()));
        Assert.Contains("_sstc", ours["/cpus/cpu@0"]["riscv,isa"]);
        Assert.Equal(qemu["/cpus/cpu@0"]["riscv,isa"], ours["/cpus/cpu@0"]["riscv,isa"]);
    }

    [Theory]
    [InlineData(128UL << 20, 0x87E0_0000UL)]
    [InlineData(2UL << 30, 0xBFE0_0000UL)] // capped below 3 GiB
    [InlineData(8UL << 30, 0xBFE0_0000UL)]
    public void Placement_follows_qemus_riscv_load_fdt(ulong ramSize, ulong expected)
    {
        Assert.Equal(expected, VirtDeviceTree.Placement(0x8000_0000, ramSize, VirtDeviceTree.BlobSize));
    }

    [Fact]
    public void Boot_rom_hands_the_device_tree_address_in_a1()
    {
        var machine = new Machine(new MachineConfig(), NoInput.Instance, _ => { });
        machine.LoadRaw([0x6f, 0x00, 0x00, 0x00], 0x8000_0000); // j .
        machine.Run(5); // the reset ROM's six instructions up to the jump
        machine.Run(1);
        ulong a1 = machine.Hart.GetX(11);
        Assert.Equal(0x87E0_0000UL, a1);
        Assert.Equal(0xd00dfeedu, BinaryPrimitives.ReadUInt32BigEndian(machine.Ram.Read(a1, 4)));
    }

    /// <summary>
    /// <c>-initrd</c>: QEMU 7.2 puts the initrd at the kernel's entry + min(RAM/2, 128 MiB) and
    /// names its range in /chosen; ours must be the same range, in the same cells, with the same
    /// bytes there in RAM. Checked for RAM sizes on both sides of the 256 MiB turn and for a raw
    /// kernel placed after OpenSBI's fw_jump.elf, as a Linux Image is.
    /// </summary>
    [Theory]
    [InlineData("128M", 128UL << 20, 0x8420_0000UL)]
    [InlineData("512M", 512UL << 20, 0x8820_0000UL)]
    public void Initrd_is_placed_and_published_as_qemu_does(string qemuRam, ulong ramSize, ulong expectedStart)
    {
        const string fwJump = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
        Assert.True(File.Exists(fwJump), $"{fwJump} is missing (apt-get install opensbi)");
        var dir = Directory.CreateTempSubdirectory("replayvm-initrd-").FullName;
        var kernel = new byte[8192];
        kernel.AsSpan().Fill(0x13); // not an ELF nor a U-Boot image: QEMU loads it raw, as a Linux Image
        var initrd = new byte[100_003];
        new Random(17).NextBytes(initrd);
        File.WriteAllBytes(Path.Combine(dir, "kernel.bin"), kernel);
        File.WriteAllBytes(Path.Combine(dir, "initrd"), initrd);
        var qemuDtb = Path.Combine(dir, "qemu.dtb");
        var run = ExternalTools.Run(ExternalTools.Require(ExternalTools.Qemu),
            ["-machine", $"virt,dumpdtb={qemuDtb}", "-m", qemuRam, "-smp", "1", "-nographic", "-monitor", "none",
             "-bios", fwJump, "-kernel", Path.Combine(dir, "kernel.bin"), "-initrd", Path.Combine(dir, "initrd")],
            TimeSpan.FromSeconds(30));
        Assert.True(File.Exists(qemuDtb), $"QEMU did not dump its device tree: {run.Stderr}");
        var qemuChosen = Parse(Decompile(qemuDtb))["/chosen"];

        var machine = new Machine(new MachineConfig { RamSize = ramSize }, NoInput.Instance, _ => { });
        machine.LoadFirmware(BootImage.FromBytes(File.ReadAllBytes(fwJump)), BootImage.FromBytes(kernel), initrd);
        ulong dtbAddress = VirtDeviceTree.Placement(machine.Ram.Base, machine.Ram.Size, VirtDeviceTree.BlobSize)!.Value;
        int dtbSize = (int)BinaryPrimitives.ReadUInt32BigEndian(machine.Ram.Read(dtbAddress, 8).Slice(4));
        var ourDtb = Path.Combine(dir, "ours.dtb");
        File.WriteAllBytes(ourDtb, machine.Ram.Read(dtbAddress, dtbSize).ToArray());
        var ourChosen = Parse(Decompile(ourDtb))["/chosen"];

        Assert.Equal($"<0x{expectedStart:x}>", qemuChosen["linux,initrd-start"]);
        Assert.Equal(qemuChosen["linux,initrd-start"], ourChosen["linux,initrd-start"]);
        Assert.Equal(qemuChosen["linux,initrd-end"], ourChosen["linux,initrd-end"]);
        Assert.Equal($"<0x{expectedStart + (ulong)initrd.Length:x}>", ourChosen["linux,initrd-end"]);
        Assert.Equal(initrd, machine.Ram.Read(expectedStart, initrd.Length).ToArray());
    }

    [Fact]
    public void An_initrd_that_runs_into_the_device_tree_is_refused_in_one_line()
    {
        var machine = new Machine(new MachineConfig { RamSize = 128UL << 20 }, NoInput.Instance, _ => { });
        var e = Assert.Throws<ReplayVm.Core.Loading.GuestImageException>(() =>
            machine.LoadFirmware(BootImage.FromBytes(new byte[64]), BootImage.FromBytes(new byte[64]), new byte[(60 << 20) + 1]));
        Assert.Contains("overlaps the device tree", e.Message);
        Assert.Contains("-m", e.Message);
        Assert.Throws<ReplayVm.Core.Loading.GuestImageException>(() =>
            new Machine(new MachineConfig(), NoInput.Instance, _ => { }).LoadFirmware(BootImage.FromBytes(new byte[64]), null, new byte[16]));
    }
}
