using ReplayVm.Core;
using ReplayVm.Core.Board;
using ReplayVm.Core.Loading;
using ReplayVm.Replay;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// What to load, read and parsed before any machine or terminal is touched, so a bad file fails
/// fast without allocating guest RAM. <c>run</c> loads it into a machine it builds itself;
/// <c>record</c> turns it into the <see cref="MachineSetup"/> a trace header carries.
/// </summary>
internal abstract record GuestBoot
{
    public sealed record Bare(string Name, ElfImage? Elf, byte[] Bytes, ulong LoadAddress) : GuestBoot;
    public sealed record Firmware(string BiosName, byte[] BiosBytes, BootImage Bios, string? KernelName, byte[]? KernelBytes, BootImage? Kernel) : GuestBoot
    {
        /// <summary><c>--initrd</c>: its file name and bytes (loaded as they are, like QEMU's raw initrd).</summary>
        public string? InitrdName { get; init; }
        public byte[]? InitrdBytes { get; init; }
    }

    /// <summary>Checks which of GUEST and --bios was given and reads the files.</summary>
    public static GuestBoot Read(RunSettings settings)
    {
        if (settings.KernelPath is not null && settings.BiosPath is null)
            throw new UsageException("--kernel needs --bios FIRMWARE (a bare guest is given as GUEST)");
        if (settings.InitrdPath is not null && settings.KernelPath is null)
            throw new UsageException("--initrd needs --kernel FILE (and --bios FIRMWARE), as QEMU's -initrd needs -kernel");
        if (settings.Persist && settings.Drives.Length == 0)
            throw new UsageException("--persist needs a --drive FILE");
        if (settings.Config.Board == BoardKind.Spike && (settings.BiosPath ?? settings.Drives.FirstOrDefault() ?? settings.Config.Bootargs) is not null)
            throw new UsageException("--bios, --drive and --append need --machine virt");

        if (settings.BiosPath is { } biosPath)
        {
            if (settings.GuestPath is not null)
                throw new UsageException($"give either GUEST or --bios, not both (with a firmware, the next stage is --kernel {settings.GuestPath})");
            if (settings.LoadAddress is not null)
                throw new UsageException("--load-address is for a raw GUEST; a raw --bios goes to 0x80000000 and a raw --kernel after it");
            byte[] bios = GuestFile.Read(biosPath);
            byte[]? kernel = settings.KernelPath is { } k ? GuestFile.Read(k) : null;
            return new Firmware(Path.GetFileName(biosPath), bios, ParseBootImage(biosPath, bios),
                settings.KernelPath is { } kp ? Path.GetFileName(kp) : null, kernel,
                kernel is null ? null : ParseBootImage(settings.KernelPath!, kernel))
            {
                InitrdName = settings.InitrdPath is { } ip ? Path.GetFileName(ip) : null,
                InitrdBytes = settings.InitrdPath is { } i ? GuestFile.Read(i) : null,
            };
        }

        if (settings.GuestPath is not { } path)
            throw new UsageException("nothing to run: give a GUEST file, or --bios FIRMWARE (see replayvm run --help)");
        byte[] bytes = GuestFile.Read(path);
        return settings.LoadAddress is { } address
            ? new Bare(Path.GetFileName(path), null, bytes, address)
            : new Bare(Path.GetFileName(path), ParseElf(path, bytes), bytes, 0);
    }

    /// <summary>Puts the images into <paramref name="machine"/> (attach disks first: the device tree lists them).</summary>
    public void LoadInto(Machine machine)
    {
        switch (this)
        {
            case Bare { Elf: { } elf }:
                machine.LoadElf(elf);
                break;
            case Bare bare:
                machine.LoadRaw(bare.Bytes, bare.LoadAddress);
                break;
            case Firmware firmware:
                machine.LoadFirmware(firmware.Bios, firmware.Kernel, firmware.InitrdBytes);
                break;
        }
    }

    /// <summary>The same boot as a trace header describes it (every image embedded).</summary>
    public MachineSetup ToSetup(MachineConfig config) => this switch
    {
        Bare { Elf: not null } bare => MachineSetup.ForElf(config, bare.Name, bare.Bytes),
        Bare bare => MachineSetup.ForRaw(config, bare.Name, bare.Bytes, bare.LoadAddress),
        Firmware f => MachineSetup.ForFirmware(config, f.BiosName, f.BiosBytes, f.KernelName, f.KernelBytes, f.InitrdName, f.InitrdBytes),
        _ => throw new InvalidOperationException("unknown boot"),
    };

    /// <summary>A machine, with the machine's own limits (e.g. on the RAM size) reported as bad input.</summary>
    public static Machine CreateMachine(Func<Machine> build)
    {
        try
        {
            return build();
        }
        catch (ArgumentException e)
        {
            // Drop .NET's " (Parameter 'x')" tail.
            string reason = e.Message.Split(" (Parameter", 2)[0];
            throw new UsageException($"cannot build the machine: {reason}");
        }
        catch (GuestImageException e) when (e.Message.StartsWith("it needs ", StringComparison.Ordinal))
        {
            throw new UsageException($"cannot build the machine: {e.Message}");
        }
    }

    private static BootImage ParseBootImage(string path, byte[] bytes)
    {
        try
        {
            return BootImage.FromBytes(bytes);
        }
        catch (GuestImageException e)
        {
            throw new GuestImageException($"{path}: {e.Message}");
        }
    }

    private static ElfImage ParseElf(string path, byte[] bytes)
    {
        try
        {
            return ElfImage.Parse(bytes);
        }
        catch (GuestImageException e) when (e.Message == "not an ELF file")
        {
            throw new GuestImageException($"{path}: not an ELF file (for a raw binary, give --load-address)");
        }
        catch (GuestImageException e)
        {
            throw new GuestImageException($"{path}: {e.Message}");
        }
    }
}
