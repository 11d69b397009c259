using System.CommandLine;
using ReplayVm.Replica;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Cli.Commands;

/// <summary><c>replayvm status ADDR:PORT</c>: a replica's role, step, lag, log rate and last acknowledgement, one <c>key value</c> per line.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var replica = new ReplicaCliOptions();
        var address = new Argument<string>("ADDR:PORT") { Description = "A replica's listen or console address." };
        var command = new Command("status", "Print a replica's role, step, lag, log bytes/s and last acknowledged step.") { address };
        replica.AddKey(command);
        command.SetAction(parsed =>
        {
            var key = ReplicaCliOptions.ReadKey(parsed, replica.Key);
            Console.Out.Write(ReplicaRequests.Status(Endpoint.Parse(parsed.GetValue(address)!, "status"), key));
            return 0;
        });
        return command;
    }
}
