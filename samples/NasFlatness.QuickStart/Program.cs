using NasFlatness.QuickStart;

return QuickStartApp.Run(args);
