namespace NasFlatness.Search;

/// <summary>Eigenvalues of a small real symmetric matrix by the cyclic Jacobi rotation method, in double precision.</summary>
internal static class SymmetricEigen
{
    /// <summary>
    /// All eigenvalues of the symmetric matrix <paramref name="matrix"/> in descending order. The input is symmetrised as
    /// (A + Aᵀ)/2 first (a Hessian built from Hessian-vector products is symmetric only up to rounding) and is not modified.
    /// Sweeps of Jacobi rotations run until the off-diagonal Frobenius norm is below 1e-14 of the matrix norm (at most 100 sweeps).
    /// </summary>
    /// <param name="matrix">An n × n matrix, n ≥ 1.</param>
    /// <exception cref="ArgumentException">The matrix is not square or empty, or holds a non-finite value.</exception>
    public static double[] Eigenvalues(double[,] matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        int n = matrix.GetLength(0);
        if (n == 0 || matrix.GetLength(1) != n)
            throw new ArgumentException($"The matrix must be square and non-empty; it is {matrix.GetLength(0)} × {matrix.GetLength(1)}.", nameof(matrix));
        var a = new double[n, n];
        double norm = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (!double.IsFinite(matrix[i, j])) throw new ArgumentException($"The matrix holds a non-finite value at ({i}, {j}).", nameof(matrix));
                a[i, j] = 0.5 * (matrix[i, j] + matrix[j, i]);
                norm += a[i, j] * a[i, j];
            }
        double tolerance = 1e-14 * Math.Sqrt(norm);
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++) off += 2 * a[i, j] * a[i, j];
            if (Math.Sqrt(off) <= tolerance) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (a[p, q] == 0) continue;
                    // Rotation that zeroes a[p,q]: θ = (a_qq − a_pp) / (2 a_pq), t = sign(θ) / (|θ| + √(θ² + 1)).
                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k, p], akq = a[k, q];
                        a[k, p] = c * akp - s * akq;
                        a[k, q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p, k], aqk = a[q, k];
                        a[p, k] = c * apk - s * aqk;
                        a[q, k] = s * apk + c * aqk;
                    }
                }
        }
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = a[i, i];
        Array.Sort(values, (x, y) => y.CompareTo(x));
        return values;
    }
}
