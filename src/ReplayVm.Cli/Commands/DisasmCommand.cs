using System.CommandLine;
using ReplayVm.Cli.Disassembly;
using ReplayVm.Cli.Hosting;
using ReplayVm.Core.Loading;

namespace ReplayVm.Cli.Commands;

/// <summary><c>replayvm disasm</c>: an objdump -d style listing of a guest's code.</summary>
internal static class DisasmCommand
{
    public static Command Create()
    {
        var guest = new Argument<string>("GUEST") { Description = "A RISC-V ELF64 executable." };
        var symbol = new Option<string?>("--symbol") { Description = "Only list this function." };
        var command = new Command("disasm", "Disassemble the executable segments of a guest ELF, like objdump -d.") { guest, symbol };
        command.SetAction(parsed => Execute(parsed.GetRequiredValue(guest), parsed.GetValue(symbol)));
        return command;
    }

    private static int Execute(string path, string? symbolName)
    {
        ElfImage image;
        try
        {
            image = ElfImage.Parse(GuestFile.Read(path));
        }
        catch (GuestImageException e)
        {
            throw new GuestImageException($"{path}: {e.Message}");
        }

        var listing = new DisassemblyListing(image);
        var output = new StreamWriter(new FileDescriptorStream(FileDescriptorStream.Stdout), bufferSize: 64 * 1024) { NewLine = "\n" };
        try
        {
            if (symbolName is null) listing.WriteAll(output);
            else listing.WriteSymbol(symbolName, output);
        }
        finally
        {
            output.Flush();
        }
        return 0;
    }
}
