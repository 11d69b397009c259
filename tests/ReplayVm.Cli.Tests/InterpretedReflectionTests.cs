using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// The Release CLI runs reflection calls interpreted (Switch.System.Reflection.ForceInterpretedInvoke
/// in its runtime configuration): the runtime would otherwise emit and JIT-compile a stub for the
/// property setters of EventSource attributes, which System.Net's telemetry sources read at a
/// process's first socket, about 4 ms of a primary's start. The runtime's own list of what it
/// JIT-compiled shows whether any stub was made.
/// </summary>
public sealed class InterpretedReflectionTests
{
    [Fact]
    public void A_release_primary_with_a_listening_socket_compiles_no_reflection_stubs()
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-reflection-").FullName;
        try
        {
            // Its own key, so that the test makes no default key in the user's configuration.
            string key = Path.Combine(dir, "replica.key");
            File.WriteAllBytes(key, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var compiled = ReleaseJitList.CompiledBy("primary", "--key", key, "--arbiter", "file:" + Path.Combine(dir, "arbiter"), "--linger", "0",
                "--plain-console-listen", "127.0.0.1:0", CliProcess.Guest("hello.elf"));
            Assert.Contains(compiled, line => line.Contains("JIT compiled", StringComparison.Ordinal));
            var stubs = compiled.Where(line => line.Contains("InvokeStub_", StringComparison.Ordinal)).ToList();
            Assert.True(stubs.Count == 0, "reflection invoke stubs JIT-compiled:\n" + string.Join('\n', stubs));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
