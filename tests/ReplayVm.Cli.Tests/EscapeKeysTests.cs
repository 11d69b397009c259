using ReplayVm.Cli.Hosting;

namespace ReplayVm.Cli.Tests;

public class EscapeKeysTests
{
    private sealed class Recorder
    {
        public int Quits;
        public List<string> Help { get; } = [];
        public List<byte> Guest { get; } = [];
        public EscapeKeys Keys { get; }

        public Recorder() => Keys = new EscapeKeys(() => Quits++, Help.Add);

        public void Type(params byte[] keys)
        {
            foreach (var key in keys)
                if (Keys.Process(key) is { } value) Guest.Add(value);
        }
    }

    [Fact]
    public void Ordinary_keys_pass_through_unchanged()
    {
        var r = new Recorder();
        r.Type("ls\r\x03\x1b[A"u8.ToArray());
        Assert.Equal("ls\r\x03\x1b[A"u8.ToArray(), r.Guest);
        Assert.Equal(0, r.Quits);
    }

    [Fact]
    public void Ctrl_a_x_quits_and_sends_nothing()
    {
        var r = new Recorder();
        r.Type((byte)'a', 0x01, (byte)'x');
        Assert.Equal(1, r.Quits);
        Assert.Equal("a"u8.ToArray(), r.Guest);
    }

    [Fact]
    public void Ctrl_a_twice_sends_one_ctrl_a()
    {
        var r = new Recorder();
        r.Type(0x01, 0x01, 0x01, 0x01, (byte)'x');
        Assert.Equal(new byte[] { 0x01, 0x01, (byte)'x' }, r.Guest);
        Assert.Equal(0, r.Quits);
    }

    [Fact]
    public void Ctrl_a_h_shows_help_and_unknown_escapes_are_dropped_as_qemu_drops_them()
    {
        var r = new Recorder();
        r.Type(0x01, (byte)'h', 0x01, (byte)'q', (byte)'k');
        Assert.Single(r.Help);
        Assert.Contains("C-a x", r.Help[0]);
        Assert.Equal("k"u8.ToArray(), r.Guest);
    }
}
