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
        var addresses = new Argument<string?>("ADDR:PORT[,ADDR:PORT...]") { Description = "The replicas' console (or listen) addresses.", Arity = ArgumentArity.ZeroOrOne };
        var printToken = new Option<bool>("--print-token")
        {
            Description = "Print the token a plain console client (--plain-console-listen) sends as its first line, and exit: e.g. { replayvm console --print-token; cat; } | nc 127.0.0.1 PORT",
        };
        var patience = new Option<double>("--patience")
        {
            Description = "Seconds to keep looking for a live replica before giving up [default: 30].",
            HelpName = "S",
            DefaultValueFactory = _ => 30,
        };
        var from = new Option<long?>("--from")
        {
            Description = "Show the guest's console from this byte offset [default: from its start, or from the oldest byte the live replica still holds (--console-history)].",
            HelpName = "OFFSET",
        };
        var command = new Command("console", "Attach to the guest's console on whichever replica is live.") { addresses, patience, printToken, from };
        replica.AddKey(command);
        command.SetAction(parsed =>
        {
            var key = ReplicaCliOptions.ReadKey(parsed, replica.Key);
            if (parsed.GetValue(printToken))
            {
                Console.Out.Write(key.PlainConsoleToken + "\n");
                return 0;
            }
            var endpoints = Endpoint.ParseList(parsed.GetValue(addresses) ?? throw new UsageException("console: give the replicas' addresses (ADDR:PORT[,ADDR:PORT...])"), "console");
            using var stdin = new FileDescriptorStream(FileDescriptorStream.Stdin);
            using var stdout = new FileDescriptorStream(FileDescriptorStream.Stdout);
            var client = new ConsoleClient(endpoints, key, stdin, stdout, line => Console.Error.WriteLine($"replayvm: {line}"))
            {
                Patience = TimeSpan.FromSeconds(parsed.GetValue(patience)),
                From = parsed.GetValue(from) is { } offset ? (offset >= 0 ? offset : throw new UsageException("--from takes a byte offset, 0 or more")) : null,
            };
            return client.Run();
        });
        return command;
    }
}
