using NasFlatness.FlatNas;

return FlatNasApp.Run(args);
