using System.CommandLine;
using ReplayVm.Cli.Hosting;
using ReplayVm.Replay;
using ReplayVm.Replica;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// <c>replayvm primary --backup ADDR:PORT --arbiter SPEC [--console-listen ADDR:PORT] [-o TRACE] [run options] GUEST</c>:
/// records the guest as <c>record</c> does while streaming its log to a backup; the guest's console
/// is served to <c>replayvm console</c> clients under the output rule.
/// </summary>
internal static class PrimaryCommand
{
    public static Command Create()
    {
        var machineOptions = new MachineOptions();
        var replica = new ReplicaCliOptions();
        var backup = new Option<string?>("--backup")
        {
            Description = "The backup's log address ([HOST:]PORT); the primary streams its log there and reconnects every second when it is lost.",
            HelpName = "ADDR:PORT",
        };
        var command = new Command("primary",
            "Run a guest as the primary of a replica pair: record it, stream the log to the backup, serve its console under the output rule.")
        {
            backup,
        };
        replica.AddReplica(command);
        machineOptions.AddTo(command);
        command.SetAction(parsed =>
        {
            var settings = machineOptions.Read(parsed);
            if (settings.Persist) throw new UsageException("primary cannot take --persist: the backup must start from the same disk");
            var options = replica.Read(parsed, [.. settings.InputFiles]);
            var key = ReplicaCliOptions.ReadKey(parsed, replica.Key);
            var boot = GuestBoot.Read(settings);
            using var drives = TraceDrives.ForRecording(settings.Drives, DiskEmbedding.Always);
            var setup = boot.ToSetup(settings.Config) with { Disks = drives.Disks };
            var supply = drives.For(setup);
            options = options with
            {
                MaxSteps = settings.MaxInstructions,
                Pacer = settings.Pace ? () => new RealTimePacer() : null,
                Factory = (s, i, o) => GuestBoot.CreateMachine(() => s.Build(i, o, supply)),
            };
            var backupEndpoint = parsed.GetValue(backup) is { } b ? Endpoint.Parse(b, "--backup") : null;
            using var arbiter = replica.OpenArbiter(parsed, "primary");
            using var node = ReplicaNode.StartPrimary(setup, options, key, arbiter, replica.ConsoleEndpoints(parsed), backupEndpoint);
            foreach (var endpoint in node.Listening) Console.Error.WriteLine($"replayvm: primary console listening on {endpoint}");
            foreach (var endpoint in node.PlainListening) Console.Error.WriteLine($"replayvm: primary plain console listening on {endpoint}");
            using var signals = ReplicaCliOptions.StopOnSignals(node);
            int status = node.Run();
            if (settings.Stats)
            {
                // Steps and the process's JIT and CPU figures, as run --stats ends, to set beside record's.
                Console.Error.WriteLine($"instructions: {node.Steps}");
                RunCommand.PrintProcessLine();
            }
            return status;
        });
        return command;
    }
}
