using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using ReplayVm.Cli.Commands;
using ReplayVm.Core;
using ReplayVm.Core.Translation;
using ReplayVm.Cli.Hosting;
using ReplayVm.Core.Loading;
using ReplayVm.Replay.Format;

namespace ReplayVm.Cli;

/// <summary>
/// Builds the command tree and turns every kind of bad input (parse errors, unusable files) into
/// one line "replayvm: message" on stderr and exit status 2, never a stack trace.
/// </summary>
public static class CliApp
{
    public static int Run(string[] args)
    {
        // Plain descriptor writers instead of .NET's console streams (see FileDescriptorStream):
        // nothing but what we write reaches stdout, even when it is a terminal.
        Console.SetOut(new StreamWriter(new FileDescriptorStream(FileDescriptorStream.Stdout)) { AutoFlush = true, NewLine = "\n" });
        Console.SetError(new StreamWriter(new FileDescriptorStream(FileDescriptorStream.Stderr)) { AutoFlush = true, NewLine = "\n" });
        ParseResult parsed = CreateRoot(args).Parse(args);
        bool errorsIgnored = parsed.Action is { ClearsParseErrors: true } and not ParseErrorAction;
        if (!errorsIgnored && FirstProblem(parsed) is { } problem)
            return Fail(problem);

        MachineConfig.DefaultEngine = parsed.GetValue(EngineOption)?.Value ?? CommandDefaultEngine;
        // The command's machines compile hot code on the background compiler's thread while they keep
        // interpreting, so the JIT never stalls the guest (results are the same either way).
        Core.Hart.Hart.TranslateInBackgroundByDefault = true;
        // and share what they compile: segment machines, scanners and restored timelines of the same
        // guest JIT each region once per process (results are the same either way).
        Core.Hart.Hart.DefaultTranslations = Core.Translation.TranslationCache.Process;
        try
        {
            // Our own Ctrl-C handling (RunCommand) and error reporting replace the library's.
            return parsed.Invoke(new InvocationConfiguration
            {
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            });
        }
        catch (Exception e) when (e is UsageException or GuestImageException or TraceFormatException or IOException or UnauthorizedAccessException or Replica.ReplicaException)
        {
            return Fail(e.Message);
        }
    }

    /// <summary>The subcommands, by name, in the order help lists them.</summary>
    internal static readonly (string Name, Func<Command> Create)[] Commands =
    [
        ("run", RunCommand.Create),
        ("record", RecordCommand.Create),
        ("replay", ReplayCommand.Create),
        ("index", IndexCommand.Create),
        ("info", InfoCommand.Create),
        ("diff", DiffCommand.Create),
        ("disasm", DisasmCommand.Create),
        ("gdb", GdbCommand.Create),
        ("debug", DebugCommand.Create),
        ("primary", PrimaryCommand.Create),
        ("backup", BackupCommand.Create),
        ("console", ConsoleCommand.Create),
        ("status", StatusCommand.Create),
        ("migrate", MigrateCommand.Create),
        ("inspect", InspectCommand.Create),
    ];

    private const string Description = "ReplayVm: a deterministic RISC-V (RV64) emulator of QEMU's virt board.";

    /// <summary>
    /// The root command with <c>--engine</c> and the subcommands <see cref="CommandsFor"/> picks.
    /// System.CommandLine's <see cref="RootCommand"/> adds the help and version options, whose
    /// descriptions are the library's resource strings: the first one loads .NET's resource
    /// machinery, 11-12 ms of `replayvm run hello.elf`'s CPU (of ~90 ms after the runtime reaches
    /// Main; building the root and `run` took 23 ms, now 12, medians of 12 runs). A command line that names a command and cannot ask for help never uses
    /// either option (--version belongs to the root, before any command), so it gets a plain root
    /// of the same name; anything that might ask for help gets the library's root, and with it the
    /// same help and the same parse as always.
    /// </summary>
    internal static Command CreateRoot(string[] args)
    {
        Command root = NamesCommand(args) && !MayAskForHelp(args) ? new Command(RootName, Description) : new RootCommand(Description);
        root.Options.Add(EngineOption);
        foreach (var command in CommandsFor(args)) root.Subcommands.Add(command);
        return root;
    }

    /// <summary>What <see cref="RootCommand"/> calls itself here: the executable's name.</summary>
    private const string RootName = "replayvm";

    private static bool NamesCommand(string[] args) => args.Length > 0 && Commands.Any(entry => entry.Name == args[0]);

    /// <summary>
    /// Whether any word could reach the help option (<c>--help</c>, <c>-h</c>, <c>-?</c>, <c>/h</c>,
    /// <c>/?</c>), also as <c>--help=x</c> or inside a bundle of short options (<c>-xh</c>), or
    /// comes from a response file (<c>@file</c>), whose words are not known here. It may say yes
    /// too often (a value such as <c>--append -ohm</c>), which only costs the resource strings.
    /// </summary>
    internal static bool MayAskForHelp(string[] args) =>
        args.Any(arg => arg.StartsWith('@') || Names(arg, "--help") || Names(arg, "/h") || Names(arg, "/?")
            || (arg.Length > 1 && arg[0] == '-' && arg[1] != '-' && (arg.Contains('h') || arg.Contains('?'))));

    /// <summary>The word is the option <paramref name="alias"/>, alone or with a value (<c>--help=x</c>, <c>/h:x</c>); <c>/home/guest.elf</c> is not <c>/h</c>.</summary>
    private static bool Names(string word, string alias) =>
        word.StartsWith(alias, StringComparison.Ordinal) && (word.Length == alias.Length || word[alias.Length] is ':' or '=');

    /// <summary>
    /// Only the command the first word names, when it names one: building every command's options
    /// cost a short run (`replayvm run hello.elf`) a tenth of its start-up, mostly in JIT-compiling
    /// the parser's generic option types (now precompiled too: see the Cli project's cross-module
    /// ReadyToRun), and what is not built costs nothing. Anything else (no command, `--help`, a typo) gets them all, so top-level help and
    /// "unknown command" are what they always were.
    /// </summary>
    internal static IEnumerable<Command> CommandsFor(string[] args)
    {
        foreach (var (name, create) in Commands)
            if (args.Length > 0 && args[0] == name) return [create()];
        return Commands.Select(entry => entry.Create());
    }

    /// <summary>
    /// The command runs guests on the translator unless told otherwise: it is the faster engine and
    /// exact (the interpreter stays the library's default, as the reference the translator is tested against).
    /// </summary>
    private const ExecutionEngine CommandDefaultEngine = ExecutionEngine.Translator;

    /// <summary><c>--engine</c>, for every command that runs a guest (run, record, replay, debug, gdb); results never depend on it.</summary>
    private static readonly Option<CliOptions.Given<ExecutionEngine>?> EngineOption = CreateEngineOption();

    private static Option<CliOptions.Given<ExecutionEngine>?> CreateEngineOption()
    {
        var option = CliOptions.ParsedValue<ExecutionEngine>(["--engine"], "translator|interpreter",
            $"How guest code runs: translator (hot code compiled to .NET IL) or interpreter (the reference); results are identical [default: {CommandDefaultEngine.Name()}].",
            "engine", "translator or interpreter", ExecutionEngineNames.TryParse);
        option.Recursive = true;
        return option;
    }

    /// <summary>
    /// The one parse problem worth showing. An unknown "--flag" would otherwise be taken as the
    /// GUEST argument and reported confusingly, so unknown dashed words are named first.
    /// </summary>
    private static string? FirstProblem(ParseResult parsed)
    {
        var tokens = parsed.Tokens;
        for (int i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (token.Type == TokenType.DoubleDash) break; // after "--", a leading dash is part of a file name
            if (token.Type == TokenType.Argument && token.Value.Length > 1 && token.Value[0] == '-')
            {
                // "-m -5": the dashed word is the value of the option before it, and a bad one.
                if (i > 0 && tokens[i - 1].Type == TokenType.Option && CliOptions.ValueError(tokens[i - 1].Value, token.Value) is { } bad)
                    return bad;
                return $"unknown option '{token.Value}' (see {HelpCommand(parsed)})";
            }
        }
        if (parsed.UnmatchedTokens.Count > 0)
            return $"unknown command or extra argument '{parsed.UnmatchedTokens[0]}' (see {HelpCommand(parsed)})";
        if (parsed.Errors.Count == 0) return null;
        string message = parsed.Errors[0].Message;
        // Our own option errors already end with a hint in parentheses; the library's get a pointer to help.
        return message.EndsWith(')') ? message : $"{message.TrimEnd('.')} (see {HelpCommand(parsed)})";
    }

    /// <summary>Where the help for the mistaken command is: "replayvm record --help", or "replayvm --help" at the top.</summary>
    private static string HelpCommand(ParseResult parsed) =>
        parsed.CommandResult.Command is { } command && command.Parents.Any() ? $"replayvm {command.Name} --help" : "replayvm --help";

    internal static int Fail(string message)
    {
        // Messages from .NET and the parser sometimes span lines; the contract is one line.
        string oneLine = string.Join(' ', message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Console.Error.WriteLine($"replayvm: {oneLine}");
        return ExitCodes.Usage;
    }
}
