using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ReplayVm.Inspect;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// <c>replayvm inspect PID|CORE [--json]</c>: the machines of a live, hung or crashed replayvm
/// (attached read-only with ptrace, suspended only while it is read, or from a dump), and every
/// managed thread's stack. Its own output, so it goes to stdout. Exit 2 for every target it
/// cannot read (one line saying why).
/// </summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("PID|CORE") { Description = "A running replayvm's process id, or a core dump of one (createdump, DOTNET_DbgEnableMiniDump)." };
        var json = new Option<bool>("--json") { Description = "One JSON object instead of text." };
        var command = new Command("inspect",
            "Show the guest state of a live, hung or crashed replayvm (role, step, pc, registers, CSRs, interrupts, console, trace) " +
            "and its threads' stacks, read from the process (suspended briefly) or a dump.")
        {
            target, json,
        };
        command.SetAction(parsed => Execute(parsed.GetValue(target)!, parsed.GetValue(json)));
        return command;
    }

    private static int Execute(string targetText, bool json)
    {
        try
        {
            var clock = Stopwatch.StartNew();
            InspectionReport report;
            TimeSpan suspended;
            using (var target = Open(targetText))
            {
                report = Inspector.Inspect(target);
                suspended = clock.Elapsed;
            }
            Console.Out.Write(json ? ReportWriter.ToJson(report) + "\n" : ReportWriter.ToText(report));
            if (report.Live)
                Console.Error.WriteLine($"replayvm: {report.Target} was suspended for {suspended.TotalMilliseconds:F0} ms");
            return 0;
        }
        catch (InspectException e)
        {
            throw new UsageException(e.Message);
        }
    }

    internal static InspectTarget Open(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && !File.Exists(text)
            ? InspectTarget.Attach(pid)
            : InspectTarget.Load(text);
}
