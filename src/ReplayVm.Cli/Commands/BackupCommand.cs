using System.CommandLine;
using ReplayVm.Cli.Hosting;
using ReplayVm.Replica;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// <c>replayvm backup --listen [ADDR:]PORT --arbiter SPEC [--console-listen ADDR:PORT] [-o TRACE]</c>:
/// replays a primary's log as it arrives, a bounded number of steps behind; when the primary dies
/// it replays to the end of the log, wins the arbiter and goes live at exactly that step.
/// </summary>
internal static class BackupCommand
{
    public static Command Create()
    {
        var replica = new ReplicaCliOptions();
        var listen = new Option<string>("--listen")
        {
            Description = "Where the primary's log arrives ([ADDR:]PORT; 127.0.0.1 unless an address is given; 0 picks a free port). Status and consoles are served here too.",
            HelpName = "ADDR:PORT",
            Required = true,
        };
        var join = new Option<string?>("--join")
        {
            Description = "Ask the live replica at ADDR:PORT (its --console-listen or --listen address) to stream its log here: join a running primary, or re-protect one after a failover.",
            HelpName = "ADDR:PORT",
        };
        var reprotect = new Option<string?>("--backup")
        {
            Description = "Once this replica has taken over, protect it with the backup at ADDR:PORT (its --listen address): the new backup joins by state transfer; retried every second.",
            HelpName = "ADDR:PORT",
        };
        var pace = new Option<bool>("--pace") { Description = "Once live, pace the guest to real time (as 'run --pace')." };
        var command = new Command("backup",
            "Follow a primary as its hot-spare backup: replay its log live, and take over when it fails.")
        {
            listen, join, reprotect, pace,
        };
        replica.AddReplica(command);
        command.SetAction(parsed =>
        {
            var options = replica.Read(parsed) with
            {
                Pacer = parsed.GetValue(pace) ? () => new RealTimePacer() : null,
                Factory = (s, i, o) => GuestBoot.CreateMachine(() => s.Build(i, o)),
            };
            var key = ReplicaCliOptions.ReadKey(parsed, replica.Key);
            List<Endpoint> endpoints = [Endpoint.Parse(parsed.GetValue(listen)!, "--listen"), .. replica.ConsoleEndpoints(parsed)];
            using var arbiter = replica.OpenArbiter(parsed, "backup");
            var next = parsed.GetValue(reprotect) is { } b ? Endpoint.Parse(b, "--backup") : null;
            using var node = ReplicaNode.StartBackup(options, key, arbiter, endpoints, next);
            Console.Error.WriteLine($"replayvm: backup listening on {node.Listening[0]}");
            for (int i = 1; i < node.Listening.Count; i++) Console.Error.WriteLine($"replayvm: backup console listening on {node.Listening[i]}");
            foreach (var endpoint in node.PlainListening) Console.Error.WriteLine($"replayvm: backup plain console listening on {endpoint}");
            if (parsed.GetValue(join) is { } primary)
                Console.Error.WriteLine($"replayvm: join: {ReplicaRequests.Protect(Endpoint.Parse(primary, "--join"), node.Listening[0], key)}");
            using var signals = ReplicaCliOptions.StopOnSignals(node);
            return node.Run();
        });
        return command;
    }
}
