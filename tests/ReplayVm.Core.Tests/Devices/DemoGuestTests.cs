using System.Text;
using System.Text.RegularExpressions;
using ReplayVm.Core.Input;
using ReplayVm.Core.Tests.Oracle;
using Xunit.Abstractions;

namespace ReplayVm.Core.Tests.Devices;

/// <summary>
/// The bundled demo guest (tools/guests/demo) fed its session (expected/demo.stdin) the way QEMU
/// feeds a pipe — a byte whenever the UART has room — must print expected/demo.out, as QEMU does.
/// Only the lines starting with "time:" and "rand:" depend on the clock and entropy; they are masked.
/// </summary>
public class DemoGuestTests(ITestOutputHelper output)
{
    /// <summary>Types a fixed byte stream as fast as the UART takes it; clock and entropy as <see cref="NoInput"/>.</summary>
    private sealed class PipedInput(byte[] bytes) : IInputPort
    {
        private int _next;
        public ulong NextDeliveryAt => ulong.MaxValue;

        public void Poll(ulong instret, IInputSink sink)
        {
            while (_next < bytes.Length && sink.ConsoleRoom > 0) sink.DeliverConsoleByte(bytes[_next++]);
        }

        public ulong ReadWallClock(ulong instret) => NoInput.Instance.ReadWallClock(instret);
        public void ReadEntropy(ulong instret, Span<byte> destination) => NoInput.Instance.ReadEntropy(instret, destination);
    }

    private static string Mask(string text) => Regex.Replace(text, "^(time|rand): .*$", "$1: <masked>", RegexOptions.Multiline);

    private static GuestRun RunOnReplayVm() =>
        BareMetalGuestHarness.RunOnReplayVm(RepoPaths.GuestBinary("demo.elf"), 200_000_000,
            new PipedInput(File.ReadAllBytes(RepoPaths.Expected("demo.stdin"))));

    [Fact]
    public void Demo_session_prints_the_expected_output()
    {
        var (result, actual) = RunOnReplayVm();
        output.WriteLine(actual);
        Assert.Equal(StopReason.GuestExit, result.Reason);
        Assert.Equal(int.Parse(File.ReadAllText(RepoPaths.Expected("demo.status"))), result.ExitCode);
        Assert.Equal(Mask(File.ReadAllText(RepoPaths.Expected("demo.out"))), Mask(actual));
        // NoInput's fixed clock is 2026-01-01T00:00:00Z, the same instant QEMU's -rtc base gives.
        Assert.Contains("time: 2026-01-01 00:00:00 UTC\n", actual);
        Assert.Matches("(?m)^rand: [0-9a-f]{16}$", actual);
    }

    [Fact]
    public void Demo_session_on_qemu_matches_the_expected_output()
    {
        ExternalTools.Require(ExternalTools.Qemu);
        var qemu = ExternalTools.Run(Path.Combine(RepoPaths.Guests, "demo", "run-qemu"), [], TimeSpan.FromSeconds(90));
        Assert.False(qemu.TimedOut, "the demo did not finish on QEMU");
        Assert.Equal(0, qemu.ExitCode);
        Assert.Equal(Mask(File.ReadAllText(RepoPaths.Expected("demo.out"))), Mask(Encoding.ASCII.GetString(qemu.Stdout)));
    }
}
