using System.Globalization;
using NasFlatness.Genotypes;

namespace NasFlatness.Optimizers;

/// <summary>Hyper-parameters of <see cref="A2MRegularizer"/> (A²M code defaults).</summary>
public sealed class A2MOptions
{
    /// <summary>Perturbation radius ρ of the (unnormalised) ascent step <c>α̃ = α + ρ·g</c>.</summary>
    /// <value>Default 1e-2 (the A²M NAS-Bench-201 scripts); use <see cref="ForDarts"/> (1e-1) in the DARTS space.</value>
    public double Rho { get; set; } = 1e-2;

    /// <summary>Absolute finite-difference step ε of the Hessian-vector probe <c>α̃ ± ε·g̃</c> (not divided by ‖g̃‖).</summary>
    /// <value>Default 1e-2.</value>
    public double FiniteDifferenceStep { get; set; } = 1e-2;

    /// <summary>The NAS-Bench-201 defaults: ρ = 1e-2, ε = 1e-2.</summary>
    public static A2MOptions ForNb201() => new() { Rho = 1e-2, FiniteDifferenceStep = 1e-2 };

    /// <summary>The DARTS-space defaults: ρ = 1e-1, ε = 1e-2.</summary>
    public static A2MOptions ForDarts() => new() { Rho = 1e-1, FiniteDifferenceStep = 1e-2 };

    /// <summary>The defaults for a search space by its <see cref="ISearchSpace.Name"/>: ρ = 1e-1 for
    /// <see cref="SpaceNames.Darts"/> (any case), otherwise the NAS-Bench-201 value 1e-2.</summary>
    /// <param name="spaceName">The search space name, e.g. "nas-bench-201" or "darts".</param>
    public static A2MOptions ForSpace(string? spaceName) =>
        string.Equals(spaceName, SpaceNames.Darts, StringComparison.OrdinalIgnoreCase) ? ForDarts() : ForNb201();

    /// <summary>Returns a copy.</summary>
    public A2MOptions Clone() => (A2MOptions)MemberwiseClone();

    /// <summary>Lists what is wrong with these options (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!(Rho >= 0) || !double.IsFinite(Rho))
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(Rho)} = {Rho} is invalid: must be a non-negative number."));
        if (!(FiniteDifferenceStep > 0) || !double.IsFinite(FiniteDifferenceStep))
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(FiniteDifferenceStep)} = {FiniteDifferenceStep} is invalid: must be a positive number."));
        return errors;
    }
}
