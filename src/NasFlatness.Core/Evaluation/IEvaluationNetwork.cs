using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NasFlatness.Evaluation;

/// <summary>
/// What the final-evaluation trainer needs from a discrete network beyond <c>forward</c>: the drop-path
/// probability it applies in training and, when it has one, the logits of its auxiliary head.
/// Networks that do not implement it are trained without drop-path and auxiliary loss.
/// </summary>
public interface IEvaluationNetwork
{
    /// <summary>Probability with which each non-identity operation output is dropped in training (0 = off).</summary>
    double DropPathProbability { get; set; }

    /// <summary>True when the network has an auxiliary classifier head.</summary>
    bool HasAuxiliaryHead { get; }

    /// <summary>
    /// Runs the network and returns the logits and, in training mode with an auxiliary head, the auxiliary
    /// logits (null otherwise).
    /// </summary>
    (Tensor Logits, Tensor? AuxiliaryLogits) ForwardWithAuxiliary(Tensor input);

    /// <summary>Parameters of the auxiliary head (empty without one); excluded from the papers' parameter counts.</summary>
    IEnumerable<Parameter> AuxiliaryParameters();
}
