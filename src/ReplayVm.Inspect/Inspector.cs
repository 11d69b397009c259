using System.Text;
using Microsoft.Diagnostics.Runtime;
using ReplayVm.Core.Loading;
using ReplayVm.Debugger.Disassembly;

namespace ReplayVm.Inspect;

/// <summary>
/// Finds ReplayVm's machines on a target's heap and reads each one's guest state, its recorder's
/// log, and every managed thread's stack, by type and field name. Everything is read first (the
/// target stays suspended only for that) and derived afterwards (symbols, disassembly).
/// </summary>
public static class Inspector
{
    private const string MachineType = "ReplayVm.Core.Machine";
    private const string RecorderType = "ReplayVm.Replay.Recorder";
    private const string ReplayerType = "ReplayVm.Replay.Replayer";
    private const string ThreadType = "System.Threading.Thread";
    private const string TraceWriterType = "ReplayVm.Replay.TraceWriter";
    private const string BareBootType = "ReplayVm.Cli.Commands.GuestBoot+Bare";
    private const string FirmwareBootType = "ReplayVm.Cli.Commands.GuestBoot+Firmware";

    /// <summary>The CSRs shown, in this order: trap set-up and state of M and S mode, and paging.</summary>
    private static readonly (string Name, string Field)[] KeyCsrs =
    [
        ("mstatus", "_mstatus"), ("mie", "_mie"), ("mtvec", "_mtvec"), ("mepc", "_mepc"), ("mcause", "_mcause"), ("mtval", "_mtval"),
        ("medeleg", "_medeleg"), ("mideleg", "_mideleg"), ("mscratch", "_mscratch"),
        ("stvec", "_stvec"), ("sepc", "_sepc"), ("scause", "_scause"), ("stval", "_stval"), ("sscratch", "_sscratch"), ("satp", "_satp"),
    ];

    /// <summary>Heap objects the inspection needs, found in one pass.</summary>
    private sealed class HeapScan
    {
        public readonly List<ClrObject> Machines = [];
        /// <summary>Machines whose constructor had not finished when the target stopped: their devices are not all there to read.</summary>
        public int MachinesBeingBuilt;
        public readonly Dictionary<ulong, (string Role, ClrObject Owner)> Owners = [];
        public readonly Dictionary<int, string> ThreadNames = [];
        /// <summary>Guest images the CLI read for a machine it built itself (run), for symbols.</summary>
        public readonly List<ClrObject> BootImages = [];
        /// <summary>Trace writers: a Recorder's, and those of live debugging (debug GUEST, gdb --live) and replicas, which write without one.</summary>
        public readonly List<ClrObject> TraceWriters = [];

        public HeapScan(ClrHeap heap)
        {
            if (!heap.CanWalkHeap) throw new InspectException("the target's heap cannot be walked (stopped in the middle of a garbage collection?); try again", momentary: true);
            foreach (var obj in heap.EnumerateObjects())
            {
                string? name = obj.Type?.Name;
                if (name is null) continue;
                switch (name)
                {
                    // The constructor assigns Peripherals last; without it the machine is half built.
                    case MachineType:
                        // A warm-up machine (a backup's, before its log arrives) is nobody's guest;
                        // once run it is garbage that the next collection takes.
                        if (obj.Obj("Config") is { } config && config.Get<bool>("WarmUpOnly")) break;
                        if (obj.Obj("Peripherals") is null) MachinesBeingBuilt++;
                        else Machines.Add(obj);
                        break;
                    case RecorderType: Own(obj, "record"); break;
                    case ReplayerType: Own(obj, "replay"); break;
                    case TraceWriterType: TraceWriters.Add(obj); break;
                    case BareBootType:
                    case FirmwareBootType: BootImages.Add(obj); break;
                    case ThreadType:
                        if (obj.Str("_name") is { } threadName) ThreadNames[obj.Get<int>("_managedThreadId")] = threadName;
                        break;
                }
            }
            MachinesBeingBuilt += Machines.RemoveAll(m => _ownedWhileBuilt.Contains(m.Address));
        }

        private void Own(ClrObject owner, string role)
        {
            if (owner.Obj("Machine") is not { } machine) return;
            // A Recorder builds its machine first and assigns its trace writer last: without the
            // writer it is half built, and so, for the inspection, is its machine.
            if (role == "record" && owner.Obj("_writer") is null) _ownedWhileBuilt.Add(machine.Address);
            else Owners.TryAdd(machine.Address, (role, owner));
        }

        private readonly HashSet<ulong> _ownedWhileBuilt = [];
    }

    /// <summary>The raw reads of one machine, before symbols and disassembly.</summary>
    private sealed record MachineRead(MachineReport Partial, byte[]? InstructionBytes, byte[]? Elf);

    /// <summary>Reads everything; for a live target, call while it is attached (suspended).</summary>
    public static InspectionReport Inspect(InspectTarget target)
    {
        try
        {
            var report = Read(target);
            target.EnsureStillThere();
            return report;
        }
        catch (Exception e) when (e is not InspectException)
        {
            throw target.Failure(e);
        }
    }

    private static InspectionReport Read(InspectTarget target)
    {
        var runtime = target.Runtime;
        var scan = new HeapScan(runtime.Heap);
        var threads = ReadThreads(runtime, scan.ThreadNames);
        string? command = CommandOf(threads);
        // Which thread runs which machine is not on the heap; with one machine, any thread in the hart's loop is its.
        bool executing = threads.Any(t => t.Frames.Any(f => f.StartsWith("ReplayVm.Core.Hart.Hart.", StringComparison.Ordinal)
            && (f.Contains(".Interpret(", StringComparison.Ordinal) || f.Contains(".RunTranslated(", StringComparison.Ordinal) || f.Contains(".RunSlice(", StringComparison.Ordinal))));
        var notes = new List<string>();
        var reads = new List<MachineRead>();
        // Live debugging and replicas write a trace without a Recorder: it belongs to the machine furthest ahead.
        var openWriters = scan.TraceWriters.Where(w => !w.Get<bool>("_disposed")).ToList();
        ClrObject? liveWriter = !scan.Owners.Values.Any(o => o.Role == "record") && openWriters.Count == 1 ? openWriters[0] : null;
        // record opens its trace before its machine is built and its Recorder made: caught in between
        // (inspected within its first moments) it has the writer and no machine yet.
        ulong? liveMachine = liveWriter is null || scan.Machines.Count == 0 ? null : scan.Machines.MaxBy(m => m.Required("Hart").Get<ulong>("Steps")).Address;
        foreach (var machine in scan.Machines)
        {
            var owner = scan.Owners.GetValueOrDefault(machine.Address);
            reads.Add(ReadMachine(target, machine, owner.Role, owner.Owner, command, notes, scan.Machines.Count == 1 ? scan.BootImages : [],
                    machine.Address == liveMachine ? liveWriter : null) is var read && scan.Machines.Count == 1
                ? read with { Partial = read.Partial with { ExecutingGuestCode = executing } }
                : read);
        }
        if (scan.MachinesBeingBuilt > 0) notes.Add($"{scan.MachinesBeingBuilt} machine(s) still being built, not read: inspect again in a moment");
        if (reads.Count == 0 && scan.MachinesBeingBuilt == 0) notes.Add("no machine on the heap: this replayvm had not built one yet, or had already finished with it");
        var machines = reads.Select(Derive).ToList();
        return new InspectionReport(target.Description, target.IsLive, target.ProcessId, InspectTarget.RuntimeVersionOf(runtime.ClrInfo), command,
            machines, threads, notes);
    }

    /// <summary>
    /// What a salvage needs from the target: the recorder's log with its header, and its machine's
    /// state as the dump holds it. Read while the target is attached; nothing is derived here.
    /// </summary>
    public static (MachineReport Machine, RecorderLog Log) ReadRecording(InspectTarget target)
    {
        try
        {
            var scan = new HeapScan(target.Runtime.Heap);
            var recorders = scan.Owners.Where(o => o.Value.Role == "record").ToList();
            if (recorders.Count > 1)
                throw new InspectException($"{target.Description} holds {recorders.Count} recorders; salvage needs exactly one");
            ClrObject machine, writer;
            if (recorders.Count == 1)
            {
                machine = scan.Machines.First(m => m.Address == recorders[0].Key);
                writer = recorders[0].Value.Owner.Required("_writer");
            }
            else
            {
                // Live debugging and replicas write their trace without a Recorder; the machine that
                // writes it is the one furthest ahead (the others are the timeline's replays).
                var open = scan.TraceWriters.Where(w => !w.Get<bool>("_disposed")).ToList();
                if (open.Count != 1 || scan.Machines.Count == 0)
                    throw new InspectException(open.Count == 0
                        ? $"{target.Description} holds no recorder (only record, debug GUEST, gdb --live and primary record): there is no recording to salvage"
                        : $"{target.Description} writes {open.Count} traces; salvage needs exactly one");
                writer = open[0];
                machine = scan.Machines.MaxBy(m => m.Required("Hart").Get<ulong>("Steps"));
            }
            var threads = ReadThreads(target.Runtime, scan.ThreadNames);
            bool executing = threads.Any(t => t.Frames.Any(f => f.StartsWith("ReplayVm.Core.Hart.Hart.", StringComparison.Ordinal)
                && (f.Contains(".Interpret(", StringComparison.Ordinal) || f.Contains(".RunTranslated(", StringComparison.Ordinal))));
            var read = ReadMachine(target, machine, null, default, "record", [], scan.BootImages, writer);
            var log = RecorderLog.Read(writer, withHeader: true);
            target.EnsureStillThere();
            return (read.Partial with { ExecutingGuestCode = executing }, log);
        }
        catch (Exception e) when (e is not InspectException)
        {
            throw target.Failure(e);
        }
    }

    private static MachineRead ReadMachine(InspectTarget target, ClrObject machine, string? ownerRole, ClrObject owner, string? command, List<string> notes,
        IReadOnlyList<ClrObject>? bootImages = null, ClrObject? liveWriter = null)
    {
        var hart = machine.Required("Hart");
        ulong pc = hart.Get<ulong>("Pc");
        ulong steps = hart.Get<ulong>("Steps");
        byte mode = hart.Get<byte>("Mode");
        ulong[] x = hart.Required("_x").Values<ulong>(32);
        x[0] = 0;
        ulong[] f = hart.Required("_f").Values<ulong>(32);
        var csrs = KeyCsrs.Select(c => new CsrValue(c.Name, hart.Get<ulong>(c.Field))).ToList();
        ulong mip = hart.Get<ulong>("InterruptLines") | hart.Get<ulong>("_mipSoftware");
        ulong mie = hart.Get<ulong>("_mie");
        csrs.Insert(2, new CsrValue("mip", mip));
        bool waiting = hart.Get<bool>("WaitingForInterrupt");

        var tail = machine.Required("ConsoleTail");
        long consoleBytes = tail.Get<long>("_written");
        byte[] ring = tail.Required("_ring").Values<byte>();
        int kept = (int)Math.Min(consoleBytes, ring.Length);
        var text = new byte[kept];
        for (int i = 0; i < kept; i++) text[i] = ring[(int)((consoleBytes - kept + i) % ring.Length)];

        RecordingReport? recording = null;
        byte[]? elf = null;
        ClrObject? recordingWriter = ownerRole == "record" ? owner.Required("_writer") : liveWriter;
        if (recordingWriter is { } writer)
        {
            var log = RecorderLog.Read(writer, withHeader: false);
            recording = new RecordingReport(log.TracePath, log.EventsLogged, log.EventsWritten, log.EventsPending, log.ChunksWritten,
                log.Events.Count > 0 ? log.Events[^1].Step : 0, writer.Required("Header").Get<ulong>("StateHashInterval"));
            if (log.Torn is not null) notes.Add($"the recorder's log is torn: {log.Torn}");
            elf = ElfOf(writer.Required("Header").Required("Setup"));
        }
        else if (ownerRole == "replay" && owner.Obj("Trace") is { } trace)
            elf = ElfOf(trace.Required("Header").Required("Setup"));
        else
            // A machine the CLI built itself (run): the images it read are still referenced from the command's frame.
            foreach (var boot in bootImages ?? [])
                foreach (var field in new[] { "Bytes", "KernelBytes", "BiosBytes" })
                    if (elf is null && boot.Has(field) && boot.Obj(field) is { } bytes && IsElf(bytes.Values<byte>(4)))
                        elf = bytes.Values<byte>();

        ulong ramBase = hart.Get<ulong>("_ramBase"), ramSize = hart.Get<ulong>("_ramSize");
        ulong ramPointer = hart.Get<ulong>("_ramPointer");
        byte[]? instruction = null;
        if (Translate(target, pc, mode, csrs.First(c => c.Name == "satp").Value, ramBase, ramSize, ramPointer) is { } physical)
        {
            var bytes = new byte[4];
            // The second parcel may lie on the next page; a compressed instruction needs only two bytes.
            if (target.TryRead(ramPointer + (physical - ramBase), bytes.AsSpan(0, 2)))
            {
                instruction = bytes;
                if ((bytes[0] & 3) == 3 && physical + 4 <= ramBase + ramSize)
                    instruction = target.TryRead(ramPointer + (physical - ramBase), bytes) ? bytes : null;
            }
        }

        string role = RoleOf(command, ownerRole);
        var partial = new MachineReport(role, steps, pc, null, null, PrivilegeName(mode), x, f, csrs, PendingInterrupts(mip, mie), waiting, false,
            ramSize, consoleBytes, Encoding.UTF8.GetString(text), recording);
        return new MachineRead(partial, instruction, elf);
    }

    /// <summary>The first ELF image of a machine setup, for symbols (null when it has none in memory).</summary>
    private static byte[]? ElfOf(ClrObject setup)
    {
        foreach (var image in setup.Required("Images").Items())
            if (image.Get<byte>("Role") is 1 or 3 or 4 && image.Obj("_bytes") is { } bytes && bytes.AsArray().Length >= 4)
            {
                byte[] data = bytes.Values<byte>();
                if (IsElf(data)) return data;
            }
        return null;
    }

    private static bool IsElf(byte[] data) => data.Length >= 4 && data[0] == 0x7F && data[1] == (byte)'E' && data[2] == (byte)'L' && data[3] == (byte)'F';

    private static MachineReport Derive(MachineRead read)
    {
        var m = read.Partial;
        ElfImage? elf = null;
        if (read.Elf is { } bytes)
        {
            try
            {
                elf = ElfImage.Parse(bytes);
            }
            catch (GuestImageException)
            {
                // Symbols are a convenience: without them the pc is printed bare.
            }
        }
        string? instruction = read.InstructionBytes is { } ib
            ? RiscvDisassembler.Disassemble(BitConverter.ToUInt32(ib), m.Pc, a => elf?.SymbolAt(a))
            : null;
        return m with { Symbol = elf?.SymbolAt(m.Pc), Instruction = instruction };
    }

    /// <summary>
    /// The physical address of <paramref name="pc"/>: itself in M-mode or without paging, else the
    /// Sv39/Sv48/Sv57 walk of the privileged spec (4.3.2) over the guest's page table in the target's RAM.
    /// </summary>
    private static ulong? Translate(InspectTarget target, ulong pc, byte mode, ulong satp, ulong ramBase, ulong ramSize, ulong ramPointer)
    {
        ulong satpMode = satp >> 60;
        ulong physical = pc;
        if (mode != 3 && satpMode is 8 or 9 or 10)
        {
            int levels = (int)satpMode - 5;
            ulong table = (satp & ((1UL << 44) - 1)) << 12;
            var entry = new byte[8];
            physical = ulong.MaxValue;
            for (int level = levels - 1; level >= 0; level--)
            {
                ulong vpn = (pc >> (12 + 9 * level)) & 0x1FF;
                ulong address = table + vpn * 8;
                if (address - ramBase >= ramSize || !target.TryRead(ramPointer + (address - ramBase), entry)) return null;
                ulong pte = BitConverter.ToUInt64(entry);
                if ((pte & 1) == 0) return null;
                ulong ppn = (pte >> 10) & ((1UL << 44) - 1);
                if ((pte & 0xA) != 0)
                {
                    ulong pageMask = (1UL << (12 + 9 * level)) - 1;
                    physical = ((ppn << 12) & ~pageMask) | (pc & pageMask);
                    break;
                }
                table = ppn << 12;
            }
            if (physical == ulong.MaxValue) return null;
        }
        return physical - ramBase < ramSize ? physical : null;
    }

    private static string PrivilegeName(byte mode) => mode switch { 0 => "U", 1 => "S", 3 => "M", _ => $"?{mode}" };

    private static readonly (int Bit, string Name)[] InterruptNames =
        [(11, "MEI"), (3, "MSI"), (7, "MTI"), (9, "SEI"), (1, "SSI"), (5, "STI")];

    /// <summary>Interrupts raised in mip, each marked enabled or masked by mie (privileged spec 3.1.9).</summary>
    private static List<string> PendingInterrupts(ulong mip, ulong mie) =>
        InterruptNames.Where(i => (mip >> i.Bit & 1) != 0)
            .Select(i => (mie >> i.Bit & 1) != 0 ? i.Name : $"{i.Name} (masked by mie)").ToList();

    private static string RoleOf(string? command, string? owner) => command switch
    {
        "primary" or "backup" => "replica " + command,
        "gdb" or "debug" => owner is null ? command : $"{command} ({owner})",
        not null => command,
        _ => owner ?? "run",
    };

    /// <summary>The replayvm command the process runs, from the <c>ReplayVm.Cli.Commands.*Command</c> frames of its stacks.</summary>
    private static string? CommandOf(IReadOnlyList<ThreadReport> threads)
    {
        const string prefix = "ReplayVm.Cli.Commands.";
        foreach (var thread in threads)
            foreach (var frame in thread.Frames.Reverse())
                if (frame.StartsWith(prefix, StringComparison.Ordinal))
                {
                    string type = frame[prefix.Length..].Split('.', '+', '(')[0];
                    if (type.EndsWith("Command", StringComparison.Ordinal) && type != "LiveSession") return type[..^"Command".Length].ToLowerInvariant();
                }
        return null;
    }

    private static List<ThreadReport> ReadThreads(ClrRuntime runtime, Dictionary<int, string> names)
    {
        var threads = new List<ThreadReport>();
        foreach (var thread in runtime.Threads)
        {
            if (!thread.IsAlive) continue;
            var frames = new List<string>();
            foreach (var frame in thread.EnumerateStackTrace(includeContext: false))
            {
                if (frames.Count >= 200) break;
                string text = frame.Method is { } method
                    ? method.Signature ?? $"{method.Type?.Name}.{method.Name}"
                    : $"[{frame.FrameName ?? frame.Kind.ToString()}]";
                frames.Add(text);
            }
            threads.Add(new ThreadReport(thread.ManagedThreadId, thread.OSThreadId, names.GetValueOrDefault(thread.ManagedThreadId), thread.IsFinalizer, frames));
        }
        return threads;
    }
}
