package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every vector kernel against its scalar twin on random shapes, including tails off the vector length, and both
 * against the definitions written here in double (SPECS.md: RMSNorm w·x/√(mean x² + ε); LayerNorm; softmax;
 * gelu_new 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))); SiLU x/(1 + e^−x); half-split and interleaved RoPE rotations; the
 * ALiBi bias slope·j; a bfloat16 is the upper half of a float32).
 */
class KernelTwinsTest {
    final VectorOps scalar = new ScalarOps(), vector = new PanamaOps();
    final Random rnd = new Random(42);

    float[] random(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    static void close(float[] want, float[] got, double tol) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++)
            assertEquals(want[i], got[i], tol * Math.max(1, Math.abs(want[i])), "element " + i);
    }

    @Test
    void vectorImplementationIsChosenHere() {
        assertTrue(Kernels.ops() instanceof PanamaOps, "the Vector API is available on the test JVM");
    }

    /**
     * The panel layout, panel[k·width + r] = row r's column k and zero for rows from rn on, from both twins: shapes
     * with row counts off the 4-row tiles and column counts off the 16-column blocks, over a panel full of garbage.
     */
    @Test
    void panelsAreTheTransposedRowsPaddedWithZeros() {
        for (int[] shape : new int[][] {{1, 1, 8}, {3, 15, 8}, {4, 16, 16}, {7, 33, 16}, {13, 50, 16}, {32, 768, 32}, {30, 2048, 32}, {17, 95, 32}}) {
            int rn = shape[0], cols = shape[1], width = shape[2];
            float[] rows = random(rn * cols), want = new float[cols * width];
            for (int k = 0; k < cols; k++) for (int r = 0; r < rn; r++) want[k * width + r] = rows[r * cols + k];
            for (VectorOps ops : new VectorOps[] {scalar, vector}) {
                float[] panel = new float[cols * width];
                Arrays.fill(panel, Float.NaN);
                ops.toPanel(rows, rn, cols, width, panel);
                assertTrue(Arrays.equals(want, panel), ops.getClass().getSimpleName() + " " + Arrays.toString(shape));
            }
        }
    }

    /** The definitions, in double. */
    static double[] rmsNormDef(float[] a, float[] w, double eps) {
        double ss = 0;
        for (float v : a) ss += (double) v * v;
        double r = 1 / Math.sqrt(ss / a.length + eps);
        double[] o = new double[a.length];
        for (int i = 0; i < a.length; i++) o[i] = w[i] * a[i] * r;
        return o;
    }

    static double[] layerNormDef(float[] a, float[] w, float[] bias, double eps) {
        double m = 0, var = 0;
        for (float v : a) m += v;
        m /= a.length;
        for (float v : a) var += (v - m) * (v - m);
        double r = 1 / Math.sqrt(var / a.length + eps);
        double[] o = new double[a.length];
        for (int i = 0; i < a.length; i++) o[i] = (a[i] - m) * r * w[i] + bias[i];
        return o;
    }

    static double[] softmaxDef(float[] a) {
        double max = Double.NEGATIVE_INFINITY, z = 0;
        for (float v : a) max = Math.max(max, v);
        for (float v : a) z += Math.exp(v - max);
        double[] o = new double[a.length];
        for (int i = 0; i < a.length; i++) o[i] = Math.exp(a[i] - max) / z;
        return o;
    }

    static void def(double[] want, float[] got, double tol, String what) {
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], tol * Math.max(1, Math.abs(want[i])), what + " element " + i);
    }

    /** weightedSum gives the floats of zeroing the output and one axpy per row, in both implementations. */
    @Test
    void weightedSumIsAxpyPerRow() {
        for (int n : new int[] {1, 7, 16, 33, 64, 100})
            for (int rows : new int[] {0, 1, 5, 40}) {
                float[] w = random(rows + 2), v = random(3 + rows * (n + 4));
                for (VectorOps ops : new VectorOps[] {scalar, vector}) {
                    float[] want = random(n + 1), got = random(n + 1);
                    Arrays.fill(want, 1, n + 1, 0f);
                    for (int j = 0; j < rows; j++) ops.axpy(w[2 + j], v, 3 + j * (n + 4), want, 1, n);
                    got[0] = want[0];
                    ops.weightedSum(w, 2, rows, v, 3, n + 4, got, 1, n);
                    assertEquals(Arrays.toString(want), Arrays.toString(got), ops.getClass().getSimpleName() + " n=" + n + " rows=" + rows);
                }
            }
    }

    /** The int8 dot is exact: both implementations give the long sum, for every length and offset, extremes included. */
    @Test
    void byteDotIsTheExactSum() {
        Random r = new Random(23);
        for (int n : new int[] {0, 1, 7, 15, 16, 17, 31, 32, 33, 64, 100, 768, 5633}) {
            byte[] a = new byte[n + 3], b = new byte[n + 5];
            r.nextBytes(a);
            r.nextBytes(b);
            if (n > 2) {
                a[3] = -128;
                b[5] = -128;
                a[4] = 127;
                b[6] = -128;
            }
            long want = 0;
            for (int i = 0; i < n; i++) want += a[3 + i] * b[5 + i];
            for (VectorOps ops : new VectorOps[] {scalar, vector})
                assertEquals(want, ops.dotBytes(a, 3, MemorySegment.ofArray(b), 5, n), ops.getClass().getSimpleName() + " n=" + n);
            byte[] rows = new byte[7 + 4 * (n + 2)];
            r.nextBytes(rows);
            for (int count = 1; count <= 4; count++)
                for (VectorOps ops : new VectorOps[] {scalar, vector}) {
                    int[] got = new int[4];
                    ops.dotBytesRows(a, 3, MemorySegment.ofArray(rows), 7, n + 2, count, n, got);
                    for (int row = 0; row < count; row++) {
                        long w = 0;
                        for (int i = 0; i < n; i++) w += a[3 + i] * rows[7 + row * (n + 2) + i];
                        assertEquals(w, got[row], ops.getClass().getSimpleName() + " n=" + n + " row " + row + " of " + count);
                    }
                }
        }
    }

    /** Both implementations against the definitions computed here. */
    void kernelsFollowTheirDefinitions(int n) {
        float[] a = random(n), b = random(n), w = random(n), bias = random(n), cos = random(n), sin = random(n);
        for (VectorOps ops : new VectorOps[] {scalar, vector}) {
            String name = ops.getClass().getSimpleName() + " n=" + n + " ";
            double dot = 0;
            for (int i = 0; i < n; i++) dot += (double) a[i] * b[i];
            assertEquals(dot, ops.dot(a, 0, b, 0, n), 1e-5 * n, name + "dot");
            float[] y = random(n + 3), y0 = y.clone();
            ops.axpy(0.7f, a, 0, y, 3, n);
            for (int i = 0; i < n; i++) assertEquals(y0[3 + i] + 0.7 * a[i], y[3 + i], 1e-6 * Math.max(1, Math.abs(y[3 + i])), name + "axpy");
            y0 = y.clone();
            ops.add(y, 1, a, 0, n);
            for (int i = 0; i < n; i++) assertEquals(y0[1 + i] + (double) a[i], y[1 + i], 1e-6 * Math.max(1, Math.abs(y[1 + i])), name + "add");
            float[] o = new float[n];
            ops.rmsNorm(a, 0, w, 1e-5f, o, 0, n);
            def(rmsNormDef(a, w, 1e-5), o, 1e-5, name + "rmsNorm");
            ops.layerNorm(a, 0, w, bias, 1e-5f, o, 0, n);
            def(layerNormDef(a, w, bias, 1e-5), o, 1e-5, name + "layerNorm");
            float[] s = a.clone();
            ops.softmax(s, 0, n);
            def(softmaxDef(a), s, 1e-5, name + "softmax");
            float[] g = a.clone();
            ops.geluTanh(g, 0, n);
            double[] gw = new double[n];
            for (int i = 0; i < n; i++) gw[i] = 0.5 * a[i] * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (a[i] + 0.044715 * a[i] * a[i] * a[i])));
            def(gw, g, 1e-5, name + "gelu_new");
            g = a.clone();
            ops.siluMul(g, b, 0, n);
            for (int i = 0; i < n; i++) gw[i] = a[i] / (1 + Math.exp(-a[i])) * b[i];
            def(gw, g, 1e-5, name + "silu(gate)·up");
            float[] r = random(2 * n), r0 = r.clone();
            ops.rope(r, 0, n, cos, sin, 0);
            double[] rw = new double[2 * n];
            for (int i = 0; i < n; i++) {
                rw[i] = (double) r0[i] * cos[i] - (double) r0[n + i] * sin[i];
                rw[n + i] = (double) r0[n + i] * cos[i] + (double) r0[i] * sin[i];
            }
            def(rw, r, 1e-6, name + "rope half-split");
            r = r0.clone();
            ops.ropeInterleaved(r, 0, n, cos, sin, 0);
            for (int i = 0; i < n; i++) {
                rw[2 * i] = (double) r0[2 * i] * cos[i] - (double) r0[2 * i + 1] * sin[i];
                rw[2 * i + 1] = (double) r0[2 * i + 1] * cos[i] + (double) r0[2 * i] * sin[i];
            }
            def(rw, r, 1e-6, name + "rope interleaved");
            r = r0.clone();
            ops.alibi(r, 0, n, 0.25f);
            for (int j = 0; j < 2 * n; j++) rw[j] = r0[j] + (j < n ? 0.25 * j : 0);
            def(rw, r, 1e-6, name + "alibi");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 15, 16, 17, 33, 64, 100, 257})
    void elementwiseKernels(int n) {
        kernelsFollowTheirDefinitions(n);
        float[] a = random(n), b = random(n), w = random(n), bias = random(n);
        assertEquals(scalar.dot(a, 0, b, 0, n), vector.dot(a, 0, b, 0, n), 1e-4 * n);
        float[] y1 = random(n + 3), y2 = y1.clone();
        scalar.axpy(0.7f, a, 0, y1, 3, n);
        vector.axpy(0.7f, a, 0, y2, 3, n);
        close(y1, y2, 1e-6);
        scalar.add(y1, 1, a, 0, n);
        vector.add(y2, 1, a, 0, n);
        close(y1, y2, 1e-6);
        float[] o1 = new float[n], o2 = new float[n];
        scalar.rmsNorm(a, 0, w, 1e-5f, o1, 0, n);
        vector.rmsNorm(a, 0, w, 1e-5f, o2, 0, n);
        close(o1, o2, 1e-5);
        scalar.layerNorm(a, 0, w, bias, 1e-5f, o1, 0, n);
        vector.layerNorm(a, 0, w, bias, 1e-5f, o2, 0, n);
        close(o1, o2, 1e-5);
        float[] s1 = a.clone(), s2 = a.clone();
        scalar.softmax(s1, 0, n);
        vector.softmax(s2, 0, n);
        close(s1, s2, 1e-5);
        float[] g1 = a.clone(), g2 = a.clone();
        scalar.geluTanh(g1, 0, n);
        vector.geluTanh(g2, 0, n);
        close(g1, g2, 1e-5);
        g1 = a.clone();
        g2 = a.clone();
        scalar.siluMul(g1, b, 0, n);
        vector.siluMul(g2, b, 0, n);
        close(g1, g2, 1e-5);
        float[] r1 = random(2 * n), r2 = r1.clone(), cos = random(n), sin = random(n);
        scalar.rope(r1, 0, n, cos, sin, 0);
        vector.rope(r2, 0, n, cos, sin, 0);
        close(r1, r2, 1e-6);
        scalar.ropeInterleaved(r1, 0, n, cos, sin, 0);
        vector.ropeInterleaved(r2, 0, n, cos, sin, 0);
        close(r1, r2, 1e-6);
        scalar.alibi(r1, 0, n, 0.25f);
        vector.alibi(r2, 0, n, 0.25f);
        close(r1, r2, 1e-6);
    }

    /** Every half, at an odd offset with a tail off the vector length: Float.float16ToFloat's bits (NaN: a NaN). */
    @Test
    void everyHalfDecodesAsFloat16ToFloat() {
        int n = 65536 + 3;
        MemorySegment seg = Arena.ofAuto().allocate(2L * n + 2);
        for (int i = 0; i < n; i++) seg.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2 + 2L * i, (short) i);
        for (VectorOps ops : new VectorOps[] {scalar, vector}) {
            float[] got = new float[n];
            ops.f16ToFloat(seg, 2, got, n);
            for (int i = 0; i < n; i++) {
                float want = Float.float16ToFloat((short) i);
                if (Float.isNaN(want)) assertTrue(Float.isNaN(got[i]), ops.getClass().getSimpleName() + " half 0x" + Integer.toHexString(i & 0xffff));
                else assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got[i]), ops.getClass().getSimpleName() + " half 0x" + Integer.toHexString(i & 0xffff));
            }
        }
    }

    /**
     * The lane sum is the documented tree, whatever the lane count: for 8 lanes ((v0+v4)+(v2+v6))+((v1+v5)+(v3+v7)), for
     * 16 the same over the pairs (v_i + v_{i+8}); other counts add in lane order. Values of very different magnitudes
     * make each order give a different float.
     */
    @Test
    void laneSumIsTheFixedTree() {
        int l = PanamaOps.L;
        for (int rep = 0; rep < 200; rep++) {
            float[] v = new float[l];
            for (int i = 0; i < l; i++) v[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(9) - 4));
            float want;
            if (l == 8 || l == 16) {
                float[] w = v.clone();
                for (int step = l / 2; step >= 1; step /= 2)
                    for (int i = 0; i < step; i++) w[i] = w[i] + w[i + step];
                want = w[0];
            } else {
                want = 0;
                for (float x : v) want += x;
            }
            assertEquals(want, PanamaOps.sum(FloatVector.fromArray(PanamaOps.F, v, 0)), "lanes " + Arrays.toString(v));
        }
    }

    @Test
    void vectorExpIsWithinOneUlpOfMathExp() {
        float[] x = new float[4096 + 65536 + 16];
        int n = 0;
        for (int i = 0; i < 4096; i++) x[n++] = -100f + 200f * i / 4096;
        for (int i = 0; i < 65536; i++) x[n++] = (float) (rnd.nextDouble() * 176.1 - 87.3); // the finite range, densely
        for (float v : new float[] {0f, -0f, 1f, -1f, -87.3f, -87.29f, 88.72f, 88.7228f, 88.72284f, -88f, 0.34657359f, -0.34657359f,
                Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e30f}) x[n++] = v;
        for (int i = 0; i < n; i += PanamaOps.L) {
            float[] got = PanamaOps.exp(jdk.incubator.vector.FloatVector.fromArray(PanamaOps.F, x, i)).toArray();
            for (int l = 0; l < got.length; l++) {
                double want = Math.exp(x[i + l]);
                if (Double.isNaN(want)) assertTrue(Float.isNaN(got[l]), "x=NaN");
                else if (want < 2 * Float.MIN_NORMAL) assertEquals(want, got[l], 2 * Float.MIN_NORMAL, "x=" + x[i + l]);
                else if (want > Float.MAX_VALUE) assertEquals(Float.POSITIVE_INFINITY, got[l], "x=" + x[i + l]);
                else assertEquals(want, got[l], 1e-7 * want, "x=" + x[i + l]);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 31, 130})
    void bf16Decode(int n) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(2L * n + 2);
            for (int i = 0; i < n + 1; i++) seg.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * i, (short) rnd.nextInt());
            float[] a = new float[n], b = new float[n];
            scalar.bf16ToFloat(seg, 2, a, n);
            vector.bf16ToFloat(seg, 2, b, n);
            for (int i = 0; i < n; i++) {
                int bits = seg.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2 + 2L * i) & 0xffff;
                assertEquals(bits << 16, Float.floatToRawIntBits(a[i]), "a bfloat16 is the upper half of a float32");
                assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"1,1,1", "5,7,19", "64,16,64", "67,13,100", "130,9,257", "4,4,16", "600,50,40", "13,33,24"})
    void matmulAgainstTwinAndNaiveLoop(String shape) {
        String[] p = shape.split(",");
        int tokens = Integer.parseInt(p[0]), rows = Integer.parseInt(p[1]), cols = Integer.parseInt(p[2]);
        float[] x = random(tokens * cols), wf = random(rows * cols), bias = random(rows);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(4L * wf.length);
            MemorySegment.copy(wf, 0, seg, F32Weights.LE, 0, wf.length);
            Weights w = new F32Weights(seg, rows, cols);
            float[] want = new float[tokens * rows], s = new float[tokens * rows], v = new float[tokens * rows];
            for (int t = 0; t < tokens; t++)
                for (int r = 0; r < rows; r++) {
                    double acc = bias[r];
                    for (int k = 0; k < cols; k++) acc += (double) x[t * cols + k] * wf[r * cols + k];
                    want[t * rows + r] = (float) acc;
                }
            Kernels.matmul(scalar, w, x, tokens, s, bias);
            Kernels.matmul(vector, w, x, tokens, v, bias);
            close(want, s, 1e-4);
            close(want, v, 1e-4);
        }
    }
}
