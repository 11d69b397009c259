using ReplayVm.Core.Loading;
using ReplayVm.Lockstep;

// replayvm-lockstep GUEST.elf [--max N] [--ignore REG[,REG...]] [--history N]
// Compares ReplayVm against QEMU 7.2 instruction by instruction; see tools/qemu-lockstep.
const string Usage = "usage: qemu-lockstep GUEST.elf [--max N] [--ignore REG[,REG...]] [--history N]";

try
{
    var options = ParseArguments(args);
    var qemu = FindOnPath("qemu-system-riscv64")
        ?? throw new LockstepException("qemu-system-riscv64 not found: apt-get install qemu-system-misc");
    using var process = QemuProcess.Start(qemu, options.ElfPath, CpuModel());
    return new LockstepRunner(options, Console.Out).Run(process.Log);
}
catch (Exception e) when (e is LockstepException or GuestImageException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"qemu-lockstep: {e.Message}");
    return 2;
}

static LockstepOptions ParseArguments(string[] args)
{
    string? elf = null;
    ulong max = ulong.MaxValue;
    int history = 8;
    var ignored = new HashSet<int>();
    for (int i = 0; i < args.Length; i++)
    {
        string Value() => i + 1 < args.Length ? args[++i] : throw new LockstepException($"{args[i]} needs a value. {Usage}");
        switch (args[i])
        {
            case "--max":
                max = ulong.TryParse(Value(), out var m) ? m : throw new LockstepException($"--max wants a number. {Usage}");
                break;
            case "--history":
                history = int.TryParse(Value(), out var h) && h >= 0 ? h : throw new LockstepException($"--history wants a number. {Usage}");
                break;
            case "--ignore":
                foreach (var r in Value().Split(',', StringSplitOptions.RemoveEmptyEntries)) ignored.Add(LockstepRunner.ParseRegister(r));
                break;
            case "-h" or "--help":
                Console.WriteLine(Usage);
                Environment.Exit(0);
                break;
            default:
                if (args[i].StartsWith('-') || elf != null) throw new LockstepException($"unexpected argument '{args[i]}'. {Usage}");
                elf = args[i];
                break;
        }
    }
    if (elf == null) throw new LockstepException(Usage);
    if (!File.Exists(elf)) throw new LockstepException($"{elf}: no such file");
    return new LockstepOptions(Path.GetFullPath(elf), max, ignored, history);
}

// QEMU's default rv64 also has F, D and H; give it exactly the extensions ReplayVm's misa announces.
static string CpuModel()
{
    const ulong misa = ReplayVm.Core.Hart.Hart.Misa;
    static string Flag(char ext) => (misa & (1UL << (ext - 'A'))) != 0 ? "true" : "false";
    return $"rv64,f={Flag('F')},d={Flag('D')},h={Flag('H')}";
}

static string? FindOnPath(string tool) =>
    (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
