using NasFlatness.DartsPipeline;

return DartsPipelineApp.Run(args);
