using System.CommandLine;

namespace ReplayVm.Cli.Commands;

/// <summary>Placeholder until the report lands.</summary>
internal static class DiffCommand
{
    public static Command Create() => new("diff", "Compare two traces.");
}
