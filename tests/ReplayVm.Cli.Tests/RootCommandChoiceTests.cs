using System.CommandLine;
using System.CommandLine.Help;
using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// A command line that names a command and cannot ask for help gets a root without the help and
/// version options (their descriptions load .NET's resource machinery at start-up); these check
/// that every way of asking for help still gets the library's root, and so the same help.
/// </summary>
public sealed class RootCommandChoiceTests
{
    [Theory]
    [InlineData("run x.elf")]
    [InlineData("run /home/guest.elf --engine interpreter -m 64M")]
    [InlineData("record -o t.rvtrace x.elf")]
    public void A_command_line_that_cannot_ask_for_help_gets_a_plain_root(string commandLine)
    {
        var root = CliApp.CreateRoot(commandLine.Split(' '));
        Assert.IsNotType<RootCommand>(root);
        Assert.DoesNotContain(root.Options, option => option is HelpOption or VersionOption);
        Assert.Equal("replayvm", root.Name);
        Assert.Contains(root.Options, option => option.Name == "--engine");
    }

    [Theory]
    [InlineData("run --help")]
    [InlineData("run x.elf -h")]
    [InlineData("run -?")]
    [InlineData("run /h")]
    [InlineData("run /?")]
    [InlineData("run --help=x")]
    [InlineData("run /h:x")]
    [InlineData("run -xh")]
    [InlineData("run @args.rsp")]
    [InlineData("--version")]
    [InlineData("rum x.elf")]
    public void Anything_that_may_ask_for_help_gets_the_library_root(string commandLine)
    {
        var root = CliApp.CreateRoot(commandLine.Split(' '));
        Assert.IsType<RootCommand>(root);
        Assert.Contains(root.Options, option => option is HelpOption);
    }

    [Fact]
    public void Help_asked_for_in_a_response_file_is_the_commands_help()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "--help\n");
            var outcome = CliProcess.Run("run", "@" + file);
            Assert.True(outcome.ExitCode == 0, outcome.ToString());
            Assert.Contains("replayvm run [<GUEST>] [options]", outcome.StdoutText);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
