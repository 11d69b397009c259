using System.Globalization;

namespace ReplayVm.Replica.Wire;

/// <summary>A <c>[HOST:]PORT</c> as given on the command line; the host defaults to 127.0.0.1.</summary>
public sealed record Endpoint(string Host, int Port)
{
    public static Endpoint Parse(string text, string what)
    {
        string host = "127.0.0.1", port = text;
        int colon = text.LastIndexOf(':');
        if (colon >= 0)
        {
            host = text[..colon].Trim('[', ']');
            port = text[(colon + 1)..];
        }
        if (host.Length == 0 || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number > 65535)
            throw new ReplicaException($"{what}: '{text}' is not [HOST:]PORT (e.g. 127.0.0.1:7400)");
        return new Endpoint(host, number);
    }

    public static IReadOnlyList<Endpoint> ParseList(string text, string what) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => Parse(t, what)).ToList() is { Count: > 0 } list
            ? list
            : throw new ReplicaException($"{what}: give at least one [HOST:]PORT");

    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
