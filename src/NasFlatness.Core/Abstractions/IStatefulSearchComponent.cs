namespace NasFlatness;

/// <summary>
/// A search component (architecture optimizer, regularizer, activation, update schedule or observer) with state that a
/// resumed search must restore to continue bit-identically, e.g. ADMM's Z and U, a running average of an update
/// schedule, or an activation's permanent mask. The runner writes the state into every checkpoint and restores it on
/// resume, component by component in the runner's order, checking the names.
/// </summary>
/// <remarks>
/// Write doubles as doubles (<see cref="BinaryWriter.Write(double)"/> is exact) and tensors with TorchSharp's
/// <c>Tensor.Save(BinaryWriter)</c>; <see cref="LoadState"/> must read exactly what <see cref="SaveState"/> wrote.
/// </remarks>
public interface IStatefulSearchComponent
{
    /// <summary>Name that identifies the state in a checkpoint (usually the component's name).</summary>
    string StateName { get; }

    /// <summary>Writes the state.</summary>
    void SaveState(BinaryWriter writer);

    /// <summary>Restores the state written by <see cref="SaveState"/>.</summary>
    void LoadState(BinaryReader reader);
}
