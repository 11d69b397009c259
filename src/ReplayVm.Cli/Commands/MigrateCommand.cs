using System.CommandLine;
using ReplayVm.Replica;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// <c>replayvm migrate --from ADDR:PORT --to ADDR:PORT</c>: moves a running guest from the live
/// replica at --from to the <c>replayvm backup</c> listening at --to (it joins as the backup, catches
/// up, then the guest stops at a step and the target goes live at exactly that step).
/// </summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var replica = new ReplicaCliOptions();
        var from = new Option<string>("--from") { Description = "The live replica's console (or listen) address.", HelpName = "ADDR:PORT", Required = true };
        var to = new Option<string>("--to") { Description = "The target backup's --listen address.", HelpName = "ADDR:PORT", Required = true };
        var patience = new Option<double>("--patience")
        {
            Description = "Seconds of silence from the live replica after which migrate gives up (it reports at least every second while it works) [default: 30].",
            HelpName = "S",
            DefaultValueFactory = _ => 30,
        };
        var command = new Command("migrate", "Move a running guest to another replayvm backup process; the guest does not notice.") { from, to, patience };
        replica.AddKey(command);
        command.SetAction(parsed =>
        {
            double seconds = parsed.GetValue(patience);
            if (!(seconds >= 1 && seconds <= 86_400)) throw new UsageException("--patience takes seconds, from 1 to 86400");
            var key = ReplicaCliOptions.ReadKey(parsed, replica.Key);
            string reply = ReplicaRequests.Migrate(Endpoint.Parse(parsed.GetValue(from)!, "--from"), Endpoint.Parse(parsed.GetValue(to)!, "--to"), key,
                progress => Console.Error.WriteLine($"replayvm: migrate: {progress}"), TimeSpan.FromSeconds(seconds));
            Console.Error.WriteLine($"replayvm: {reply}");
            return reply.StartsWith("migrated", StringComparison.Ordinal) ? 0 : 1;
        });
        return command;
    }
}
