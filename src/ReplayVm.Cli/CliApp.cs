using System.CommandLine;
using System.CommandLine.Invocation;
using ReplayVm.Cli.Commands;
using ReplayVm.Core.Loading;

namespace ReplayVm.Cli;

/// <summary>
/// Builds the command tree and turns every kind of bad input (parse errors, unusable files) into
/// one line "replayvm: message" on stderr and exit status 2, never a stack trace.
/// </summary>
public static class CliApp
{
    public static int Run(string[] args)
    {
        var root = new RootCommand("ReplayVm: a deterministic RISC-V (RV64) emulator of QEMU's virt board.")
        {
            RunCommand.Create(),
            DisasmCommand.Create(),
        };

        ParseResult parsed = root.Parse(args);
        bool errorsIgnored = parsed.Action is { ClearsParseErrors: true } and not ParseErrorAction;
        if (parsed.Errors.Count > 0 && !errorsIgnored)
            return Fail(parsed.Errors[0].Message);

        try
        {
            // Our own Ctrl-C handling (RunCommand) and error reporting replace the library's.
            return parsed.Invoke(new InvocationConfiguration
            {
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            });
        }
        catch (Exception e) when (e is UsageException or GuestImageException or IOException or UnauthorizedAccessException)
        {
            return Fail(e.Message);
        }
    }

    internal static int Fail(string message)
    {
        // Messages from .NET and the parser sometimes span lines; the contract is one line.
        string oneLine = string.Join(' ', message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Console.Error.WriteLine($"replayvm: {oneLine}");
        return ExitCodes.Usage;
    }
}
