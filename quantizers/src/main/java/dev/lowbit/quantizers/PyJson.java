package dev.lowbit.quantizers;

import java.math.BigDecimal;

/** Numbers formatted as Python's json.dumps does (repr of a float), for bitsandbytes' packed quant_state. */
final class PyJson {
    private PyJson() {}

    /** Shortest round-trip digits, plain notation for 1e-4 ≤ |x| < 1e16, else d.ddde-XX, as Python's repr. */
    static String number(double x) {
        if (x == 0) return (1 / x < 0) ? "-0.0" : "0.0";
        BigDecimal d = new BigDecimal(Double.toString(x)).stripTrailingZeros();
        int exp = d.precision() - d.scale() - 1;
        if (exp >= -4 && exp < 16) {
            String s = d.toPlainString();
            return s.contains(".") ? s : s + ".0";
        }
        String digits = d.unscaledValue().abs().toString();
        String mant = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return (x < 0 ? "-" : "") + mant + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    }
}
