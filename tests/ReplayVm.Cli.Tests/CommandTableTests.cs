using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// The CLI builds only the command its first word names (start-up cost); these check that the
/// shortcut can never make a command unreachable or change what help lists.
/// </summary>
public sealed class CommandTableTests
{
    [Fact]
    public void Every_table_name_is_the_name_of_the_command_it_builds()
    {
        foreach (var (name, create) in CliApp.Commands)
            Assert.Equal(name, create().Name);
    }

    [Fact]
    public void The_first_word_naming_a_command_builds_that_command_alone()
    {
        foreach (var (name, _) in CliApp.Commands)
        {
            var built = Assert.Single(CliApp.CommandsFor([name, "--help"]));
            Assert.Equal(name, built.Name);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("--help")]
    [InlineData("--engine interpreter run x.elf")]
    [InlineData("rum x.elf")]
    [InlineData("RUN x.elf")]
    public void Anything_else_builds_every_command(string commandLine)
    {
        string[] args = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(CliApp.Commands.Select(c => c.Name), CliApp.CommandsFor(args).Select(c => c.Name));
    }

    [Fact]
    public void An_option_before_the_command_still_reaches_it()
    {
        var outcome = CliProcess.Run("--engine", "interpreter", "run", CliProcess.Guest("hello.elf"));
        Assert.Equal(0, outcome.ExitCode);
        Assert.StartsWith("Hello from ReplayVm guest!", outcome.StdoutText);
    }
}
