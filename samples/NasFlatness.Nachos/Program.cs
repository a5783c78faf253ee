using NasFlatness.Nachos;

return NachosApp.Run(args);
