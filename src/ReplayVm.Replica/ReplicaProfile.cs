using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace ReplayVm.Replica;

/// <summary>
/// Where a replica's time goes, for finding what the replica path costs (set
/// <c>REPLAYVM_REPLICA_PROFILE=1</c>): wall time per phase of the machine's thread (running the
/// guest, publishing batches, waiting for the backup, ...), with counts, reported as one line when
/// the replica's run ends. Off, every call is a branch on a static flag; on, two timestamp reads
/// and a lock (the machine's thread adds most phases, the log channel's thread a few).
/// </summary>
internal sealed class ReplicaProfile
{
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("REPLAYVM_REPLICA_PROFILE") == "1";

    private readonly Dictionary<string, Phase> _phases = [];

    /// <summary>A phase's totals (an object, so the dictionary shares code already compiled for reference types).</summary>
    private sealed class Phase
    {
        public long Ticks, Count;
    }
    private readonly List<string> _order = [];
    private readonly long _start = Stopwatch.GetTimestamp();

    /// <summary>When this profile (the replica) started.</summary>
    public long StartTicks => _start;

    /// <summary>A timestamp to pass to <see cref="Add"/> (0 when off).</summary>
    public static long Now() => Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Adds the time since <paramref name="since"/> to <paramref name="phase"/>.</summary>
    public void Add(string phase, long since)
    {
        if (!Enabled) return;
        long ticks = Stopwatch.GetTimestamp() - since;
        lock (_phases)
        {
            if (!_phases.TryGetValue(phase, out var sum))
            {
                _order.Add(phase);
                _phases[phase] = sum = new Phase();
            }
            sum.Ticks += ticks;
            sum.Count++;
        }
    }

    /// <summary>Counts an event (<paramref name="times"/> of them) without timing it.</summary>
    public void Count(string what, long times = 1)
    {
        if (!Enabled) return;
        lock (_phases)
        {
            if (!_phases.TryGetValue(what, out var sum))
            {
                _order.Add(what);
                _phases[what] = sum = new Phase();
            }
            sum.Count += times;
        }
    }

    public string Report(string role)
    {
        lock (_phases) return Format(role);
    }

    private string Format(string role)
    {
        var text = new StringBuilder($"profile ({role}): {Milliseconds(Stopwatch.GetTimestamp() - _start):0.0} ms since the replica started");
        foreach (var phase in _order)
        {
            var (ticks, count) = (_phases[phase].Ticks, _phases[phase].Count);
            text.Append(ticks == 0 ? $"; {phase} x{count}" : $"; {phase} {Milliseconds(ticks):0.0} ms x{count}");
        }
        text.Append($"; process CPU {Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds:0} ms, since its start {(DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds:0} ms");
        text.Append($"; JIT {System.Runtime.JitInfo.GetCompiledMethodCount()} methods, {System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:0} ms");
        text.Append("; CPU by thread ").Append(ThreadCpu());
        return text.ToString();
    }

    /// <summary>
    /// CPU time per thread name so far (threads of one name summed, largest first): which of the
    /// replica's threads cost what. From Linux's /proc/self/task/*/schedstat, the scheduler's own
    /// count of nanoseconds on a core; <c>stat</c>'s user and system times are in 10 ms ticks,
    /// charged to whichever thread a timer tick finds running, which made a thread that wakes
    /// 50 times a second for a few microseconds look like one that costs 10 ms a second, or nothing.
    /// </summary>
    private static string ThreadCpu()
    {
        var byName = new Dictionary<string, double>();
        try
        {
            foreach (var dir in Directory.GetDirectories("/proc/self/task"))
            {
                string name, schedstat;
                try
                {
                    // comm ends with a newline; schedstat is "ns-on-cpu ns-waiting timeslices".
                    name = File.ReadAllText(Path.Combine(dir, "comm")).TrimEnd('\n');
                    schedstat = File.ReadAllText(Path.Combine(dir, "schedstat"));
                }
                catch (IOException)
                {
                    continue; // the thread ended meanwhile
                }
                double ms = double.Parse(schedstat.Split(' ')[0], CultureInfo.InvariantCulture) / 1e6;
                byName[name] = byName.GetValueOrDefault(name) + ms;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return "(unavailable)";
        }
        return string.Join(", ", byName.Where(kv => kv.Value > 0).OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value:0} ms"));
    }

    /// <summary>The calling thread's CPU time so far in <see cref="Stopwatch"/> ticks (0 when off), for a thread that ends before the report reads the others.</summary>
    public static long ThreadCpuNow() => Enabled ? ReplayVm.Core.Translation.ThreadCpuClock.Now() : 0;

    /// <summary>Adds the calling thread's CPU time since <paramref name="since"/> (from <see cref="ThreadCpuNow"/>) to <paramref name="phase"/>.</summary>
    public void AddThreadCpu(string phase, long since)
    {
        if (!Enabled || since == 0) return;
        Add(phase, Stopwatch.GetTimestamp() - (ThreadCpuNow() - since));
    }

    private static double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
