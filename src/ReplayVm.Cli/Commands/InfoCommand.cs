using System.CommandLine;
using System.Text.Json;
using ReplayVm.Core;
using ReplayVm.Replay;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// <c>replayvm info FILE.rvtrace [--json]</c>: what a trace holds — format, machine, images,
/// length, events, hash points, chunks — and whether it is complete or truncated (and why).
/// Its own output, so it goes to stdout.
/// </summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE.rvtrace") { Description = "The trace to describe." };
        var json = new Option<bool>("--json") { Description = "One JSON object instead of aligned text." };
        var command = new Command("info", "Describe a trace: machine, images, steps, events, hash points, chunks, complete or truncated.")
        {
            file, json,
        };
        command.SetAction(parsed => Execute(parsed.GetValue(file)!, parsed.GetValue(json)));
        return command;
    }

    private static int Execute(string path, bool json)
    {
        var trace = TraceReader.ReadFile(path);
        var summary = TraceSummary.Of(path, trace);
        Console.Out.Write(json ? summary.ToJson() : summary.ToText());
        return 0;
    }
}

/// <summary>The facts <c>info</c> shows, computed once and printed as text or JSON.</summary>
internal sealed record TraceSummary(
    string File, long FileBytes, int FormatVersion, string Recorder, string Board, ulong RamBytes, string? Bootargs,
    IReadOnlyList<TraceSummary.Image> Images, IReadOnlyList<TraceSummary.Disk> Disks, int BoardRevision, ulong Steps, IReadOnlyDictionary<string, int> Events, int HashPoints,
    ulong HashInterval, int HasherVersion, int Chunks, bool Truncated, string? TruncationReason,
    string? Ending, int? ExitStatus)
{
    public sealed record Image(string Role, string Name, long Bytes, string Sha256, string LoadAddress);

    public sealed record Disk(string Name, long Bytes, string Sha256, bool Embedded);

    public static TraceSummary Of(string path, TraceFile trace)
    {
        var header = trace.Header;
        var config = header.Setup.Config;
        var images = header.Setup.Images.Select(i => new Image(
            i.Role.ToString().ToLowerInvariant(), i.Name, i.Size, Convert.ToHexString(i.Sha256).ToLowerInvariant(),
            i.Role switch
            {
                ImageRole.Raw => $"0x{i.LoadAddress:x}",
                ImageRole.Elf => "its ELF addresses",
                _ => "placed by the machine",
            })).ToList();
        return new TraceSummary(
            path, trace.FileLength, header.FormatVersion, header.Recorder,
            config.Board == BoardKind.Spike ? "spike" : "virt", config.RamSize, config.Bootargs, images,
            header.Setup.Disks.Select(d => new Disk(d.Name, d.Size, d.Sha256Hex, d.IsEmbedded)).ToList(), header.BoardRevision,
            trace.End?.Step ?? trace.LastStep,
            trace.CountByKind().ToDictionary(k => k.Key.ToString(), k => k.Value),
            trace.HashPoints.Count(), header.StateHashInterval, header.HasherVersion, trace.ChunkCount,
            trace.Truncated, trace.TruncationReason,
            trace.End is { } end ? RecordedStatus.Describe(end) : null,
            trace.End is { } e ? RecordedStatus.Of(e) : null);
    }

    public string ToText()
    {
        var lines = new List<(string, string)>
        {
            ("file", $"{File} ({FileBytes} bytes)"),
            ("format", $"version {FormatVersion}, written by {Recorder}"),
            ("machine", $"{Board}, RAM {Size(RamBytes)}, bootargs {(Bootargs is null ? "(none)" : $"\"{Bootargs}\"")}, " +
                        (BoardRevision == 0 ? "board revision not recorded" : $"board revision {BoardRevision}")),
        };
        foreach (var image in Images)
            lines.Add(("image", $"{image.Role} {image.Name}, {image.Bytes} bytes, sha256 {image.Sha256}, loaded at {image.LoadAddress}"));
        for (int i = 0; i < Disks.Count; i++)
            lines.Add(("disk", $"{i + 1} {Disks[i].Name}, {Disks[i].Bytes} bytes, sha256 {Disks[i].Sha256}, " +
                               (Disks[i].Embedded ? "embedded" : "not embedded (replay --drive FILE supplies it)")));
        lines.Add(("steps", Truncated ? $"{Steps} (up to the last surviving event)" : $"{Steps}"));
        lines.Add(("events", Events.Count == 0 ? "none" : string.Join(", ", Events.Select(e => $"{e.Key} {e.Value}"))));
        lines.Add(("hash points", $"{HashPoints} (every {HashInterval} steps; state-hasher version {HasherVersion})"));
        lines.Add(("chunks", $"{Chunks}"));
        lines.Add(("ends", Ending ?? "(no end record)"));
        if (ExitStatus is { } status) lines.Add(("exit status", $"{status}"));
        lines.Add(("status", Truncated ? $"truncated: {TruncationReason}" : "complete"));
        int width = lines.Max(l => l.Item1.Length) + 2;
        return string.Concat(lines.Select(l => l.Item1.PadRight(width) + l.Item2 + "\n"));
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions) + "\n";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static string Size(ulong bytes) =>
        bytes % (1UL << 30) == 0 ? $"{bytes >> 30} GiB" : bytes % (1UL << 20) == 0 ? $"{bytes >> 20} MiB" : bytes % 1024 == 0 ? $"{bytes >> 10} KiB" : $"{bytes} bytes";
}
