using ReplayVm.Tui.Panes;
using ReplayVm.Tui.Session;

namespace ReplayVm.Tui.Tests;

public class PaneTextTests
{
    [Fact]
    public void Code_marks_the_pc_line_and_breakpoints_and_names_the_function()
    {
        var s = Recordings.DemoSession();
        s.Execute("b copy_name");
        s.Execute("c");
        string code = PaneText.Code(s);
        var pcLine = code.Split('\n').Single(l => l.StartsWith("=>"));
        Assert.StartsWith($"=>* 0x{s.Hart.Pc:x}:", pcLine);
        Assert.Contains("<copy_name>:", code);
    }

    /// <summary>
    /// Decoding backwards from pc is ambiguous with compressed instructions: the lines before pc must
    /// be the instructions objdump finds there (same addresses, same encodings, six of them, the pane's
    /// default), each following the one before, the last ending exactly at pc.
    /// </summary>
    [Fact]
    public void Code_lines_before_pc_decode_up_to_it_exactly()
    {
        // Positions all through the session, so pcs among compressed and full-size instructions alike.
        var s = Recordings.DemoSession();
        for (int step = 1000; step < 80_000; step += 1237) CheckCodeBeforePc(s, step);
    }

    private static void CheckCodeBeforePc(DebugSession s, int step)
    {
        s.Execute($"goto {step}");
        var lines = PaneText.Code(s).Split('\n')
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, @"^(=>|  )[* ] 0x([0-9a-f]+):  ( {4}[0-9a-f]{4}|[0-9a-f]{8})  "))
            .Where(m => m.Success)
            .Select(m => (Pc: m.Groups[1].Value == "=>", Address: Convert.ToUInt64(m.Groups[2].Value, 16), Encoding: m.Groups[3].Value.Trim()))
            .ToList();
        int at = lines.FindIndex(l => l.Pc);
        Assert.True(at == 6, $"at step {step}: {at} lines before pc, not 6");
        Assert.Equal(s.Hart.Pc, lines[at].Address);
        var objdump = DemoObjdump.Value;
        for (int i = 0; i < at; i++)
        {
            Assert.True(objdump.TryGetValue(lines[i].Address, out string? encoding), $"0x{lines[i].Address:x} is not where an instruction starts (objdump)");
            Assert.Equal(encoding, lines[i].Encoding);
            Assert.Equal(lines[i + 1].Address, lines[i].Address + (ulong)(lines[i].Encoding.Length / 2));
        }
    }

    /// <summary>Instruction start address to encoding (hex, as objdump prints it) in demo.elf's code, by GNU objdump.</summary>
    private static readonly Lazy<Dictionary<ulong, string>> DemoObjdump = new(() =>
    {
        var info = new System.Diagnostics.ProcessStartInfo("riscv64-unknown-elf-objdump") { RedirectStandardOutput = true };
        info.ArgumentList.Add("-d");
        info.ArgumentList.Add(Path.Combine(Recordings.RepoRoot, "tools", "guests", "elf", "demo.elf"));
        System.Diagnostics.Process process;
        try
        {
            process = System.Diagnostics.Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new Xunit.Sdk.XunitException($"riscv64-unknown-elf-objdump is missing (Debian binutils-riscv64-unknown-elf; tools/test installs it): {e.Message}");
        }
        var map = new Dictionary<ulong, string>();
        foreach (var line in process.StandardOutput.ReadToEnd().Split('\n'))
        {
            var m = System.Text.RegularExpressions.Regex.Match(line, @"^\s*([0-9a-f]+):\t([0-9a-f]{4}|[0-9a-f]{8})\s");
            if (m.Success) map[Convert.ToUInt64(m.Groups[1].Value, 16)] = m.Groups[2].Value;
        }
        process.WaitForExit();
        Assert.True(map.Count > 200, "objdump printed (almost) no instructions for demo.elf");
        return map;
    });

    [Fact]
    public void Registers_show_pc_with_its_symbol()
    {
        var s = Recordings.DemoSession();
        s.Execute("b copy_name");
        s.Execute("c");
        string text = PaneText.Registers(s);
        Assert.StartsWith($"pc   {s.Hart.Pc:x16}* <copy_name>", text);
        Assert.Contains($"sp   {s.Hart.GetX(2):x16}", text);
        Assert.Contains("mstatus", text);
    }

    [Fact]
    public void Timeline_after_reverse_continue_shows_the_position()
    {
        var s = Recordings.DemoSession();
        s.Execute($"goto {s.End}");
        Assert.StartsWith($"step {s.End} / {s.End}", PaneText.Timeline(s));
        s.Execute("b copy_name");
        s.Execute("rc");
        string text = PaneText.Timeline(s, 40);
        Assert.StartsWith($"step {s.Position} / {s.End}\n[", text);
        Assert.Single(text, '#');
        Assert.True(s.Position < s.End);
    }

    [Fact]
    public void Memory_dump_shows_hex_and_ascii()
    {
        var s = Recordings.DemoSession();
        s.Execute($"goto {s.End}");
        ulong pc = s.Hart.Pc;
        string dump = PaneText.Memory(s, pc, 2);
        var first = dump.Split('\n')[0];
        Assert.StartsWith($"{pc:x8}  ", first); // 8 digits: every address shown fits in 32 bits
        Assert.Equal(2, dump.TrimEnd('\n').Split('\n').Length);
        Assert.Contains("(not mapped)", PaneText.Memory(s, 0x10, 1));
    }

    [Fact]
    public void Breakpoint_list_names_symbols()
    {
        var s = Recordings.DemoSession();
        Assert.StartsWith("(none", PaneText.Breakpoints(s));
        s.Execute("b main");
        Assert.Contains("<main>", PaneText.Breakpoints(s));
    }

    [Theory]
    [InlineData(0.0, 1.0, "running… [----------------] 0% (Esc cancels)")]
    [InlineData(0.25, 3.0, "running… [####------------] 25%, about 9 s left (Esc cancels)")]
    [InlineData(0.5, 120.0, "running… [########--------] 50%, about 2 min left (Esc cancels)")]
    [InlineData(1.0, 5.0, "running… [################] 100% (Esc cancels)")]
    [InlineData(1.7, 5.0, "running… [################] 100% (Esc cancels)")]
    public void A_long_movement_shows_a_bar_and_an_estimate(double fraction, double seconds, string expected) =>
        Assert.Equal(expected, PaneText.RunProgress(fraction, TimeSpan.FromSeconds(seconds)));
}
