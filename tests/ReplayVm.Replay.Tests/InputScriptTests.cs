using System.Text;
using ReplayVm.Core.Input;
using ReplayVm.Replay.Input;

namespace ReplayVm.Replay.Tests;

/// <summary>The <c>record --input-script</c> language and the port that plays it.</summary>
public class InputScriptTests
{
    private sealed class Sink(int room) : IInputSink
    {
        public readonly List<byte> Got = [];
        public int ConsoleRoom => room - Got.Count;
        public void DeliverConsoleByte(byte value) => Got.Add(value);
    }

    [Fact]
    public void Parses_waits_sends_escapes_and_comments()
    {
        var script = InputScript.Parse("# comment\n\nwait =>\\x20\nsend version\\n\r\nsend a\\\\b\\t\\e\n");
        Assert.Collection(script.Steps,
            s => Assert.Equal(new InputScriptStep.Wait("=> "u8.ToArray()).Text, Assert.IsType<InputScriptStep.Wait>(s).Text),
            s => Assert.Equal("version\n"u8.ToArray(), Assert.IsType<InputScriptStep.Send>(s).Text),
            s => Assert.Equal("a\\b\t\x1b"u8.ToArray(), Assert.IsType<InputScriptStep.Send>(s).Text));
    }

    [Theory]
    [InlineData("type hello", "line 1: unknown command 'type'")]
    [InlineData("send", "line 1: 'send' needs a TEXT")]
    [InlineData("\nwait a\\q", "line 2: unknown escape '\\q'")]
    [InlineData("send a\\", "line 1: a '\\' ends the line")]
    public void Bad_lines_are_named(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => InputScript.Parse(text));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void Keys_wait_for_the_text_and_only_output_after_the_previous_match_counts()
    {
        var port = new ScriptedSessionPort(InputScript.Parse("send x\nwait => \nsend a\nwait => \nsend b"));
        var sink = new Sink(16);
        port.Poll(0, sink);
        Assert.Equal("x", Encoding.ASCII.GetString(sink.Got.ToArray()));

        foreach (byte b in "boot ==> "u8) port.ObserveOutput(b); // a partial match that restarts must still match
        port.Poll(1, sink);
        Assert.Equal("xa", Encoding.ASCII.GetString(sink.Got.ToArray()));

        foreach (byte b in "a\n"u8) port.ObserveOutput(b);
        port.Poll(2, sink);
        Assert.Equal("xa", Encoding.ASCII.GetString(sink.Got.ToArray()));
        Assert.False(port.Finished);

        foreach (byte b in "=> "u8) port.ObserveOutput(b);
        port.Poll(3, sink);
        Assert.Equal("xab", Encoding.ASCII.GetString(sink.Got.ToArray()));
        Assert.True(port.Finished);
    }

    [Fact]
    public void Typing_waits_for_room_in_the_uart()
    {
        var port = new ScriptedSessionPort(InputScript.Parse("send abcdef"));
        var sink = new Sink(4);
        port.Poll(0, sink);
        Assert.Equal("abcd", Encoding.ASCII.GetString(sink.Got.ToArray()));
        Assert.False(port.Finished);
    }
}
