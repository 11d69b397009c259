using System.Text;
using System.Text.RegularExpressions;
using ReplayVm.Cli.Tests.Support;
using ReplayVm.Replay.Input;
using ReplayVm.Tui.Session;
using Xunit.Abstractions;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// Linux (Debian's linux-source-6.1, tools/guests/linux) booted by Debian's OpenSBI fw_jump with
/// an initramfs and a virtio-blk ext2 disk, to the project's shell, on QEMU 7.2 (<c>-icount
/// shift=0</c>) and on ReplayVm, driven by the same session script: the boot logs agree line for
/// line (OpenSBI's banner included; Linux pages with Sv57 on both) but for the free-memory
/// figures <see cref="AssertSameMemoryLine"/> explains, and every command answers the same bytes. A recording of the session replays exactly.
/// </summary>
public class LinuxGuestTests(ITestOutputHelper output)
{
    /// <summary>
    /// QEMU reserves exactly 8 KiB more memory than we do, both machines paging with Sv57: its device
    /// tree also describes devices we do not model (/pmu, fw-cfg, flash, platform-bus, the PCI host;
    /// see VirtDeviceTree), and Linux keeps the blob (1.3 KiB more: one page more) and the tree it
    /// unflattens from it (3.9 KiB more: one page more) in reserved memory. Booted with
    /// <c>-dtb</c> and QEMU's own tree trimmed to our devices, QEMU prints our line exactly; the
    /// 8 KiB recur as 4 KiB in the tmpfs sizes `mount` lists (half the free memory).
    /// </summary>
    private static void AssertSameMemoryLine(string qemu, string ours)
    {
        var pattern = new Regex(@"^Memory: (\d+)K/(\d+)K available \((.*), (\d+)K reserved, (.*)\)$");
        Match q = pattern.Match(qemu), o = pattern.Match(ours);
        Assert.True(q.Success && o.Success, $"boot log line differs:\nQEMU:     {qemu}\nReplayVm: {ours}");
        long Figure(Match m, int group) => long.Parse(m.Groups[group].Value);
        Assert.True(q.Groups[2].Value == o.Groups[2].Value && q.Groups[3].Value == o.Groups[3].Value && q.Groups[5].Value == o.Groups[5].Value
                    && Figure(q, 4) - Figure(o, 4) == 8 && Figure(o, 1) - Figure(q, 1) == 8,
            $"the Memory: lines differ by more than QEMU's larger device tree (8 KiB more reserved):\nQEMU:     {qemu}\nReplayVm: {ours}");
    }

    [Fact]
    public void Boots_to_the_shell_and_answers_every_command_as_on_qemu()
    {
        var guest = LinuxGuest.Get();
        var script = InputScript.Parse(File.ReadAllText(LinuxGuest.SessionScript));
        var qemu = Drive(ConsoleSession.Qemu(guest.QemuBoot(guest.DiskCopy())), script);
        var ours = Drive(ConsoleSession.Replayvm(["run", .. guest.ReplayvmBoot(guest.Disk)]), script);

        Assert.Contains("Linux version 6.1", ours.Segments[0]);
        Assert.Contains("ReplayVm Linux guest", ours.Segments[0]);
        AssertSameBootLog(qemu.Segments[0], ours.Segments[0]);
        Assert.Equal(qemu.Segments.Count, ours.Segments.Count);
        for (int i = 1; i < ours.Segments.Count; i++)
            Assert.True(Comparable(qemu.Segments[i]) == Comparable(ours.Segments[i]),
                $"answer {i} differs:\n--- QEMU ---\n{qemu.Segments[i]}\n--- ReplayVm ---\n{ours.Segments[i]}");

        // What the commands must say, so that agreeing on a wrong answer fails too.
        string all = string.Concat(ours.Segments.Skip(1));
        Assert.Contains("Linux 6.1", all);
        Assert.Contains("hello from the virtio disk", all);
        Assert.Contains("written by the guest\n", all);
        Assert.Contains("note.txt", all);
        Assert.Contains("    1 R init", all); // the shell itself, reading /proc
        Assert.Contains("kworker/0:1H", all);   // started after the block layer's timeout work (session.script)
        Assert.Contains("sqrt(2) = 1.4142135623730951", all);
        Assert.Contains("spawn: 20 processes, exit statuses sum to 940\n", all); // fork, exec of /init, page faults, exit, wait
        Assert.Contains("/dev/vda /mnt ext2", all);
        Assert.Contains("reboot: Power down", ours.Tail);
        Assert.Equal(0, qemu.ExitCode);
        Assert.Equal(0, ours.ExitCode);
        output.WriteLine(ours.Segments[0]);
    }

    [Fact]
    public void A_recorded_linux_session_replays_exactly()
    {
        var guest = LinuxGuest.Get();
        string trace = Path.Combine(Directory.CreateTempSubdirectory("replayvm-linux-").FullName, "linux.rvtrace");
        var recorded = CliProcess.Run(["record", "-o", trace, "--input-script", LinuxGuest.SessionScript, .. guest.ReplayvmBoot(guest.Disk)],
            stdin: [], timeoutSeconds: 1800);
        string console = Encoding.UTF8.GetString(recorded.Stdout);
        Assert.True(recorded.ExitCode == 0, $"record exited {recorded.ExitCode}: {recorded.Stderr}\n{console}");
        Assert.Contains("written by the guest", console);
        Assert.Contains("reboot: Power down", console);

        var replayed = CliProcess.Run(["replay", trace], stdin: [], timeoutSeconds: 1800);
        Assert.True(replayed.ExitCode == 0, $"replay exited {replayed.ExitCode}: {replayed.Stderr}");
        Assert.Equal(console, Encoding.UTF8.GetString(replayed.Stdout));
        output.WriteLine(recorded.Stderr);
        output.WriteLine(replayed.Stderr);
    }

    /// <summary>
    /// gdb-multiarch on a recorded Linux session with vmlinux's symbols: a breakpoint on the
    /// write system call stops at the shell's first write (its banner), reverse-stepi goes back
    /// into the syscall wrapper, reverse-finish returns to the call, and a watchpoint on jiffies
    /// stops in do_timer going forward and again, at an earlier value, going back.
    /// </summary>
    [Fact]
    public void Gdb_debugs_the_recorded_kernel_backwards_with_vmlinux()
    {
        var guest = LinuxGuest.Get();
        string trace = Path.Combine(Directory.CreateTempSubdirectory("replayvm-linux-").FullName, "linux.rvtrace");
        var recorded = CliProcess.Run(["record", "-o", trace, "--input-script", LinuxGuest.SessionScript, .. guest.ReplayvmBoot(guest.Disk)],
            stdin: [], timeoutSeconds: 1800);
        Assert.True(recorded.ExitCode == 0, $"record exited {recorded.ExitCode}: {recorded.Stderr}");

        string gdb = GdbSession.GdbMultiarch();
        using var server = GdbServerProcess.Start(trace);
        string output = GdbSession.Run(gdb, server.Port, guest.Vmlinux, TimeSpan.FromSeconds(900),
            "break ksys_write",
            "continue",
            "reverse-stepi",
            "printf \"RSTEP pc=%lx\\n\", $pc",
            "info symbol $pc",
            "stepi",
            "reverse-finish",
            "printf \"RFINISH pc=%lx\\n\", $pc",
            "delete",
            "watch jiffies",
            "continue",
            "printf \"FORWARD jiffies=%lx\\n\", jiffies",
            "reverse-continue",
            "printf \"BACK jiffies=%lx\\n\", jiffies");

        Assert.Contains("Breakpoint 1, ksys_write (fd=1, buf=", output);
        Assert.Contains("\"ReplayVm Linux guest: type 'help' for commands\", count=46)", output);
        Assert.True(Regex.IsMatch(output, @"sys_write \+ \d+ in section \.text"), output); // the wrapper that called ksys_write
        Assert.Equal(GdbTranscript.Hex(GdbTranscript.Line(output, "RSTEP"), "pc"), GdbTranscript.Hex(GdbTranscript.Line(output, "RFINISH"), "pc"));
        Assert.Equal(2, Regex.Matches(output, @"do_timer \(ticks=").Count);
        ulong forward = GdbTranscript.Hex(GdbTranscript.Line(output, "FORWARD"), "jiffies");
        ulong back = GdbTranscript.Hex(GdbTranscript.Line(output, "BACK"), "jiffies");
        Assert.True(back < forward, $"reverse-continue found jiffies {back:x}, forward {forward:x}:\n{output}");
        Assert.Equal(0, server.Stop());
    }

    /// <summary>
    /// <c>replayvm debug TRACE --symbols vmlinux</c>'s session: the trace holds the raw Image, the
    /// symbol file names the kernel's functions and lines, so a stop in the kernel shows its C
    /// source line; without the file there is none.
    /// </summary>
    [Fact]
    public void The_debugger_shows_kernel_source_lines_from_vmlinux()
    {
        var guest = LinuxGuest.Get();
        string trace = Path.Combine(Directory.CreateTempSubdirectory("replayvm-linux-").FullName, "boot.rvtrace");
        var recorded = CliProcess.Run(["record", "-o", trace, "--max-instructions", "20M", .. guest.ReplayvmBoot(guest.Disk)],
            stdin: [], timeoutSeconds: 1800);
        Assert.True(recorded.ExitCode == 124, $"record exited {recorded.ExitCode}: {recorded.Stderr}");

        var timeline = new ReplayVm.Replay.Timeline.Timeline(ReplayVm.Replay.TraceReader.ReadFile(trace));
        var bare = new DebugSession(timeline);
        var session = new DebugSession(timeline, symbolFiles: [SymbolFile.Read(guest.Vmlinux)]);
        ulong entry = session.Symbols.Find("start_kernel") ?? throw new Xunit.Sdk.XunitException("no start_kernel in vmlinux");
        Assert.Null(bare.Symbols.Find("start_kernel"));
        Assert.Equal("start_kernel", session.Symbols.NameAt(entry));
        // vmlinux's linker constants (PECOFF_SECTION_ALIGNMENT = 0x1000) do not name the reset vector.
        Assert.Null(session.Symbols.NameAt(0x1000));

        timeline.Seek(timeline.End);
        ulong pc = session.Hart.Pc;
        Assert.True(pc >= 0xffff_ffff_8000_0000UL, $"pc 0x{pc:x} is not in the kernel 20M steps into the boot");
        var line = session.Lines.LineAt(pc);
        Assert.True(line is not null, $"no source line for pc 0x{pc:x} ({session.Symbols.NameAt(pc)})");
        Assert.Contains("linux-source-6.1", line!.File.Path);
        Assert.Null(bare.Lines.LineAt(pc));
        Assert.NotNull(session.Lines.LineAt(entry));
        output.WriteLine($"{session.Symbols.NameAt(pc)} at {line}");
    }

    /// <summary>
    /// The same on screen: <c>replayvm debug TRACE --symbols vmlinux</c> in a tmux pane, a
    /// breakpoint on start_kernel and a continue: the code pane shows start_kernel's
    /// instructions under the kernel's own C source lines (file:line and the text, read from
    /// Debian's linux-source-6.1 tree the DWARF names).
    /// </summary>
    [Fact]
    public async Task The_debugger_in_a_terminal_shows_kernel_source_at_a_breakpoint()
    {
        var guest = LinuxGuest.Get();
        string trace = Path.Combine(Directory.CreateTempSubdirectory("replayvm-linux-").FullName, "boot.rvtrace");
        var recorded = CliProcess.Run(["record", "-o", trace, "--max-instructions", "20M", .. guest.ReplayvmBoot(guest.Disk)],
            stdin: [], timeoutSeconds: 1800);
        Assert.True(recorded.ExitCode == 124, $"record exited {recorded.ExitCode}: {recorded.Stderr}");

        // Where start_kernel's source lies and what its first statement says, from vmlinux's DWARF.
        var symbols = new DebugSession(new ReplayVm.Replay.Timeline.Timeline(ReplayVm.Replay.TraceReader.ReadFile(trace)),
            symbolFiles: [SymbolFile.Read(guest.Vmlinux)]);
        ulong entry = symbols.Symbols.Find("start_kernel") ?? throw new Xunit.Sdk.XunitException("no start_kernel in vmlinux");
        string source = symbols.Lines.LineAt(entry)!.File.Path;
        Assert.Contains("linux-source-6.1", source);
        const string statement = "set_task_stack_end_magic(&init_task);";
        int line = Array.FindIndex(File.ReadAllLines(source), l => l.Trim() == statement) + 1;
        Assert.True(line > 0, $"{source} has no line '{statement}'");

        using var pane = TmuxPane.Start($"dotnet '{CliProcess.CliDll}' debug '{trace}' --symbols '{guest.Vmlinux}'; sleep 600");
        await pane.WaitFor(s => s.Contains("step 0 / 20000000") && s.Contains("Quit"), TimeSpan.FromMinutes(2), "the debugger");
        pane.Press(":");
        pane.Type("b start_kernel");
        pane.Press("Enter");
        await pane.WaitFor(s => s.Contains($"breakpoint 1 at 0x{entry:x} <start_kernel>"), TimeSpan.FromMinutes(1), "the breakpoint");
        pane.Press("c");
        string screen = await pane.WaitFor(s => s.Contains($"breakpoint hit at step") && s.Contains($"{Path.GetFileName(source)}:{line}  {statement}"),
            TimeSpan.FromMinutes(3), "start_kernel's source");
        Assert.Contains($"pc 0x{entry:x} <start_kernel>", screen);
        Assert.Contains("<start_kernel>:", screen);
        Assert.Matches($@"=>\*? 0x{entry:x}:", screen);
        output.WriteLine(screen);
    }

    /// <summary>
    /// The in-memory file systems (rootfs, devtmpfs) are sized at half the free RAM, which differs
    /// by half the 8 KiB of <see cref="AssertSameMemoryLine"/>; those figures are blanked before
    /// the mount table is compared.
    /// </summary>
    private static string WithoutFreeMemory(string answer) => Regex.Replace(answer, @"size=\d+k,nr_inodes=\d+", "size=*k,nr_inodes=*");

    private static string Comparable(string answer) => WithoutFreeMemory(answer);

    private static void AssertSameBootLog(string qemu, string ours)
    {
        var q = qemu.Split('\n');
        var o = ours.Split('\n');
        Assert.True(q.Length == o.Length, $"the boot logs have {q.Length} and {o.Length} lines:\n--- QEMU ---\n{qemu}\n--- ReplayVm ---\n{ours}");
        for (int i = 0; i < q.Length; i++)
        {
            if (q[i].StartsWith("Memory: ", StringComparison.Ordinal)) AssertSameMemoryLine(q[i], o[i]);
            else Assert.True(q[i] == o[i], $"boot log line {i + 1} differs:\nQEMU:     {q[i]}\nReplayVm: {o[i]}");
        }
    }

    private sealed record Session(List<string> Segments, string Tail, int ExitCode);

    /// <summary>
    /// Plays the script's waits and sends on a console session: segment 0 is everything up to the
    /// first wait's text (the boot log), segment N what came between wait N and wait N+1 (the
    /// typed command's echo and its answer); the tail is what followed the last wait.
    /// </summary>
    private static Session Drive(ConsoleSession session, InputScript script)
    {
        using (session)
        {
            var segments = new List<string>();
            foreach (var step in script.Steps)
            {
                string text = Encoding.UTF8.GetString(step.Text);
                if (step is InputScriptStep.Wait)
                    segments.Add(session.WaitFor(text.Replace("\r\n", "\n"), timeoutSeconds: 1200));
                else
                    session.Type(text);
            }
            int status = session.WaitForExit(timeoutSeconds: 600);
            string all = session.Output;
            return new Session(segments, all[all.LastIndexOf("poweroff", StringComparison.Ordinal)..], status);
        }
    }
}
