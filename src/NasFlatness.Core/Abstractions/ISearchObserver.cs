namespace NasFlatness;

/// <summary>
/// Hooks around the steps of a search. Every method has an empty default, so an implementation overrides only what it
/// needs. The search runner calls them on its activation, update schedule, architecture optimizer, regularizers (in
/// order) and then on every extra observer given to it — in that order, synchronously, on the search thread.
/// </summary>
/// <remarks>
/// Tensors reachable from the arguments (batches, the supernet's outputs) belong to the step's dispose scope and are
/// valid only during the call. A component whose state must survive a resume implements <see cref="IStatefulSearchComponent"/>.
/// </remarks>
public interface ISearchObserver
{
    /// <summary>Called at the start of every epoch (also the first epoch after a resume), before its first step.</summary>
    void OnEpochStarting(EpochStart epoch) { }

    /// <summary>Called after every weight step (after the weight optimizer stepped), with the step's batch and gradient norm.</summary>
    void OnWeightStep(WeightStep step) { }

    /// <summary>Called after every architecture update (after the architecture optimizer stepped α).</summary>
    void OnArchitectureStepped(ArchitectureStep step) { }

    /// <summary>Called when an epoch's record is complete, before it is reported and before the checkpoint is written.</summary>
    void OnEpochCompleted(EpochRecord record) { }
}

/// <summary>The start of an epoch of a search.</summary>
/// <param name="Clock">The epoch, at its step 0.</param>
/// <param name="WeightLearningRate">The weight learning rate of the epoch.</param>
/// <param name="Supernet">The supernet being searched.</param>
/// <param name="Activation">The search's activation (what turns α into mixing weights in every forward pass of the search).</param>
public sealed record EpochStart(SearchClock Clock, double WeightLearningRate, Supernet Supernet, IArchitectureActivation Activation)
{
    /// <summary>The weight optimizer at the start of the epoch (e.g. for a shadow network that starts from the same state);
    /// null when the caller has none. The search runner always sets it.</summary>
    public WeightOptimizerState? WeightOptimizer { get; init; }
}

/// <summary>One weight step of a search, as seen by <see cref="ISearchObserver.OnWeightStep"/> and <see cref="IArchitectureUpdateSchedule"/>.</summary>
/// <param name="Supernet">The supernet (its weights already updated by this step).</param>
/// <param name="Train">The training minibatch of the step (valid only during the call).</param>
/// <param name="Clock">Where the search stands.</param>
/// <param name="WeightLearningRate">The weight learning rate used.</param>
/// <param name="Loss">The training cross-entropy of the step (at w, before any sharpness-aware perturbation).</param>
/// <param name="GradientNorm">Global L2 norm of the weight gradients before clipping (its square is DARTS-PRIME's "Fisher information" trace);
/// with a sharpness-aware weight step (<c>SearchOptions.WeightSharpness</c>) the norm of g(w + ε), the gradient the step uses.</param>
/// <param name="ArchitectureUpdated">Whether α was updated before this weight step.</param>
/// <param name="Activation">The search's activation.</param>
public sealed record WeightStep(
    Supernet Supernet, Batch Train, SearchClock Clock, double WeightLearningRate, double Loss, double GradientNorm, bool ArchitectureUpdated,
    IArchitectureActivation Activation);
