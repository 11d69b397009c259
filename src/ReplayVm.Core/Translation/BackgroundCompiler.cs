using System.Collections.Concurrent;
using System.Diagnostics;
using ReplayVm.Core.Hart;

namespace ReplayVm.Core.Translation;

/// <summary>
/// Compiles regions on a background thread, so the hart keeps interpreting while the .NET JIT works
/// (a region costs about a millisecond to compile, and the first ones far more while Reflection.Emit
/// warms up). When a region is ready it is installed at the hart's next dispatch, if what it was
/// made from is still current. Results cannot depend on when that happens: a region runs exactly as
/// the interpreter would (see <see cref="RegionCompiler"/>), so installing it earlier or later only
/// changes which engine runs a stretch of code, never what the guest sees.
/// One thread serves every hart of the process; it is a background thread and holds no hart alive
/// beyond the jobs queued for it.
/// </summary>
internal static class BackgroundCompiler
{
    /// <summary>A region to compile and where to hand it back.</summary>
    internal sealed class Job(RegionPlan plan, RegionSpecialization specialization, ulong generation, DecodedInstruction[] source, ConcurrentQueue<Job> done)
    {
        public RegionPlan Plan { get; } = plan;
        public RegionSpecialization Specialization { get; } = specialization;
        /// <summary>The shared cache to look in before compiling and to add the region to, with its key; or null.</summary>
        public TranslationCache? Cache { get; init; }
        public RegionKey? Key { get; init; }
        /// <summary>The hart's translation generation when the job was made: a different one at install time means stale.</summary>
        public ulong Generation { get; } = generation;
        /// <summary>The decode page the plan was read from: the region is stale if the page was written since.</summary>
        public DecodedInstruction[] Source { get; } = source;
        public ConcurrentQueue<Job> Done { get; } = done;
        public ulong PageIndex { get; init; }
        public int Slot { get; init; }
        /// <summary>The code-less region standing at the entry until this one is installed.</summary>
        public required TranslatedRegion Placeholder { get; init; }
        public CompiledRegion? Compiled;
        /// <summary>The region came from the cache (another hart's job, or its own earlier, compiled it).</summary>
        public bool Shared;
        /// <summary>What the compiler threw, rethrown on the hart's thread at install.</summary>
        public System.Runtime.ExceptionServices.ExceptionDispatchInfo? Failure;
        /// <summary>CPU time the compiler thread spent on the job, in <see cref="Stopwatch"/> ticks.</summary>
        public long Ticks;
    }

    /// <summary>
    /// Jobs waiting, under their own monitor. Not a <c>BlockingCollection</c>: its wait spins (with
    /// <c>sched_yield</c>) before it blocks, and this thread goes back to waiting after every job, so
    /// on `bench.elf` it spent about a thousand yields of CPU for nothing; a job arrives every few
    /// milliseconds at most, so blocking at once costs no latency worth having.
    /// </summary>
    private static readonly Queue<Job> Pending = new();
    private static readonly Lazy<Thread> Worker = new(() =>
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "ReplayVm region compiler" };
        thread.Start();
        return thread;
    });

    /// <summary>Tests close it to hold every job before compiling (so that one goes stale in flight).</summary>
    internal static readonly ManualResetEventSlim Gate = new(initialState: true);

    /// <summary>Queues <paramref name="job"/>; it comes back on its <see cref="Job.Done"/> queue, compiled.</summary>
    public static void Enqueue(Job job)
    {
        _ = Worker.Value;
        lock (Pending)
        {
            Pending.Enqueue(job);
            Monitor.Pulse(Pending);
        }
    }

    private static Job Next()
    {
        lock (Pending)
        {
            while (Pending.Count == 0) Monitor.Wait(Pending);
            return Pending.Dequeue();
        }
    }

    private static void Run()
    {
        while (true)
        {
            var job = Next();
            Gate.Wait();
            long start = ThreadCpuClock.Now();
            try
            {
                // Jobs run one at a time, so a region two harts queued is compiled once: the second finds it here.
                if (job.Cache?.Find(job.Key!) is { } cached)
                {
                    job.Compiled = cached;
                    job.Shared = true;
                }
                else
                {
                    var compiled = RegionCompiler.Compile(job.Plan, job.Specialization); // JIT-compiled here, not on the hart's thread
                    job.Compiled = job.Cache?.Add(job.Key!, compiled) ?? compiled;
                }
            }
            catch (Exception e)
            {
                job.Failure = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
            }
            job.Ticks = ThreadCpuClock.Now() - start;
            job.Done.Enqueue(job);
        }
    }
}
