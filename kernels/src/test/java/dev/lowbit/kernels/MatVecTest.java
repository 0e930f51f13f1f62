package dev.lowbit.kernels;

import dev.lowbit.kernels.NaiveMatmulTest.Case;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * MatVec (the few-token path used when decoding) over every Weights implementation, Panama and its scalar twin,
 * against the decode written out in NaiveMatmulTest and a plain double multiply; shapes with row tails off the
 * 8-row block and odd columns.
 */
class MatVecTest {
    @ParameterizedTest(name = "{0} tokens, {1}×{2}")
    @CsvSource({"1,1,1", "1,15,7", "2,17,33", "1,33,64", "3,47,95", "8,50,96", "1,19,256", "2,9,512"})
    void equalsDecodeThenPlainMatmul(int tokens, int rows, int cols) {
        List<Case> cases = NaiveMatmulTest.cases(rows, cols, 31L * rows + cols);
        for (Case c : cases)
            for (VectorOps ops : new VectorOps[] {new PanamaOps(), new ScalarOps()}) check(c, ops, tokens);
    }

    private static void check(Case c, VectorOps ops, int tokens) {
        int rows = c.w().rows(), cols = c.w().cols();
        Random r = new Random(5);
        float[] x = new float[tokens * cols], bias = new float[rows];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < rows; i++) bias[i] = (float) r.nextGaussian();
        float[] got = new float[tokens * rows];
        MatVec.matmul(ops, c.w(), x, tokens, got, bias);
        for (int t = 0; t < tokens; t++)
            for (int row = 0; row < rows; row++) {
                double s = bias[row], mag = Math.abs(bias[row]);
                for (int k = 0; k < cols; k++) {
                    double p = x[t * cols + k] * c.want()[row * cols + k];
                    s += p;
                    mag += Math.abs(p);
                }
                assertEquals(s, got[t * rows + row], 1e-6 + 2e-6 * mag, c + " " + ops.getClass().getSimpleName() + " out[" + t + "][" + row + "]");
            }
    }
}
