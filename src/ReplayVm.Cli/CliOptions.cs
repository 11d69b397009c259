using System.CommandLine;
using System.CommandLine.Parsing;

namespace ReplayVm.Cli;

/// <summary>Options whose values need our own syntax, each with a one-line error for bad values.</summary>
internal static class CliOptions
{
    public delegate bool TryParse<T>(string text, out T value);

    /// <param name="names">The option's name first, then its aliases.</param>
    /// <param name="what">Names the value in the error: "bad {what} 'x' for --name ({hint})".</param>
    /// <param name="valueName">How help shows the value, e.g. SIZE.</param>
    public static Option<T> Parsed<T>(string[] names, string valueName, string description, string what, string hint, TryParse<T> tryParse) =>
        new(names[0], names[1..])
        {
            Description = description,
            HelpName = valueName,
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (tryParse(text, out T value)) return value;
                result.AddError($"bad {what} '{text}' for {string.Join('/', names.Reverse())} ({hint})");
                return default!;
            },
        };
}
