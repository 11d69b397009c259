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
    public static Option<T> Parsed<T>(string[] names, string valueName, string description, string what, string hint, TryParse<T> tryParse)
    {
        foreach (var name in names) ValueErrors[name] = value => $"bad {what} '{value}' for {string.Join('/', names.Reverse())} ({hint})";
        return new(names[0], names[1..])
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

    /// <summary>
    /// <see cref="Parsed{T}"/> for a value type, the value boxed in a <see cref="Given{T}"/> (null when
    /// the option is not given): an option over a value type (<c>Option&lt;ulong?&gt;</c>) runs
    /// System.CommandLine's code instantiated for it, which no precompiled image held — five
    /// methods JIT-compiled per option type in every process that declared one (15 of the 42
    /// methods `run hello.elf` compiled) — where an option over a reference type runs the
    /// library's precompiled shared code.
    /// </summary>
    public static Option<Given<T>?> ParsedValue<T>(string[] names, string valueName, string description, string what, string hint, TryParse<T> tryParse) where T : struct =>
        Parsed<Given<T>?>(names, valueName, description, what, hint, (string text, out Given<T>? given) =>
        {
            bool ok = tryParse(text, out T value);
            given = ok ? new Given<T>(value) : null;
            return ok;
        });

    /// <summary>A value an option was given (see <see cref="ParsedValue{T}"/>); null when it was not,
    /// so "not given" is distinguishable and help shows our own default text.</summary>
    public sealed class Given<T>(T value) where T : struct
    {
        public T Value { get; } = value;
    }

    /// <summary>
    /// The error for a bad value of an option made by <see cref="Parsed{T}"/>, by any of its names:
    /// a value that starts with a dash (<c>-m -5</c>) is split off as an unknown option by the
    /// parser, and must be reported as the bad value it is.
    /// </summary>
    public static string? ValueError(string optionName, string value) =>
        ValueErrors.TryGetValue(optionName, out var error) ? error(value) : null;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Func<string, string>> ValueErrors = new();

    /// <summary>
    /// A decimal option's value (any finite number; the command checks its range). A class, not a
    /// double: an option over a reference type runs System.CommandLine's precompiled shared code,
    /// where an option over double is JIT-compiled in every process that declares one.
    /// </summary>
    public sealed class Number(double value)
    {
        public double Value { get; } = value;

        public static bool TryParse(string text, out Number? number)
        {
            bool ok = double.TryParse(text.Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double value) && double.IsFinite(value);
            number = ok ? new Number(value) : null;
            return ok;
        }
    }
}
