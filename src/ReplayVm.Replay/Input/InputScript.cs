using System.Globalization;
using System.Text;

namespace ReplayVm.Replay.Input;

/// <summary>One step of an <see cref="InputScript"/>: wait for output, or type.</summary>
public abstract record InputScriptStep(byte[] Text)
{
    /// <summary>Wait until the guest's console output shows <see cref="InputScriptStep.Text"/>.</summary>
    public sealed record Wait(byte[] Text) : InputScriptStep(Text);

    /// <summary>Type <see cref="InputScriptStep.Text"/> on the console.</summary>
    public sealed record Send(byte[] Text) : InputScriptStep(Text);
}

/// <summary>
/// A scripted console session for <c>record --input-script</c>, one command a line:
/// <c>wait TEXT</c> holds the script until the guest has printed TEXT (after what the previous
/// <c>wait</c> matched), <c>send TEXT</c> types TEXT. TEXT is the rest of the line after one
/// space, taken as is, with the escapes <c>\n \r \t \e \\ \xHH</c> (so <c>\x20</c> is a trailing
/// space). Blank lines and lines starting with <c>#</c> are ignored. Waiting on output makes a
/// session independent of how fast the guest boots — e.g. a key is typed only once U-Boot offers
/// to stop autoboot, since one typed earlier is lost when it resets the UART.
/// </summary>
public sealed class InputScript
{
    private InputScript(IReadOnlyList<InputScriptStep> steps) => Steps = steps;

    public IReadOnlyList<InputScriptStep> Steps { get; }

    /// <summary>Parses a script; a malformed line is a <see cref="FormatException"/> naming the line.</summary>
    public static InputScript Parse(string text)
    {
        var steps = new List<InputScriptStep>();
        string[] lines = text.Replace("\r\n", "\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#')) continue;
            int space = line.IndexOf(' ');
            string keyword = space < 0 ? line : line[..space];
            string argument = space < 0 ? "" : line[(space + 1)..];
            byte[] bytes = Unescape(argument, i + 1);
            if (bytes.Length == 0) throw new FormatException($"line {i + 1}: '{keyword}' needs a TEXT");
            steps.Add(keyword switch
            {
                "wait" => new InputScriptStep.Wait(bytes),
                "send" => new InputScriptStep.Send(bytes),
                _ => throw new FormatException($"line {i + 1}: unknown command '{keyword}' (expected 'wait TEXT' or 'send TEXT')"),
            });
        }
        return new InputScript(steps);
    }

    private static byte[] Unescape(string text, int line)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c != '\\')
            {
                // A character outside the BMP is two chars; encode them together.
                int width = char.IsHighSurrogate(c) && i + 1 < text.Length ? 2 : 1;
                bytes.AddRange(Encoding.UTF8.GetBytes(text.Substring(i, width)));
                i += width - 1;
                continue;
            }
            if (++i >= text.Length) throw new FormatException($"line {line}: a '\\' ends the line");
            switch (text[i])
            {
                case 'n': bytes.Add((byte)'\n'); break;
                case 'r': bytes.Add((byte)'\r'); break;
                case 't': bytes.Add((byte)'\t'); break;
                case 'e': bytes.Add(0x1B); break;
                case '\\': bytes.Add((byte)'\\'); break;
                case 'x' when i + 2 < text.Length && byte.TryParse(text.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b):
                    bytes.Add(b);
                    i += 2;
                    break;
                default: throw new FormatException($"line {line}: unknown escape '\\{text[i]}' (use \\n \\r \\t \\e \\\\ or \\xHH)");
            }
        }
        return bytes.ToArray();
    }
}
