package dev.lowbit.quantizers.gptq;

/** Dense symmetric positive definite helpers on n × n row-major double matrices. */
final class Cholesky {
    private Cholesky() {}

    /** The lower factor L of a = L·Lᵀ, or null when a is not positive definite. a is left unchanged. */
    static double[] lower(double[] a, int n) {
        double[] l = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i * n + j];
                int ri = i * n, rj = j * n;
                for (int k = 0; k < j; k++) s -= l[ri + k] * l[rj + k];
                if (i == j) {
                    if (!(s > 0)) return null;
                    l[ri + i] = Math.sqrt(s);
                } else l[ri + j] = s / l[rj + j];
            }
        }
        return l;
    }

    /** The inverse of a lower triangular matrix, transposed (so upper triangular): t[j][i] = (L⁻¹)[i][j]. */
    static double[] invertLowerTransposed(double[] l, int n) {
        double[] t = new double[n * n];
        for (int j = 0; j < n; j++) {
            int rj = j * n;
            t[rj + j] = 1 / l[rj + j];
            for (int i = j + 1; i < n; i++) {
                double s = 0;
                int ri = i * n;
                for (int k = j; k < i; k++) s += l[ri + k] * t[rj + k];
                t[rj + i] = -s / l[ri + i];
            }
        }
        return t;
    }

    /**
     * The upper factor U of H⁻¹ = Uᵀ·U (GPTQ's "Cholesky of the inverse, upper"), or null when h is not positive
     * definite. From H = L·Lᵀ: H⁻¹ = L⁻ᵀ·L⁻¹, then U = (chol_lower(H⁻¹))ᵀ.
     */
    static double[] inverseUpper(double[] h, int n) {
        double[] l = lower(h, n);
        if (l == null) return null;
        double[] t = invertLowerTransposed(l, n);
        double[] hinv = new double[n * n];
        // hinv[i][j] = Σ_k L⁻¹[k][i] · L⁻¹[k][j] = Σ_{k ≥ max(i, j)} t[i][k] · t[j][k]
        for (int i = 0; i < n; i++) {
            int ri = i * n;
            for (int j = 0; j <= i; j++) {
                int rj = j * n;
                double s = 0;
                for (int k = i; k < n; k++) s += t[ri + k] * t[rj + k];
                hinv[ri + j] = s;
                hinv[rj + i] = s;
            }
        }
        double[] lh = lower(hinv, n);
        if (lh == null) return null;
        double[] u = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) u[j * n + i] = lh[i * n + j];
        return u;
    }
}
