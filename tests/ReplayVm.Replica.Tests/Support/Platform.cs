using System.Runtime.Versioning;

// These tests drive real replayvm processes with Unix signals (SIGSTOP, SIGKILL), Unix file modes
// (the key file's 0600) and XDG_CONFIG_HOME: they run on Linux only, as the replicas' CI does.
[assembly: SupportedOSPlatform("linux")]
