namespace ReplayVm.Core.Loading;

/// <summary>
/// The guest image cannot be used: not an ELF, the wrong architecture, malformed, or a part of it
/// falls outside guest RAM. The message is one line meant for the user, with no "error:" prefix.
/// </summary>
public sealed class GuestImageException : Exception
{
    public GuestImageException(string message) : base(message) { }
}
