namespace ReplayVm.Cli;

/// <summary>Reads a guest file, naming the file in the error when it cannot.</summary>
internal static class GuestFile
{
    public static byte[] Read(string path)
    {
        if (Directory.Exists(path)) throw new UsageException($"{path}: is a directory");
        if (!File.Exists(path)) throw new UsageException($"{path}: no such file");
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{path}: {e.Message}");
        }
    }
}
