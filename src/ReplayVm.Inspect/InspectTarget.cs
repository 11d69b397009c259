using System.Runtime.InteropServices;
using Microsoft.Diagnostics.Runtime;

namespace ReplayVm.Inspect;

/// <summary>
/// A replayvm process (attached read-only and suspended for as long as this lives) or a dump of
/// one, with its .NET runtime opened through ClrMD. Every way this can fail is an
/// <see cref="InspectException"/> of one line.
/// </summary>
public sealed class InspectTarget : IDisposable
{
    private readonly DataTarget? _attachment;
    private readonly ExitTolerantReader? _reader;

    private InspectTarget(DataTarget target, ClrRuntime runtime, string description, int? processId, DataTarget? attachment, ExitTolerantReader? reader)
    {
        _attachment = attachment;
        _reader = reader;
        DataTarget = target;
        Runtime = runtime;
        Description = description;
        ProcessId = processId;
    }

    public DataTarget DataTarget { get; }
    public ClrRuntime Runtime { get; }
    public string Description { get; }

    /// <summary>The live process's id; null for a dump.</summary>
    public int? ProcessId { get; }

    public bool IsLive => ProcessId is not null;

    /// <summary>
    /// Attaches to process <paramref name="pid"/> with ptrace and stops it (ClrMD's
    /// <c>AttachToProcess(pid, suspend: true)</c>), so what is read is one consistent moment; it
    /// runs on when this is disposed. Nothing is written into the target.
    /// </summary>
    public static InspectTarget Attach(int pid)
    {
        if (pid == Environment.ProcessId) throw new InspectException("replayvm cannot inspect itself; give another process's id");
        if (!Directory.Exists($"/proc/{pid}")) throw new InspectException($"no process {pid}");
        string name = ProcessName(pid);
        DataTarget attachment;
        try
        {
            attachment = DataTarget.AttachToProcess(pid, suspend: true);
        }
        catch (Exception e) when (e is not InspectException)
        {
            if (!Directory.Exists($"/proc/{pid}")) throw new InspectException($"process {pid} exited before it could be inspected");
            throw new InspectException(
                $"cannot attach to process {pid} ({name}): {FirstLine(e.Message)}; run replayvm inspect as the same user as the process, or as root " +
                "(ptrace must be allowed: /proc/sys/kernel/yama/ptrace_scope 0 or 1, CAP_SYS_PTRACE in a container)");
        }
        // The attachment holds the ptrace stop; reads go through a reader that survives the process exiting.
        var reader = new ExitTolerantReader(attachment.DataReader);
        var target = new DataTarget(reader, new DataTargetOptions());
        try
        {
            return Open(target, $"process {pid} ({name})", pid, attachment, reader);
        }
        catch
        {
            attachment.Dispose();
            throw;
        }
    }

    /// <summary>Opens a core dump of a replayvm process (from createdump or DOTNET_DbgEnableMiniDump).</summary>
    public static InspectTarget Load(string path)
    {
        if (Directory.Exists(path)) throw new InspectException($"{path}: is a directory, not a dump");
        if (!File.Exists(path)) throw new InspectException($"{path}: no such process id or dump file");
        DataTarget target;
        try
        {
            target = DataTarget.LoadDump(path);
        }
        catch (Exception e) when (e is not InspectException)
        {
            throw new InspectException($"{path}: not a readable core dump ({FirstLine(e.Message)}); give a dump written by createdump or DOTNET_DbgEnableMiniDump");
        }
        return Open(target, path, null, null, null);
    }

    private static InspectTarget Open(DataTarget target, string description, int? pid, DataTarget? attachment, ExitTolerantReader? reader)
    {
        try
        {
            if (target.ClrVersions.Length == 0)
                throw new InspectException($"{description} is not a .NET process (no .NET runtime in it); replayvm inspect reads replayvm processes");
            var clr = target.ClrVersions[0];
            // The data access library must be the target runtime's own build, and we carry only ours.
            // On Linux the runtime's ELF has no version resource: its folder names the version.
            CheckRuntimeVersion(description, RuntimeVersionOf(clr), Environment.Version.ToString(3));
            string dac = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "libmscordaccore.so");
            // ClrMD cannot read the target runtime's version on Linux (it reports 0.0), so it would call every
            // DAC a mismatch: the folder check above is the version check.
            var runtime = File.Exists(dac) ? clr.CreateRuntime(dac, ignoreMismatch: true) : clr.CreateRuntime();
            if (!runtime.EnumerateModules().Any(m => Path.GetFileName(m.Name ?? "") == "ReplayVm.Core.dll"))
                throw new InspectException($"{description} is a .NET process but not replayvm (ReplayVm.Core is not loaded)");
            return new InspectTarget(target, runtime, description, pid, attachment, reader);
        }
        catch (InspectException)
        {
            target.Dispose();
            throw;
        }
        catch (Exception e)
        {
            target.Dispose();
            if (pid is { } p && (reader?.TargetLost == true || !IsRunning(p))) throw new InspectException($"process {p} exited during the inspection");
            if (Environment.GetEnvironmentVariable("REPLAYVM_INSPECT_DEBUG") == "1") Console.Error.WriteLine(e);
            throw new InspectException($"{description}: cannot read its .NET runtime: {FirstLine(e.Message)}");
        }
    }

    /// <summary>Refuses a target whose runtime is another version than the one this replayvm runs on.</summary>
    public static void CheckRuntimeVersion(string description, string theirs, string ours)
    {
        if (theirs != ours)
            throw new InspectException(
                $"{description} runs .NET {theirs}, this replayvm runs on .NET {ours} and reads only that runtime's processes and dumps; " +
                $"inspect it with a replayvm running on .NET {theirs}");
    }

    /// <summary>The target runtime's version, from its folder (<c>shared/Microsoft.NETCore.App/10.0.12/libcoreclr.so</c>), else from ClrMD.</summary>
    internal static string RuntimeVersionOf(ClrInfo clr)
    {
        string? folder = Path.GetFileName(Path.GetDirectoryName(clr.ModuleInfo.FileName ?? ""));
        if (folder is not null && Version.TryParse(folder.Split('-')[0], out var version)) return folder;
        return clr.Version.Major > 0 ? clr.Version.ToString() : "(unknown version)";
    }

    /// <summary>Throws when the live target stopped being readable (it exited) while it was read: what was read is not to be trusted.</summary>
    internal void EnsureStillThere()
    {
        if (ProcessId is { } pid && (_reader?.TargetLost == true || !IsRunning(pid)))
            throw new InspectException($"process {pid} exited during the inspection");
    }

    /// <summary>
    /// What to say when reading the target failed unexpectedly: a live process that is gone exited
    /// during the inspection; anything else is a target this inspector cannot read.
    /// </summary>
    internal InspectException Failure(Exception e)
    {
        if (Environment.GetEnvironmentVariable("REPLAYVM_INSPECT_DEBUG") == "1") Console.Error.WriteLine(e);
        if (ProcessId is { } pid && (_reader?.TargetLost == true || !IsRunning(pid))) return new InspectException($"process {pid} exited during the inspection");
        // A dump is what it is; a running process may have been stopped mid-change and reads on later.
        return new InspectException($"{Description}: cannot read its state: {FirstLine(e.Message)}", momentary: IsLive);
    }

    /// <summary>True while <paramref name="pid"/> exists and is not a zombie.</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Reads target memory; false when the bytes are not there (not in the dump, unmapped).</summary>
    public bool TryRead(ulong address, Span<byte> destination) =>
        DataTarget.DataReader.Read(address, destination) == destination.Length;

    internal static string FirstLine(string text) => text.Split('\n')[0].Trim().TrimEnd('.');

    private static string ProcessName(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return "?";
        }
    }

    public void Dispose()
    {
        Runtime.Dispose();
        DataTarget.Dispose();
        _attachment?.Dispose();
    }
}
