using ReplayVm.Core.Loading;
using ReplayVm.Lockstep;

// replayvm-lockstep (GUEST.elf | --bios FW [--kernel K] [--append ARGS] [--drive IMG]) [options]
// Compares ReplayVm against QEMU 7.2 instruction by instruction; see tools/qemu-lockstep.
const string Usage =
    "usage: qemu-lockstep (GUEST.elf | --bios FW [--kernel K] [--append ARGS]) [--drive IMG] [--max N] " +
    "[--ignore REG|CSR[,...]] [--history N] [--progress N] [--qemu-dtb] [--allow-known-qemu-deviations]";

try
{
    var options = ParseArguments(args);
    var qemu = FindOnPath("qemu-system-riscv64")
        ?? throw new LockstepException("qemu-system-riscv64 not found: apt-get install qemu-system-misc");
    var deviceTree = options.UseQemuDeviceTree ? QemuProcess.DumpDeviceTree(qemu, options, QemuCommandLine.CpuModel()) : null;
    using var process = QemuProcess.Start(qemu, options, QemuCommandLine.CpuModel());
    return new LockstepRunner(options, Console.Out).Run(process.Log, deviceTree);
}
catch (Exception e) when (e is LockstepException or GuestImageException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"qemu-lockstep: {e.Message}");
    return 2;
}

static LockstepOptions ParseArguments(string[] args)
{
    var options = new LockstepOptions();
    var ignored = new HashSet<int>();
    var ignoredCsrs = new HashSet<string>(StringComparer.Ordinal);
    for (int i = 0; i < args.Length; i++)
    {
        string Value() => i + 1 < args.Length ? args[++i] : throw new LockstepException($"{args[i]} needs a value. {Usage}");
        switch (args[i])
        {
            case "--max":
                options = options with { MaxSteps = ulong.TryParse(Value(), out var m) ? m : throw new LockstepException($"--max wants a number. {Usage}") };
                break;
            case "--history":
                options = options with { History = int.TryParse(Value(), out var h) && h >= 0 ? h : throw new LockstepException($"--history wants a number. {Usage}") };
                break;
            case "--progress":
                options = options with { ProgressEvery = ulong.TryParse(Value(), out var p) ? p : throw new LockstepException($"--progress wants a number. {Usage}") };
                break;
            case "--ignore":
                foreach (var r in Value().Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (LockstepRunner.CsrNumbers.ContainsKey(r.Trim().ToLowerInvariant())) ignoredCsrs.Add(r.Trim().ToLowerInvariant());
                    else ignored.Add(LockstepRunner.ParseRegister(r));
                }
                break;
            case "--bios": options = options with { BiosPath = ExistingFile(Value()) }; break;
            case "--kernel": options = options with { KernelPath = ExistingFile(Value()) }; break;
            case "--drive": options = options with { DrivePath = ExistingFile(Value()) }; break;
            case "--append": options = options with { Append = Value() }; break;
            case "--qemu-dtb": options = options with { UseQemuDeviceTree = true }; break;
            case "--allow-known-qemu-deviations": options = options with { AllowKnownQemuDeviations = true }; break;
            case "-h" or "--help":
                Console.WriteLine(Usage);
                Environment.Exit(0);
                break;
            default:
                if (args[i].StartsWith('-') || options.ElfPath != null) throw new LockstepException($"unexpected argument '{args[i]}'. {Usage}");
                options = options with { ElfPath = ExistingFile(args[i]) };
                break;
        }
    }
    if (options.ElfPath != null && options.BiosPath != null) throw new LockstepException($"give GUEST.elf or --bios, not both. {Usage}");
    if (options.ElfPath == null && options.BiosPath == null) throw new LockstepException(Usage);
    if (options.KernelPath != null && options.BiosPath == null) throw new LockstepException($"--kernel needs --bios (for a bare ELF give it as GUEST.elf). {Usage}");
    return options with { IgnoredRegisters = ignored, IgnoredCsrs = ignoredCsrs };
}

static string ExistingFile(string path) =>
    File.Exists(path) ? Path.GetFullPath(path) : throw new LockstepException($"{path}: no such file");

static string? FindOnPath(string tool) =>
    (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
