return ReplayVm.Cli.CliApp.Run(args);
