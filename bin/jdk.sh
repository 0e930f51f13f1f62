# Sourced by ./lowbit, ./test and .ci/run: sets JAVA_HOME to a JDK >= 22 and puts it first on PATH.
lowbit_jdk_ok() {
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
  local v
  # The JDK's release file names its version; starting a JVM to ask (about 0.1-1 s) is the fallback.
  [ -f "$1/release" ] && v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release")
  [ -n "$v" ] || v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
  [ -n "$v" ] && [ "${v%%.*}" -ge 22 ] 2>/dev/null
}
lowbit_find_jdk() {
  local c
  for c in "${LOWBIT_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25* /usr/lib/jvm/*25* /usr/lib/jvm/*24* \
           /usr/lib/jvm/*23* /usr/lib/jvm/*22* /usr/lib/jvm/* /opt/java/* /opt/jdk*; do
    [ -n "$c" ] && lowbit_jdk_ok "$c" && { echo "$c"; return 0; }
  done
  return 1
}
if ! JAVA_HOME=$(lowbit_find_jdk); then
  echo "lowbit: no JDK >= 22 found (checked JAVA_HOME and /usr/lib/jvm). Install one, e.g. Temurin 25, or set JAVA_HOME." >&2
  exit 2
fi
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
LOWBIT_JVM_FLAGS="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
# PanamaOps.exp takes and returns vectors: called rather than inlined, it boxes them (about 30 ns a value instead of
# 0.3-0.5). C2 sometimes declines to inline it into softmax or SiLU ("already compiled into a medium method", seen in
# PrintInlining), depending on which compiled first: inlining is forced.
LOWBIT_JVM_FLAGS+=" -XX:CompileCommand=quiet -XX:CompileCommand=inline,dev.lowbit.kernels.PanamaOps::exp"
# The quantizers' Vector API kernels reach C2 at a twentieth of the usual call counts: until C2 compiles them their
# vector operations run as allocated objects, tens of times slower than the scalar loops they replace, and quantizing
# a 1.1B model spent 0.6 s of its 3.5-4.6 s there (2.7 s with this). Whole classes would make C2 compile more than it
# needs: an 82M model's quantize, under a second, got slower.
lowbit_lanes="quantizers.format.Q8_0::quantizeLanes quantizers.format.Q4_0::quantizeLanes quantizers.format.Q4_1::quantizeLanes
       quantizers.format.Q5_0::quantizeLanes quantizers.format.Q5_1::quantizeLanes quantizers.format.BlockDots::q5Block
       quantizers.format.QxLanes::run quantizers.format.Qkx2Lanes::run quantizers.format.Qkx2Lanes::firstPass
       quantizers.format.Qkx2Lanes::trial quantizers.format.Qkx2Lanes::error quantizers.format.Qkx2Lanes::take
       quantizers.format.BlockDots::groupQuants quantizers.format.BlockDots::groupQuantsMin"
for m in formats.FloatBits::bf16ToFloats formats.FloatBits::maxMagnitude16 quantizers.Nf4Codes::codes quantizers.DynamicMap::signedCodes $lowbit_lanes; do
  LOWBIT_JVM_FLAGS+=" -XX:CompileCommand=CompileThresholdScaling,dev.lowbit.$m,0.05"
done
# The GGUF encoders' lanes (used from 500M weights on, Q6_K's from 8M: LaneEncoders) and the 16-bit float reads and
# NF4 codes are compiled in the foreground: the caller waits for C2 (tens of ms) instead of running their vector code
# uncompiled meanwhile, which also spins a class per vector operation it meets and makes C2 compile the Vector API's
# fallback code. 1.1B Q4_0 export 3.2-3.8 -> 2.6-3.4 s; 1.1B NF4 + double quant 2.14 -> 1.97 s (median of 8,
# alternating). The K-quants' scale search (Qkx2Lanes, used at every size) too: 82M Q2_K, Q3_K_M, Q4_K_M and Q5_K_M
# exports 1.72-1.88 -> 1.44-1.53 s (medians of 6, alternating with 85e021b), and none of 200 runs (4 types x 25, with and without its
# profiles in the AOT cache) on allocated vectors (GC pauses 2-4 each). It had been left off (4a99a90) when about one run in
# 20-30 ran on allocated vectors, 4-6 s; that was before conversions named a constant species (4e5dbd3). And the
# K-quants' final quants of a group (BlockDots.groupQuants, Q6_K and Q3_K): 82M Q6_K 1.115 -> 1.06 s (medians of 10).
for m in formats.FloatBits::bf16ToFloats formats.FloatBits::maxMagnitude16 quantizers.Nf4Codes::codes quantizers.DynamicMap::signedCodes $lowbit_lanes; do
  LOWBIT_JVM_FLAGS+=" -XX:CompileCommand=BackgroundCompilation,dev.lowbit.$m,false"
done
unset lowbit_lanes m
# Tiered compilation's thresholds for C2 in `lowbit quantize` (the launcher adds them for that command only), tuned for a
# short-lived process on two cores. The quantizers' hot methods are called once per row or group with loops inside, so
# their back-edge counts pass Tier4BackEdgeThreshold (40000) long before their calls reach Tier4MinInvocationThreshold
# (600): C2 compiled each of them on-stack first, one to three times at different loops (each compile only finishing
# the call it entered), then again normally. With the normal compile allowed from 100 calls and on-stack replacement
# from 160000 back edges, an 82M Q3_K_M export's C2 time went 907 -> 735 ms (on-stack compiles of lowbit methods 18 ->
# 9). Whole-process medians, alternating, 82M F32 model: Q3_K_M 1.38 -> 1.21 s, Q2_K 1.32 -> 1.24, Q4_K_M 1.35 -> 1.23,
# Q5_K_M 1.31 -> 1.23, Q6_K 0.96 -> 0.90, IQ4_NL 2.15 -> 2.00, Q8_0 0.54 -> 0.51, Q4_0 0.62 -> 0.59, nf4 0.75 -> 0.67.
# 1.1B BF16: NF4 + double quant 2.10 -> 2.08 s, Q4_K_M 5.16 -> 5.25, Q4_0 1.77 -> 1.79 (noise). Not for the other
# commands: generating with an 82M Q2_K GGUF then ran its row dots (BlockDots.lowBits) on allocated vectors in about half
# the runs (20-35 tokens/s instead of 200, 175-246 collections), as C2 compiled them before their call sites' type
# profiles were complete; with the default thresholds 0 of 14 runs did.
LOWBIT_QUANTIZE_JIT_FLAGS="-XX:Tier4MinInvocationThreshold=100 -XX:Tier4BackEdgeThreshold=160000"
if ! command -v mvn >/dev/null 2>&1; then
  echo "lowbit: Maven (mvn) not found. Install it, e.g. 'apt-get install maven'." >&2
  exit 2
fi
