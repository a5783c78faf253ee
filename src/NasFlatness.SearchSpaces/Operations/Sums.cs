using static TorchSharp.torch;

namespace NasFlatness.SearchSpaces.Operations;

/// <summary>Running sums of tensors that free what they consume (node sums, mixed-operation sums).</summary>
public static class Sums
{
    /// <summary>Adds <paramref name="term"/> to <paramref name="sum"/> (which starts null), disposing both old tensors.</summary>
    public static void Accumulate(ref Tensor? sum, Tensor term)
    {
        if (sum is null)
        {
            sum = term;
            return;
        }
        var next = sum + term;
        sum.Dispose();
        term.Dispose();
        sum = next;
    }
}
