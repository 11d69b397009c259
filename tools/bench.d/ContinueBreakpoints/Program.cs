using System.Diagnostics;
using System.Globalization;
using ReplayVm.Core.Hart;
using ReplayVm.Core.Loading;
using ReplayVm.Core.Translation;
using ReplayVm.Replay;
using ReplayVm.Replay.Timeline;

// `continue` at full speed with breakpoints set (issue 13): each sample opens a fresh Timeline on
// the trace (as `replayvm debug` or `gdb` would) and continues from step 0 to the end, once with
// no breakpoint and once with breakpoints that are never hit, on each engine; the modes alternate
// within a round so that they share the machine's load. The breakpoints sit at the named symbols of
// GUEST, which the run must never reach (the bench guest's are on the page of its hot loops, the
// hardest case: a breakpoint filter by page alone would not help there).
// Prints "key value" lines (CPU ms of this process, all threads, per sample; min/median/max) for tools/bench.
//   replayvm-bench-continue TRACE GUEST SYMBOL... [--runs N]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var positional = new List<string>();
int runs = 3;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--runs" && i + 1 < args.Length) runs = int.Parse(args[++i]);
    else positional.Add(args[i]);
}
if (positional.Count < 3)
{
    Console.Error.WriteLine("usage: replayvm-bench-continue TRACE GUEST SYMBOL... [--runs N]");
    return 2;
}
var trace = TraceReader.ReadFile(positional[0]);
var image = ElfImage.Parse(File.ReadAllBytes(positional[1]));
var breakpoints = positional.Skip(2).Select(name => image.FindSymbol(name)?.Value ?? throw new ArgumentException($"no symbol {name} in {positional[1]}")).ToArray();
ulong end = trace.End?.Step ?? trace.LastStep;
Hart.TranslateInBackgroundByDefault = true; // as the CLI runs
Hart.DefaultTranslations = ReplayVm.Core.Translation.TranslationCache.Process;

var process = Process.GetCurrentProcess();
var samples = new Dictionary<string, List<double>>();
(double Cpu, double Wall) Sample(ExecutionEngine engine, bool withBreakpoints)
{
    var timeline = new Timeline(trace);
    // The trace's machine configuration was decoded with the default engine when the trace was read.
    timeline.Machine.Hart.Engine = engine;
    process.Refresh();
    var cpu = process.TotalProcessorTime;
    var wall = Stopwatch.StartNew();
    var stop = timeline.Continue(withBreakpoints ? breakpoints : null, null);
    double wallMs = wall.Elapsed.TotalMilliseconds;
    process.Refresh();
    double cpuMs = (process.TotalProcessorTime - cpu).TotalMilliseconds;
    if (stop.Kind == TimelineStopKind.Breakpoint) throw new InvalidOperationException($"a breakpoint was hit at step {stop.Step}: pick symbols the guest never reaches");
    if (timeline.Position != end) throw new InvalidOperationException($"continue stopped at step {timeline.Position} ({stop.Kind}), not at the end {end}");
    return (cpuMs, wallMs);
}
void Add(string key, double value)
{
    if (!samples.TryGetValue(key, out var list)) samples[key] = list = [];
    list.Add(value);
}
Sample(ExecutionEngine.Interpreter, false); // warm-up: the JIT and the trace's pages
var ratios = new Dictionary<ExecutionEngine, List<double>>();
for (int r = 0; r < runs; r++)
{
    foreach (var engine in new[] { ExecutionEngine.Interpreter, ExecutionEngine.Translator })
    {
        var plain = Sample(engine, false);
        var with = Sample(engine, true);
        string name = engine.ToString().ToLowerInvariant();
        Add($"{name}_plain_cpu_ms", plain.Cpu);
        Add($"{name}_breakpoints_cpu_ms", with.Cpu);
        Add($"{name}_plain_wall_ms", plain.Wall);
        Add($"{name}_breakpoints_wall_ms", with.Wall);
        Add($"{name}_speed_ratio", plain.Cpu / with.Cpu);
        Console.Error.WriteLine($"{name}: plain {plain.Cpu:F0} ms CPU, with {breakpoints.Length} breakpoints {with.Cpu:F0} ms CPU (speed ratio {plain.Cpu / with.Cpu:F2})");
    }
}
static string Stats(List<double> xs, string format)
{
    var s = xs.Order().ToList();
    return $"{s[0].ToString(format)}/{s[s.Count / 2].ToString(format)}/{s[^1].ToString(format)}";
}
Console.WriteLine($"steps {end}");
Console.WriteLine($"breakpoints {breakpoints.Length} {string.Join(',', breakpoints.Select(b => $"0x{b:x}"))}");
foreach (var (key, list) in samples) Console.WriteLine($"{key} {Stats(list, key.EndsWith("ratio") ? "F2" : "F0")}");
return 0;
