using System.Globalization;
using NasFlatness.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Search;

/// <summary>The runner's refusals: a checkpoint written with other settings, a non-finite loss or α.</summary>
public sealed partial class SearchRunner
{
    /// <summary>
    /// Refuses a checkpoint written with other settings, naming every difference: space, optimizer, regularizers,
    /// activation, schedule, stateful components, and every search option except where the checkpoint lives.
    /// </summary>
    private void CheckCompatible(SearchCheckpoint checkpoint, IReadOnlyList<IStatefulSearchComponent> stateful, ISearchDataset data,
        int trainCount, int validCount, SupernetShape shape)
    {
        var o = _options;
        var differences = new List<CheckpointDifference>();
        void Require(bool same, string what, object? saved, object? now)
        {
            if (!same) differences.Add(new(what, string.Create(CultureInfo.InvariantCulture, $"{saved ?? "null"}"), string.Create(CultureInfo.InvariantCulture, $"{now ?? "null"}")));
        }
        Require(checkpoint.Space == _space.Name, "space", checkpoint.Space, _space.Name);
        Require(checkpoint.Optimizer == _optimizer.Name, "optimizer", checkpoint.Optimizer, _optimizer.Name);
        Require(checkpoint.Regularizers.SequenceEqual(_regularizers.Select(r => r.Name)), "regularizers", string.Join(",", checkpoint.Regularizers), string.Join(",", _regularizers.Select(r => r.Name)));
        Require(checkpoint.Activation == _activation.Name, "activation", checkpoint.Activation, _activation.Name);
        Require(checkpoint.Schedule == _schedule.Name, "schedule", checkpoint.Schedule, _schedule.Name);
        Require(checkpoint.StatefulComponents.SequenceEqual(stateful.Select(s => s.StateName)), "stateful components",
            string.Join(",", checkpoint.StatefulComponents), string.Join(",", stateful.Select(s => s.StateName)));
        differences.AddRange(ComponentSettingsCheck.Differences(checkpoint.ComponentSettings, ComponentSettingsCheck.Of(Participants())));
        foreach (var property in typeof(SearchOptions).GetProperties())
        {
            if (property.Name is nameof(SearchOptions.CheckpointDirectory) or nameof(SearchOptions.ResumeFromCheckpoint)) continue;
            object? saved = property.GetValue(checkpoint.Options), now = property.GetValue(o);
            Require(Equals(saved, now), property.Name, saved, now);
        }
        if (checkpoint.TrainImages is int savedTrain) Require(savedTrain == trainCount, "training images", savedTrain, trainCount);
        if (checkpoint.ValidationImages is int savedValid) Require(savedValid == validCount, "validation images", savedValid, validCount);
        if (checkpoint.DataFingerprint is not null || data.Fingerprint is not null)
            Require(checkpoint.DataFingerprint == data.Fingerprint, "data", ErrorText.Echo(checkpoint.DataFingerprint), ErrorText.Echo(data.Fingerprint));
        if (checkpoint.SupernetParameters is long savedParameters && checkpoint.SupernetTensors is int savedTensors && checkpoint.SupernetShape is not null
            && (savedParameters != shape.Parameters || savedTensors != shape.Tensors || checkpoint.SupernetShape != shape.Digest))
            differences.Add(new("supernet", string.Create(CultureInfo.InvariantCulture, $"{savedParameters:N0} parameters in {savedTensors} tensors"),
                string.Create(CultureInfo.InvariantCulture, $"{shape.Parameters:N0} parameters in {shape.Tensors} tensors{(savedParameters == shape.Parameters && savedTensors == shape.Tensors ? " of other shapes" : "")}")));
        if (differences.Count > 0)
            throw new CheckpointMismatchException(o.CheckpointDirectory!, differences,
                $"The checkpoint in '{o.CheckpointDirectory}' was written with {string.Join("; ", differences.Select(Describe))}. Use another {nameof(SearchOptions.CheckpointDirectory)}, or set {nameof(SearchOptions.ResumeFromCheckpoint)} = false to start over.");

        static string Describe(CheckpointDifference d) => d.Setting == "supernet"
            ? $"a supernet of {d.Saved}, but this search builds one of {d.Now} (other channels, cells or space settings)"
            : $"{d.Setting} = {d.Saved}, but this search uses {d.Now}";
    }

    private static void RequireFinite(double value, string quantity, int epoch, int step)
    {
        if (!double.IsFinite(value))
            throw Divergence.WeightDriven(quantity, value, epoch, step);
    }
}
