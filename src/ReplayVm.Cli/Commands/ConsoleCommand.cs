using System.CommandLine;
using ReplayVm.Cli.Hosting;
using ReplayVm.Replica;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// <c>replayvm console ADDR:PORT[,ADDR:PORT...]</c>: the guest's console from whichever replica is
/// live (stdin to the guest, its output on stdout), reconnecting to the next address when one dies;
/// every byte is shown exactly once across a failover. Exits with the guest's status when its run ends.
/// </summary>
internal static class ConsoleCommand
{
    public static Command Create()
    {
        var replica = new ReplicaCliOptions();
        var addresses = new Argument<string>("ADDR:PORT[,ADDR:PORT...]") { Description = "The replicas' console (or listen) addresses." };
        var patience = new Option<double>("--patience")
        {
            Description = "Seconds to keep looking for a live replica before giving up [default: 30].",
            HelpName = "S",
            DefaultValueFactory = _ => 30,
        };
        var command = new Command("console", "Attach to the guest's console on whichever replica is live.") { addresses, patience };
        replica.AddKey(command);
        command.SetAction(parsed =>
        {
            var endpoints = Endpoint.ParseList(parsed.GetValue(addresses)!, "console");
            var key = ReplicaCliOptions.ReadKey(parsed, replica.Key);
            using var stdin = new FileDescriptorStream(FileDescriptorStream.Stdin);
            using var stdout = new FileDescriptorStream(FileDescriptorStream.Stdout);
            var client = new ConsoleClient(endpoints, key, stdin, stdout, line => Console.Error.WriteLine($"replayvm: {line}"))
            {
                Patience = TimeSpan.FromSeconds(parsed.GetValue(patience)),
            };
            return client.Run();
        });
        return command;
    }
}
