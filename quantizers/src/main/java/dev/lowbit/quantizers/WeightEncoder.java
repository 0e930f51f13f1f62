package dev.lowbit.quantizers;

import dev.lowbit.quantizers.format.WeightFormat;

/**
 * Encodes one 2-D weight [rows × cols] (logical orientation, rows = output features) in a format by another method
 * than the format's own per-block encoder, e.g. GPTQ. Returns the rows' bytes back to back (row r at r · rowBytes),
 * or null to leave this weight to the plain encoder.
 */
public interface WeightEncoder {
    byte[] encode(String name, float[] w, int rows, int cols, WeightFormat f);
}
