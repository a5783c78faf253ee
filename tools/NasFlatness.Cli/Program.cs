return NasFlatness.Cli.CliApp.Run(args, Console.Out, Console.Error);
