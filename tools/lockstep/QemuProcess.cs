using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ReplayVm.Lockstep;

/// <summary>
/// QEMU 7.2 single-stepping a guest on the virt board, its CPU log streamed through a named pipe
/// so the multi-gigabyte log of a long run never touches the disk.
/// </summary>
public sealed partial class QemuProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    public QemuCpuLog Log { get; }

    private QemuProcess(Process process, string dir, TextReader log)
    {
        _process = process;
        _dir = dir;
        Log = new QemuCpuLog(log);
    }

    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MkFifo(string path, uint mode);

    /// <summary>Starts QEMU for <paramref name="options"/>; a --drive image is copied first so QEMU's writes never reach it.</summary>
    /// <summary>QEMU's device tree for this command line: <c>-M virt,dumpdtb=FILE</c> writes it and exits.</summary>
    public static byte[] DumpDeviceTree(string qemu, LockstepOptions options, string cpuModel)
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-lockstep-dtb-").FullName;
        try
        {
            var dump = Path.Combine(dir, "virt.dtb");
            var psi = new ProcessStartInfo(qemu) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in QemuCommandLine.Build(options, cpuModel, Path.Combine(dir, "unused.log"), options.DrivePath == null ? null : Path.Combine(dir, "disk.img")))
                psi.ArgumentList.Add(a == "virt" ? $"virt,dumpdtb={dump}" : a);
            if (options.DrivePath != null) File.Copy(options.DrivePath, Path.Combine(dir, "disk.img"));
            using var process = Process.Start(psi) ?? throw new LockstepException($"could not start {qemu}");
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (!File.Exists(dump)) throw new LockstepException($"QEMU wrote no device tree: {stderr.Result.Trim()}");
            return File.ReadAllBytes(dump);
        }
        finally { Directory.Delete(dir, true); }
    }

    public static QemuProcess Start(string qemu, LockstepOptions options, string cpuModel)
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-lockstep-").FullName;
        var fifo = Path.Combine(dir, "cpu.log");
        if (MkFifo(fifo, 0x180 /* 0600 */) != 0)
            throw new LockstepException($"mkfifo {fifo} failed (errno {Marshal.GetLastPInvokeError()})");
        string? driveCopy = null;
        if (options.DrivePath != null)
        {
            driveCopy = Path.Combine(dir, "disk.img");
            File.Copy(options.DrivePath, driveCopy);
        }

        var psi = new ProcessStartInfo(qemu)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in QemuCommandLine.Build(options, cpuModel, fifo, driveCopy)) psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new LockstepException($"could not start {qemu}");
        process.StandardInput.Close();
        process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        var stderr = process.StandardError.ReadToEndAsync();

        // Opening a FIFO for reading blocks until QEMU opens it for writing; if QEMU dies first
        // (bad arguments, unreadable ELF), unblock the open ourselves and report QEMU's complaint.
        var open = Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 20));
        while (!open.Wait(100))
        {
            if (process.HasExited)
            {
                using (new FileStream(fifo, FileMode.Open, FileAccess.Write, FileShare.ReadWrite)) { }
                open.Wait();
                open.Result.Dispose();
                Directory.Delete(dir, true);
                throw new LockstepException($"QEMU exited with {process.ExitCode} before logging: {stderr.Result.Trim()}");
            }
        }
        return new QemuProcess(process, dir, new StreamReader(open.Result, bufferSize: 1 << 20));
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}

/// <summary>A problem with the tool's input or environment: reported as one line, exit code 2.</summary>
public sealed class LockstepException(string message) : Exception(message);
