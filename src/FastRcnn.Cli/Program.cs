using FastRcnn.Cli;

return CliApp.Build().Parse(args).Invoke();
