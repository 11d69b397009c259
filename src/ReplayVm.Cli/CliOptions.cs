using System.CommandLine;
using System.CommandLine.Parsing;

namespace ReplayVm.Cli;

/// <summary>Options whose values need our own syntax, each with a one-line error for bad values.</summary>
internal static class CliOptions
{
    public static Option<T> Parsed<T>(string name, string alias, string description, string what, TryParse<T> tryParse) =>
        new(name, alias)
        {
            Description = description,
            CustomParser = result => Parse(result, name, alias, what, tryParse),
        };

    public static Option<T> Parsed<T>(string name, string description, string what, TryParse<T> tryParse) =>
        new(name)
        {
            Description = description,
            CustomParser = result => Parse(result, name, null, what, tryParse),
        };

    public delegate bool TryParse<T>(string text, out T value);

    private static T Parse<T>(ArgumentResult result, string name, string? alias, string what, TryParse<T> tryParse)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (tryParse(text, out T value)) return value;
        string names = alias is null ? name : $"{alias}/{name}";
        result.AddError($"bad {what} '{text}' for {names}");
        return default!;
    }
}
