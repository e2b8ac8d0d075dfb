using LoopFulfil.Cli;

// Ctrl+C / SIGTERM reach 'serve' through the host's console lifetime; other commands are short-lived.
return await CliApp.RunAsync(args, CliContext.ForProcess(Console.Out, Console.Error, CancellationToken.None));
