using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ReplayVm.Cli.Hosting;
using ReplayVm.Core;
using ReplayVm.Core.Translation;
using ReplayVm.Replay;

namespace ReplayVm.Cli.Commands;

/// <summary><c>replayvm run</c>: boot a guest with stdin/stdout as its console.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var options = new MachineOptions();
        var command = new Command("run",
            "Run a guest; its console is this terminal's stdin/stdout. In a terminal, Ctrl-A x quits and Ctrl-A Ctrl-A sends Ctrl-A.");
        options.AddTo(command);
        command.SetAction(parsed => Execute(options.Read(parsed)));
        return command;
    }

    private static int Execute(RunSettings settings)
    {
        var boot = GuestBoot.Read(settings);
        using var disks = new DiskImages(settings.Drives, settings.Persist);
        using var console = HostConsole.FromStdin();
        var machine = GuestBoot.CreateMachine(() =>
        {
            // Refused before anything is allocated, in one line saying how much it needs.
            HostMemory.EnsureFits(boot.ToSetup(settings.Config));
            return new Machine(settings.Config, console.Input, console.Output.Write);
        });
        // Disks first: the device tree written at load time lists the virtio slots in use.
        foreach (var disk in disks.Disks) machine.AttachDisk(disk);
        boot.LoadInto(machine);
        if (settings.Pace) machine.Pacer = new RealTimePacer();

        var clock = Stopwatch.StartNew();
        var result = console.Run(machine, () => machine.Run(settings.MaxInstructions));
        clock.Stop();
        disks.Flush();

        if (settings.Stats) PrintStats(result, clock.Elapsed, machine);
        return console.ExitStatus(result, settings.MaxInstructions);
    }

    /// <summary>The --stats lines: instructions, MIPS and the stop reason, on stderr.</summary>
    public static void PrintStats(RunResult result, TimeSpan elapsed, Machine? machine = null)
    {
        double mips = elapsed.TotalSeconds > 0 ? result.InstructionsRetired / elapsed.TotalSeconds / 1e6 : 0;
        var error = Console.Error;
        // The guest's last line may lack its newline, and the terminal shows stdout and stderr on one screen: start on a line of our own.
        error.WriteLine();
        error.WriteLine($"instructions: {result.InstructionsRetired}");
        error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mips: {mips:F2}"));
        error.WriteLine($"stop: {result.Reason}" + (result.Reason == StopReason.GuestExit ? $" (exit code {result.ExitCode})" : ""));
        if (machine is null) return;
        var t = machine.Hart.TranslatorStats;
        error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"engine: {machine.Hart.Engine.Name()}, {t.RegionsTranslated} regions ({t.InstructionsTranslated} instructions) translated in {t.TranslationTime.TotalMilliseconds:F0} ms (+{t.BackgroundTime.TotalMilliseconds:F0} ms on the background compiler), {t.CacheFlushes} cache flushes, {GC.CollectionCount(0)} gen0 GCs; {t.RegionRuns} region runs ({t.ChainedRuns} chained; {t.RegionSteps} steps), {t.InterpreterRuns} interpreter runs ({t.InterpretedSteps} steps); {t.Slices} slices, {machine.Hart.ExceptionsTaken} exceptions, {t.TlbFlushes} TLB flushes, {t.PageWalks} page walks, {t.DecodePagesCreated} decode pages made, {t.CodeInvalidations} code invalidations, {GC.GetTotalAllocatedBytes() >> 10} KiB allocated"));
        PrintProcessLine();
    }

    /// <summary>The --stats line of where a short run's time goes: the runtime's own start-up and JIT work against the guest's.</summary>
    public static void PrintProcessLine()
    {
        var cpu = Environment.CpuUsage;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"process: {System.Runtime.JitInfo.GetCompiledMethodCount()} methods JIT-compiled in {System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:F0} ms; CPU {cpu.TotalTime.TotalMilliseconds:F0} ms (user {cpu.UserTime.TotalMilliseconds:F0}, system {cpu.PrivilegedTime.TotalMilliseconds:F0})"));
    }
}
