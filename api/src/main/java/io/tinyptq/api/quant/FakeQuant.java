package io.tinyptq.api.quant;

/**
 * The reference definition of simulated quantization (Zhuo et al. 2022, Sec. 3.1).
 *
 * <p>Eq. 1: {@code q(x; s, z, b) = s * (clamp(round(x/s) + z, n, p) - z)}, where {@code round} is
 * round-half-to-even ({@link Math#rint}) and {@code [n, p]} is the b-bit {@link IntegerGrid}.
 *
 * <p>Eq. 2 turns a clipping range {@code [alpha, beta]} into parameters: {@code s = (beta - alpha) / (2^b - 1)},
 * {@code z = round(-alpha / s) + n}. The range is first widened to contain 0, so that zero (padding, ReLU
 * output) is exactly representable. For a symmetric quantizer {@code z = 0} and
 * {@code s = max(|alpha|, |beta|) / p}, so that {@code +max} lands on the top grid point.
 *
 * <p>These scalar methods are the oracle the fast kernels are tested against; they are not the hot path.
 */
public final class FakeQuant {
    /** Smallest scale produced from a degenerate (all-zero) range, keeping {@code x/s} finite. */
    public static final float MIN_SCALE = 1e-8f;

    private FakeQuant() {}

    /** Eq. 1. */
    public static float quantize(float x, float s, float z, IntegerGrid g) {
        float q = (float) Math.rint(x / s) + z;
        q = Math.min(Math.max(q, g.n()), g.p());
        return s * (q - z);
    }

    /** The integer code {@code clamp(round(x/s) + z, n, p)} of Eq. 1. */
    public static int code(float x, float s, float z, IntegerGrid g) {
        float q = (float) Math.rint(x / s) + z;
        return (int) Math.min(Math.max(q, g.n()), g.p());
    }

    /** Eq. 2 for an asymmetric quantizer; returns {@code {s, z}}. */
    public static float[] asymmetricFromRange(float alpha, float beta, IntegerGrid g) {
        float lo = Math.min(alpha, 0f);
        float hi = Math.max(beta, 0f);
        float s = Math.max((hi - lo) / g.levels(), MIN_SCALE);
        float z = (float) Math.rint(-lo / s) + g.n();
        z = Math.min(Math.max(z, g.n()), g.p());
        return new float[] {s, z};
    }

    /** Symmetric quantizer for the range {@code [-maxAbs, maxAbs]}: {@code s = maxAbs / p}, {@code z = 0}. */
    public static float symmetricScale(float maxAbs, IntegerGrid g) {
        return Math.max(Math.abs(maxAbs) / g.p(), MIN_SCALE);
    }

    /** Parameters for one channel from its clipping range, following the spec's symmetry. */
    public static float[] fromRange(float alpha, float beta, QuantizerSpec spec) {
        IntegerGrid g = spec.grid();
        if (spec.symmetry() == Symmetry.SYMMETRIC) {
            return new float[] {symmetricScale(Math.max(Math.abs(alpha), Math.abs(beta)), g), 0f};
        }
        return asymmetricFromRange(alpha, beta, g);
    }

    /**
     * Fake-quantizes {@code x} (row-major, shape {@code dims}) into {@code out}, with channel {@code c} of
     * {@code axis} using {@code params.scale(c)}, or one pair when per tensor.
     */
    public static void apply(float[] x, int[] dims, QuantizerSpec spec, QuantParams params, float[] out) {
        IntegerGrid g = spec.grid();
        if (spec.granularity() == Granularity.PER_TENSOR) {
            float s = params.scale(0);
            float z = params.zeroPoint(0);
            for (int i = 0; i < x.length; i++) {
                out[i] = quantize(x[i], s, z, g);
            }
            return;
        }
        int axis = spec.channelAxis();
        int inner = 1;
        for (int d = axis + 1; d < dims.length; d++) {
            inner *= dims[d];
        }
        int channels = dims[axis];
        for (int i = 0; i < x.length; i++) {
            int c = (i / inner) % channels;
            out[i] = quantize(x[i], params.scale(c), params.zeroPoint(c), g);
        }
    }
}
