package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lowbit.kernels.NaiveMatmulTest.Case;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Several weights of one input in one job (q, k, v; gate, up) give each weight's own product, bit for bit, on both
 * paths (panels for many tokens, MatVec for a few) and both kernel twins: weights of different formats and row
 * counts off the panel width and the 8-row groups, so that blocks of two weights share a task.
 */
class SeveralWeightsTest {
    @ParameterizedTest(name = "{0} tokens")
    @ValueSource(ints = {1, 3, 8, 13, 70})
    void eachOutputIsItsOwnWeightsProduct(int tokens) {
        int cols = 96;
        List<Case> a = NaiveMatmulTest.cases(19, cols, 1), b = NaiveMatmulTest.cases(40, cols, 2), c = NaiveMatmulTest.cases(7, cols, 3);
        Random r = new Random(9);
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int pick = 0; pick < Math.min(a.size(), Math.min(b.size(), c.size())); pick++) {
            Weights[] ws = {a.get(pick).w(), b.get((pick + 3) % b.size()).w(), c.get((pick + 5) % c.size()).w()};
            float[][] biases = {bias(19, r), null, bias(7, r)};
            for (VectorOps ops : new VectorOps[] {new PanamaOps(), new ScalarOps()}) {
                float[][] together = new float[3][], alone = new float[3][];
                for (int i = 0; i < 3; i++) {
                    together[i] = new float[tokens * ws[i].rows()];
                    alone[i] = new float[tokens * ws[i].rows()];
                }
                if (tokens <= MatVec.MAX_TOKENS) {
                    MatVec.matmul(ops, ws, x, tokens, together, biases);
                    for (int i = 0; i < 3; i++) MatVec.matmul(ops, ws[i], x, tokens, alone[i], biases[i]);
                } else {
                    Kernels.matmul(ops, ws, x, tokens, together, biases);
                    for (int i = 0; i < 3; i++) Kernels.matmul(ops, ws[i], x, tokens, alone[i], biases[i]);
                }
                for (int i = 0; i < 3; i++)
                    assertArrayEquals(alone[i], together[i], ws[i].format() + " (weight " + i + "), " + ops.getClass().getSimpleName());
            }
        }
    }

    @Test
    void weightsOfOneInputShareTheirColumns() {
        Weights[] ws = {NaiveMatmulTest.cases(4, 32, 1).getFirst().w(), NaiveMatmulTest.cases(4, 64, 1).getFirst().w()};
        assertThrows(IllegalArgumentException.class, () -> Kernels.matmul(new PanamaOps(), ws, new float[64], 1, new float[2][8], new float[2][]));
    }

    private static float[] bias(int n, Random r) {
        float[] b = new float[n];
        for (int i = 0; i < n; i++) b[i] = (float) r.nextGaussian();
        return b;
    }
}
