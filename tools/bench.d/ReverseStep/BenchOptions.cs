namespace ReplayVm.Bench.ReverseStep;

/// <summary>The command line: <c>TRACE [--positions N] [--steps-back K] [--checkpoint-memory MIB]</c>.</summary>
internal sealed record BenchOptions(string TracePath, int Positions, int StepsBack, long? CheckpointMemoryBytes)
{
    public const string Usage = "usage: replayvm-bench-reverse-step TRACE.rvtrace [--positions N] [--steps-back K] [--checkpoint-memory MIB]";

    /// <summary>Parses <paramref name="args"/>; a bad argument is an <see cref="ArgumentException"/> with a one-line message.</summary>
    public static BenchOptions Parse(string[] args)
    {
        string? trace = null;
        int positions = 24, stepsBack = 8;
        long? memory = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--positions": positions = (int)Positive(args, ++i); break;
                case "--steps-back": stepsBack = (int)Positive(args, ++i); break;
                case "--checkpoint-memory": memory = Positive(args, ++i) << 20; break;
                default:
                    if (args[i].StartsWith('-') || trace is not null) throw new ArgumentException($"unexpected argument '{args[i]}'");
                    trace = args[i];
                    break;
            }
        }
        return new BenchOptions(trace ?? throw new ArgumentException("no trace file given"), positions, stepsBack, memory);
    }

    private static long Positive(string[] args, int i)
    {
        if (i >= args.Length) throw new ArgumentException($"{args[i - 1]} needs a value");
        if (!long.TryParse(args[i], out long value) || value <= 0 || value > int.MaxValue)
            throw new ArgumentException($"{args[i - 1]} needs a positive integer, got '{args[i]}'");
        return value;
    }
}
