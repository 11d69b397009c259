using System.Diagnostics;
using System.Globalization;
using ReplayVm.Replay;
using ReplayVm.Replay.Timeline;
using ReplayVm.Replay.TraceIndex;

// Seek times of issue 14 on one trace: each sample opens a fresh Timeline (as `replayvm gdb` or
// `debug` would on a newly opened trace) and times Seek to a far position, with the trace's
// sidecar (already built by `replayvm index`) and without. Also the time to open the sidecar and
// a reverse-continue from the far end to a breakpoint at a pc executed near the middle.
// Prints "key value" lines that tools/bench parses; progress goes to stderr.
//   replayvm-bench-index-seek TRACE [--runs N] [--runs-without N]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
// The machines run as the CLI's do (replayvm debug/gdb): on the translator, compiling in the
// background, sharing compiled regions across the process's machines (scanners, fresh timelines).
ReplayVm.Core.MachineConfig.DefaultEngine = ReplayVm.Core.Translation.ExecutionEngine.Translator;
ReplayVm.Core.Hart.Hart.TranslateInBackgroundByDefault = true;
ReplayVm.Core.Hart.Hart.DefaultTranslations = ReplayVm.Core.Translation.TranslationCache.Process;
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: replayvm-bench-index-seek TRACE [--runs N] [--runs-without N]");
    return 2;
}
string path = args[0];
int runs = 5, runsWithout = 2;
string? symbolElf = null, symbolName = null;
for (int i = 1; i + 1 < args.Length; i += 2)
{
    if (args[i] == "--runs") runs = int.Parse(args[i + 1]);
    else if (args[i] == "--runs-without") runsWithout = int.Parse(args[i + 1]);
    else if (args[i] == "--symbol" && i + 2 < args.Length) (symbolElf, symbolName, i) = (args[i + 1], args[i + 2], i + 1);
}

var trace = TraceReader.ReadFile(path);
var clock = Stopwatch.StartNew();
var identity = TraceIdentity.OfFile(path);
double identityMs = clock.Elapsed.TotalMilliseconds;
clock.Restart();
using var index = TraceIndexFile.Open(TraceIndexFormat.SidecarPath(path), trace, identity);
double openMs = clock.Elapsed.TotalMilliseconds;
ulong end = trace.End?.Step ?? trace.LastStep;
ulong far = end - 1000, middle = end / 2 + 7919;

// Opening a trace with no sidecar: the timeline (the first screen's state) while a build starts
// behind it. The build is cancelled at once (its working file deleted); the sidecar is untouched,
// since it is renamed into place only when complete.
var openBuilding = new List<double>();
for (int r = 0; r < Math.Max(1, runsWithout); r++)
{
    clock.Restart();
    using var build = BackgroundIndexBuild.Start(path, trace);
    var opened = new Timeline(trace, new TimelineOptions { IndexBuild = build });
    _ = opened.ComputeHash();
    openBuilding.Add(clock.Elapsed.TotalMilliseconds);
    Console.Error.WriteLine($"open while building: {openBuilding[^1]:F0} ms");
}

var withIndex = new List<double>();
// The process's CPU time too (every thread: the background translation's as well): on a loaded or
// niced host the wall time says more about the scheduler than about the seek.
var withIndexCpu = new List<double>();
var process = Process.GetCurrentProcess();
double ProcessCpuMs()
{
    process.Refresh();
    return process.TotalProcessorTime.TotalMilliseconds;
}
var backToMiddle = new List<double>();
for (int r = 0; r < runs; r++)
{
    var timeline = new Timeline(trace, new TimelineOptions { Index = index });
    double cpuBefore = ProcessCpuMs();
    clock.Restart();
    timeline.Seek(far);
    withIndex.Add(clock.Elapsed.TotalMilliseconds);
    withIndexCpu.Add(ProcessCpuMs() - cpuBefore);
    clock.Restart();
    timeline.Seek(middle);
    backToMiddle.Add(clock.Elapsed.TotalMilliseconds);
    if (timeline.Position != middle || timeline.IndexSnapshotsRestored == 0) throw new InvalidOperationException("the index was not used");
    Console.Error.WriteLine($"with index: far {withIndex[^1]:F1} ms ({withIndexCpu[^1]:F0} ms of CPU), back to the middle {backToMiddle[^1]:F1} ms");
}

// Reverse-continue from the far end to a "syscall" breakpoint: the pc of the last ecall before it
// (an S-mode kernel calling M-mode firmware, or a user process calling its kernel), found in the
// sidecar's trap records; when the recording has none, the pc found at 2% of the trace.
var lastEcall = index.TrapsComplete ? index.Traps.Previous(TrapMarkerKinds.Ecall, far) : null;
ulong pc;
if (lastEcall is { } ecall) pc = ecall.Pc;
else
{
    var probe = new Timeline(trace, new TimelineOptions { Index = index });
    probe.Seek(end / 50);
    pc = probe.Machine.Hart.Pc;
}
Console.Error.WriteLine(lastEcall is { } found ? $"reverse-continue target: the last ecall before the end, {found}" : $"reverse-continue target: pc 0x{pc:x} (no ecall in the sidecar)");
var reverseWith = new List<double>();
ulong hitStep = 0;
for (int r = 0; r < runs; r++)
{
    var timeline = new Timeline(trace, new TimelineOptions { Index = index });
    timeline.Seek(far);
    clock.Restart();
    var stop = timeline.ReverseContinue([pc], null);
    reverseWith.Add(clock.Elapsed.TotalMilliseconds);
    hitStep = stop.Step;
    Console.Error.WriteLine($"with index: reverse-continue {reverseWith[^1]:F0} ms back to step {hitStep}");
}
var reverseWithout = new List<double>();
for (int r = 0; r < runsWithout; r++)
{
    var timeline = new Timeline(trace);
    timeline.Seek(far);
    clock.Restart();
    var stop = timeline.ReverseContinue([pc], null);
    reverseWithout.Add(clock.Elapsed.TotalMilliseconds);
    if (stop.Step != hitStep) throw new InvalidOperationException($"reverse-continue found step {stop.Step} without the index, {hitStep} with it");
    Console.Error.WriteLine($"without index: reverse-continue {reverseWithout[^1]:F0} ms");
}

// The issue's distances, 2.5x10^9 steps (or 5/6 of a shorter trace): a breakpoint whose last hit
// before the far end lies at least that far back, and one whose first hit after an early position
// lies at least that far ahead. Found from the sidecar's executed-page lists: a page run in some
// stretch and in none after it (before it, for continue), whose first pc hit there is the target.
ulong span = Math.Min(2_500_000_000UL, end / 6 * 5);
ulong? PcOnPage(ulong page, int closing)
{
    var probe = new Timeline(trace, new TimelineOptions { Index = index });
    probe.Seek(index.StretchStart(closing));
    var stop = probe.Continue(Enumerable.Range(0, 2048).Select(i => page << 12 | (ulong)i * 2), null);
    return stop is { Kind: TimelineStopKind.Breakpoint, Hit: { } hit } ? hit.Pc : null;
}
int Closing(ulong step) => index.LatestAtOrBefore(step) + 1;
ulong[] Pages(int closing) => (closing < index.Snapshots.Count ? index.Snapshots[closing].ExecutedPages : index.TailExecutedPages) ?? [];
ulong? backPc = null;
{
    var later = new HashSet<ulong>();
    int from = Closing(far - span);
    for (int j = index.Snapshots.Count; j >= 0 && backPc is null; j--)
    {
        if (j <= from)
            foreach (ulong page in Pages(j))
                if (!later.Contains(page) && PcOnPage(page, j) is { } onPage) { backPc = onPage; break; }
        later.UnionWith(Pages(j));
    }
}
var reverseFar = new List<double>();
var reverseFarWithout = new List<double>();
ulong reverseFarHit = 0;
if (backPc is { } farPc)
{
    for (int r = 0; r < runs; r++)
    {
        var timeline = new Timeline(trace, new TimelineOptions { Index = index });
        timeline.Seek(far);
        clock.Restart();
        reverseFarHit = timeline.ReverseContinue([farPc], null).Step;
        reverseFar.Add(clock.Elapsed.TotalMilliseconds);
        Console.Error.WriteLine($"with index: reverse-continue {reverseFar[^1]:F0} ms back {far - reverseFarHit} steps to pc 0x{farPc:x}");
    }
    for (int r = 0; r < runsWithout; r++)
    {
        var timeline = new Timeline(trace);
        timeline.Seek(far);
        clock.Restart();
        var stop = timeline.ReverseContinue([farPc], null);
        reverseFarWithout.Add(clock.Elapsed.TotalMilliseconds);
        if (stop.Step != reverseFarHit) throw new InvalidOperationException($"reverse-continue found step {stop.Step} without the index, {reverseFarHit} with it");
        Console.Error.WriteLine($"without index: reverse-continue {reverseFarWithout[^1]:F0} ms back {far - stop.Step} steps");
    }
}
// A write watchpoint far back: a page some stretch at least that far back stored to and no later
// stretch did (from the sidecar's stored-page lists); reverse-continue from the far end to the last
// write to any byte of it.
ulong[] Stored(int closing) => (closing < index.Snapshots.Count ? index.Snapshots[closing].StoredPages : index.TailStoredPages) ?? [];
ulong? watchPage = null;
{
    var later = new HashSet<ulong>();
    int from = Closing(far - span);
    for (int j = index.Snapshots.Count; j >= 0 && watchPage is null; j--)
    {
        if (j <= from)
            foreach (ulong page in Stored(j))
                if (!later.Contains(page)) { watchPage = page; break; }
        later.UnionWith(Stored(j));
    }
}
var watchFar = new List<double>();
var watchFarWithout = new List<double>();
ulong watchHit = 0;
int watchSkipped = 0;
if (watchPage is { } watched)
{
    ReplayVm.Core.Hart.WatchRange[] watch = [new(watched << 12, 4096, OnRead: false, OnWrite: true)];
    for (int r = 0; r < runs; r++)
    {
        var timeline = new Timeline(trace, new TimelineOptions { Index = index });
        timeline.Seek(far);
        clock.Restart();
        var stop = timeline.ReverseContinue(null, watch);
        watchFar.Add(clock.Elapsed.TotalMilliseconds);
        (watchHit, watchSkipped) = (stop.Step, timeline.StretchesSkipped);
        Console.Error.WriteLine($"with index: reverse-continue to a write of page 0x{watched:x} {watchFar[^1]:F0} ms back {far - watchHit} steps ({stop.Kind}; {watchSkipped} stretches skipped)");
    }
    for (int r = 0; r < runsWithout; r++)
    {
        var timeline = new Timeline(trace);
        timeline.Seek(far);
        clock.Restart();
        var stop = timeline.ReverseContinue(null, watch);
        watchFarWithout.Add(clock.Elapsed.TotalMilliseconds);
        if (stop.Step != watchHit) throw new InvalidOperationException($"reverse-continue to the watch found step {stop.Step} without the index, {watchHit} with it");
        Console.Error.WriteLine($"without index: reverse-continue to the watch {watchFarWithout[^1]:F0} ms");
    }
}

ulong origin = end / 30;
ulong? aheadPc = null;
{
    var earlier = new HashSet<ulong>();
    int from = Closing(origin);
    for (int j = from; j <= index.Snapshots.Count && aheadPc is null; j++)
    {
        if (index.StretchStart(j) >= origin + span)
            foreach (ulong page in Pages(j))
                if (!earlier.Contains(page) && PcOnPage(page, j) is { } onPage) { aheadPc = onPage; break; }
        earlier.UnionWith(Pages(j));
    }
}
var continueFar = new List<double>();
var continueFarWithout = new List<double>();
ulong continueHit = 0;
if (aheadPc is { } nearPc)
{
    for (int r = 0; r < runs; r++)
    {
        var timeline = new Timeline(trace, new TimelineOptions { Index = index });
        timeline.Seek(origin);
        clock.Restart();
        continueHit = timeline.Continue([nearPc], null).Step;
        continueFar.Add(clock.Elapsed.TotalMilliseconds);
        Console.Error.WriteLine($"with index: continue {continueFar[^1]:F0} ms ahead {continueHit - origin} steps to pc 0x{nearPc:x}");
    }
    for (int r = 0; r < runsWithout; r++)
    {
        var timeline = new Timeline(trace);
        timeline.Seek(origin);
        clock.Restart();
        var stop = timeline.Continue([nearPc], null);
        continueFarWithout.Add(clock.Elapsed.TotalMilliseconds);
        if (stop.Step != continueHit) throw new InvalidOperationException($"continue found step {stop.Step} without the index, {continueHit} with it");
        Console.Error.WriteLine($"without index: continue {continueFarWithout[^1]:F0} ms (replaying those steps on one machine)");
    }
}

// A named breakpoint (e.g. a kernel's syscall entry, --symbol vmlinux do_trap_ecall_u): reverse-continue from the far end.
var symbolWith = new List<double>();
var symbolWithout = new List<double>();
ulong symbolHit = 0;
if (symbolElf is not null && ReplayVm.Core.Loading.ElfImage.Parse(File.ReadAllBytes(symbolElf)).FindSymbol(symbolName!) is { } symbol)
{
    for (int r = 0; r < runs; r++)
    {
        var timeline = new Timeline(trace, new TimelineOptions { Index = index });
        timeline.Seek(far);
        clock.Restart();
        var stop = timeline.ReverseContinue([symbol.Value], null);
        symbolWith.Add(clock.Elapsed.TotalMilliseconds);
        symbolHit = stop.Step;
        Console.Error.WriteLine($"with index: reverse-continue to {symbolName} {symbolWith[^1]:F0} ms back {far - symbolHit} steps ({stop.Kind}; {timeline.StretchesSkipped} stretches skipped)");
    }
    for (int r = 0; r < runsWithout; r++)
    {
        var timeline = new Timeline(trace);
        timeline.Seek(far);
        clock.Restart();
        var stop = timeline.ReverseContinue([symbol.Value], null);
        symbolWithout.Add(clock.Elapsed.TotalMilliseconds);
        if (stop.Step != symbolHit) throw new InvalidOperationException($"reverse-continue found step {stop.Step} without the index, {symbolHit} with it");
        Console.Error.WriteLine($"without index: reverse-continue to {symbolName} {symbolWithout[^1]:F0} ms");
    }
}

// The same named breakpoint forward: continue from an early position (end / 30) to its next hit.
var symbolAheadWith = new List<double>();
var symbolAheadWithout = new List<double>();
ulong symbolAheadHit = 0;
if (symbolElf is not null && ReplayVm.Core.Loading.ElfImage.Parse(File.ReadAllBytes(symbolElf)).FindSymbol(symbolName!) is { } ahead)
{
    for (int r = 0; r < runs; r++)
    {
        var timeline = new Timeline(trace, new TimelineOptions { Index = index });
        timeline.Seek(origin);
        clock.Restart();
        var stop = timeline.Continue([ahead.Value], null);
        symbolAheadWith.Add(clock.Elapsed.TotalMilliseconds);
        symbolAheadHit = stop.Step;
        Console.Error.WriteLine($"with index: continue to {symbolName} {symbolAheadWith[^1]:F0} ms ahead {symbolAheadHit - origin} steps ({stop.Kind}; {timeline.StretchesSkipped} stretches skipped)");
    }
    for (int r = 0; r < runsWithout; r++)
    {
        var timeline = new Timeline(trace);
        timeline.Seek(origin);
        clock.Restart();
        var stop = timeline.Continue([ahead.Value], null);
        symbolAheadWithout.Add(clock.Elapsed.TotalMilliseconds);
        if (stop.Step != symbolAheadHit) throw new InvalidOperationException($"continue found step {stop.Step} without the index, {symbolAheadHit} with it");
        Console.Error.WriteLine($"without index: continue to {symbolName} {symbolAheadWithout[^1]:F0} ms (replaying those steps on one machine)");
    }
}

var without = new List<double>();
for (int r = 0; r < runsWithout; r++)
{
    var timeline = new Timeline(trace);
    clock.Restart();
    timeline.Seek(far);
    without.Add(clock.Elapsed.TotalMilliseconds);
    Console.Error.WriteLine($"without index: far {without[^1]:F0} ms");
}

static string Stats(List<double> xs)
{
    if (xs.Count == 0) return "-";
    var s = xs.Order().ToList();
    return $"{s[0]:F1}/{s[s.Count / 2]:F1}/{s[^1]:F1}";
}

Console.WriteLine($"steps {end}");
Console.WriteLine($"snapshots {index.Snapshots.Count}");
Console.WriteLine($"index_bytes {index.Length}");
Console.WriteLine($"identity_ms {identityMs:F1}");
Console.WriteLine($"open_ms {openMs:F1}");
Console.WriteLine($"seek_far_with_ms {Stats(withIndex)}");
Console.WriteLine($"seek_far_with_cpu_ms {Stats(withIndexCpu)}");
Console.WriteLine($"seek_back_with_ms {Stats(backToMiddle)}");
Console.WriteLine($"reverse_continue_with_ms {Stats(reverseWith)}");
Console.WriteLine($"reverse_continue_distance {far - hitStep}");
Console.WriteLine($"reverse_continue_target {(lastEcall is { } t ? $"ecall@0x{t.Pc:x}" : $"pc@0x{pc:x}")}");
Console.WriteLine($"traps {index.Traps.Count(TrapMarkerKinds.All)}");
Console.WriteLine($"open_building_ms {Stats(openBuilding)}");
Console.WriteLine($"seek_far_without_ms {Stats(without)}");
Console.WriteLine($"reverse_continue_without_ms {Stats(reverseWithout)}");
Console.WriteLine($"reverse_far_distance {(backPc is null ? "none" : (far - reverseFarHit).ToString())}");
Console.WriteLine($"reverse_far_with_ms {Stats(reverseFar)}");
Console.WriteLine($"reverse_far_without_ms {Stats(reverseFarWithout)}");
Console.WriteLine($"symbol_distance {(symbolWith.Count == 0 ? "none" : (far - symbolHit).ToString())}");
Console.WriteLine($"symbol_with_ms {Stats(symbolWith)}");
Console.WriteLine($"symbol_without_ms {Stats(symbolWithout)}");
Console.WriteLine($"watch_far_distance {(watchPage is null ? "none" : (far - watchHit).ToString())}");
Console.WriteLine($"watch_far_page {(watchPage is { } wp ? $"0x{wp << 12:x}" : "none")}");
Console.WriteLine($"watch_far_skipped {watchSkipped}");
Console.WriteLine($"watch_far_with_ms {Stats(watchFar)}");
Console.WriteLine($"watch_far_without_ms {Stats(watchFarWithout)}");
Console.WriteLine($"symbol_ahead_distance {(symbolAheadWith.Count == 0 ? "none" : (symbolAheadHit - origin).ToString())}");
Console.WriteLine($"symbol_ahead_with_ms {Stats(symbolAheadWith)}");
Console.WriteLine($"symbol_ahead_without_ms {Stats(symbolAheadWithout)}");
Console.WriteLine($"continue_far_distance {(aheadPc is null ? "none" : (continueHit - origin).ToString())}");
Console.WriteLine($"continue_far_with_ms {Stats(continueFar)}");
Console.WriteLine($"continue_far_without_ms {Stats(continueFarWithout)}");
return 0;
