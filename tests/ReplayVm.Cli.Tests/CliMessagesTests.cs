using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>Issue 11, point 14: messages point at the right help, and info --json holds data, not prose.</summary>
public sealed class CliMessagesTests
{
    [Fact]
    public void Record_without_an_output_points_at_record_help()
    {
        var outcome = CliProcess.Run("record", CliProcess.Guest("hello.elf"));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Single(outcome.StderrLines);
        Assert.Contains("(see replayvm record --help)", outcome.Stderr);
    }

    [Fact]
    public void An_unknown_option_points_at_its_commands_help_and_at_the_top_at_the_general_one()
    {
        Assert.Contains("(see replayvm info --help)", CliProcess.Run("info", "--frobnicate", "x.rvtrace").Stderr);
        Assert.Contains("(see replayvm --help)", CliProcess.Run("--frobnicate").Stderr);
    }

    [Fact]
    public void Info_json_has_values_not_sentences()
    {
        string trace = Path.Combine(CliProcess.RepoRoot, "traces", "demo.rvtrace");
        var json = CliProcess.Run("info", "--json", trace);
        Assert.Equal(0, json.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(json.Stdout);
        var root = doc.RootElement;
        var image = root.GetProperty("images")[0];
        Assert.Equal("elf", image.GetProperty("role").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, image.GetProperty("loadAddress").ValueKind); // an ELF loads at its own addresses
        Assert.Equal("GuestExit", root.GetProperty("endReason").GetString());
        Assert.Equal(0, root.GetProperty("guestExitCode").GetInt32());
        Assert.False(root.TryGetProperty("ending", out _));
        // The text form keeps the sentences.
        Assert.Contains("loaded at its ELF addresses", CliProcess.Run("info", trace).StdoutText);
    }
}
