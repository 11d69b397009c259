namespace ReplayVm.Cli;

/// <summary>Bad input found by a command; <see cref="CliApp"/> prints it as one line and exits 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
