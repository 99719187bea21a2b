package io.tinyptq.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Fake quantization, Eq. 1 of Zhuo et al. 2022 ("An empirical study of low precision quantization for TinyML"):
 * <pre>
 *   q(x; s, z, b) = s * (clamp(rint(x/s) + z, n, p) - z)
 * </pre>
 * with round-half-to-even ({@link Math#rint}) and the integer grid {@code [n, p]} = {@code [-2^(b-1), 2^(b-1)-1]}
 * (signed) or {@code [0, 2^b - 1]} (unsigned), see {@link #gridMin}/{@link #gridMax}.
 *
 * <p><b>Granularity.</b> A tensor is viewed as {@code [outer, channels, inner]} row-major; element {@code i} uses
 * {@code scale[c]}, {@code zero[c]} with {@code c = (i / inner) % channels}. Per-tensor: {@code channels = 1}.
 * Per-channel along axis {@code a} of a tensor of shape {@code d}: {@code outer = d_0...d_(a-1)},
 * {@code channels = d_a}, {@code inner = d_(a+1)...}; e.g. NHWC activations {@code (N*H*W, C, 1)}, conv
 * weights {@code [Cout,kH,kW,Cin]} {@code (1, Cout, kH*kW*Cin)}, depthwise weights {@code (kH*kW, C*m, 1)}.
 *
 * <p><b>Gradients</b> (LSQ, Esser et al. 2020, "Learned Step Size Quantization"; the zero point as in LSQ+).
 * Write {@code v = x/s}, {@code r = rint(v)}, {@code u = r + z}. Rounding is treated as the identity in the
 * derivative (straight-through estimator), so {@code dr/dv = 1}, while its value is kept:
 * <ul>
 *   <li>Inside the grid ({@code n <= u <= p}): {@code q = s*(r + z - z) = s*r}. Then
 *       {@code dq/dx = s * (1/s) = 1};
 *       {@code dq/ds = r + s * dr/ds = r + s * (-x/s^2) = r - v} ("round(x/s) - x/s");
 *       {@code dq/dz = s*(1 - 1) = 0}.</li>
 *   <li>Clamped below ({@code u < n}): {@code q = s*(n - z)}, so {@code dq/dx = 0}, {@code dq/ds = n - z},
 *       {@code dq/dz = -s}.</li>
 *   <li>Clamped above ({@code u > p}): {@code q = s*(p - z)}, so {@code dq/dx = 0}, {@code dq/ds = p - z},
 *       {@code dq/dz = -s}.</li>
 * </ul>
 * The scale and zero-point gradients are multiplied by LSQ's gradient scale {@code g} ({@link #lsqGradScale}:
 * {@code 1/sqrt(numel * p)} with {@code numel} the elements sharing the scale; pass {@code 1} to disable) and
 * summed over the elements of each channel. Backward methods add into {@code dx}, {@code dScale}, {@code dZero}.
 *
 * <p><b>Fast path.</b> Vector API; {@code rint} is computed as {@code (v + 1.5*2^23) - 1.5*2^23} after clamping
 * {@code v} to {@code [-2^22, 2^22]}: adding {@code 1.5*2^23} leaves no fraction bits, so IEEE round-to-nearest-even
 * performs exactly {@code rint} for {@code |v| <= 2^22}; beyond that the grid clamp (|p| &lt;= 2^16 for b &lt;= 16)
 * gives the same result. The fast forward is therefore bit-identical to the reference.
 */
public final class FakeQuant {
    private static final float MAGIC = 12582912f; // 1.5 * 2^23
    private static final float LIMIT = 4194304f; // 2^22

    private FakeQuant() {}

    /** Lowest grid value: {@code -2^(bits-1)} signed, {@code 0} unsigned. */
    public static float gridMin(int bits, boolean signed) {
        checkBits(bits);
        return signed ? -(float) (1L << (bits - 1)) : 0f;
    }

    /** Highest grid value: {@code 2^(bits-1) - 1} signed, {@code 2^bits - 1} unsigned. */
    public static float gridMax(int bits, boolean signed) {
        checkBits(bits);
        return signed ? (float) ((1L << (bits - 1)) - 1) : (float) ((1L << bits) - 1);
    }

    /** LSQ's gradient scale {@code g = 1/sqrt(numel * p)} for {@code numel} elements sharing one scale. */
    public static float lsqGradScale(long numel, float gridMax) {
        if (numel < 1 || !(gridMax > 0)) {
            throw new IllegalArgumentException(
                    "LSQ gradient scale needs numel >= 1 and p > 0, got " + numel + ", " + gridMax);
        }
        return (float) (1 / Math.sqrt(numel * (double) gridMax));
    }

    /** Reference forward {@code y = q(x)} over {@code outer*channels*inner} elements. */
    public static void forwardReference(
            float[] x,
            int xOff,
            int outer,
            int channels,
            int inner,
            float[] scale,
            float[] zero,
            float qmin,
            float qmax,
            float[] y,
            int yOff) {
        int len = check(x, xOff, outer, channels, inner, scale, zero, qmin, qmax);
        Checks.range("fake-quant output", y, yOff, len);
        for (int i = 0; i < len; i++) {
            int c = (i / inner) % channels;
            float s = scale[c];
            float z = zero == null ? 0f : zero[c];
            float u = (float) Math.rint(x[xOff + i] / s) + z;
            y[yOff + i] = s * (Math.min(Math.max(u, qmin), qmax) - z);
        }
    }

    /**
     * Reference backward (see the class comment): adds the straight-through input gradient into {@code dx} and,
     * when non-null, {@code gradScale}-scaled LSQ gradients into {@code dScale[c]} and {@code dZero[c]}.
     */
    public static void backwardReference(
            float[] x,
            int xOff,
            float[] dy,
            int dyOff,
            int outer,
            int channels,
            int inner,
            float[] scale,
            float[] zero,
            float qmin,
            float qmax,
            float gradScale,
            float[] dx,
            int dxOff,
            float[] dScale,
            float[] dZero) {
        int len = check(x, xOff, outer, channels, inner, scale, zero, qmin, qmax);
        Checks.range("fake-quant output gradient", dy, dyOff, len);
        if (dx != null) {
            Checks.range("fake-quant input gradient", dx, dxOff, len);
        }
        checkParamGrad(dScale, dZero, channels);
        for (int i = 0; i < len; i++) {
            int c = (i / inner) % channels;
            float s = scale[c];
            float z = zero == null ? 0f : zero[c];
            float v = x[xOff + i] / s;
            float r = (float) Math.rint(v);
            float u = r + z;
            float g = dy[dyOff + i];
            if (u < qmin) {
                if (dScale != null) {
                    dScale[c] += gradScale * g * (qmin - z);
                }
                if (dZero != null) {
                    dZero[c] -= gradScale * g * s;
                }
            } else if (u > qmax) {
                if (dScale != null) {
                    dScale[c] += gradScale * g * (qmax - z);
                }
                if (dZero != null) {
                    dZero[c] -= gradScale * g * s;
                }
            } else {
                if (dx != null) {
                    dx[dxOff + i] += g;
                }
                if (dScale != null) {
                    dScale[c] += gradScale * g * (r - v);
                }
            }
        }
    }

    /** Fast forward; threads split the elements. Bit-identical to {@link #forwardReference}. */
    public static void forward(
            float[] x,
            int xOff,
            int outer,
            int channels,
            int inner,
            float[] scale,
            float[] zero,
            float qmin,
            float qmax,
            float[] y,
            int yOff,
            Parallel par) {
        int len = check(x, xOff, outer, channels, inner, scale, zero, qmin, qmax);
        Checks.range("fake-quant output", y, yOff, len);
        int vl = MicroKernel.VL;
        if (inner == 1 && channels >= vl) {
            // per-channel along the last axis: scales vary along the lanes
            par.forRange(outer, Math.max(1, Elementwise.PARALLEL_THRESHOLD / channels), (t, o0, o1) -> {
                for (int o = o0; o < o1; o++) {
                    int base = o * channels;
                    for (int c0 = 0; c0 < channels; c0 += vl) {
                        VectorMask<Float> m = MicroKernel.S.indexInRange(c0, channels);
                        FloatVector s = FloatVector.fromArray(MicroKernel.S, scale, c0, m);
                        FloatVector z = zero == null
                                ? FloatVector.zero(MicroKernel.S)
                                : FloatVector.fromArray(MicroKernel.S, zero, c0, m);
                        FloatVector xv = FloatVector.fromArray(MicroKernel.S, x, xOff + base + c0, m);
                        FloatVector u = rint(xv.div(s, m)).add(z).max(qmin).min(qmax);
                        u.sub(z).mul(s).intoArray(y, yOff + base + c0, m);
                    }
                }
            });
            return;
        }
        par.forRange(len, Elementwise.PARALLEL_THRESHOLD, (t, from, to) -> {
            int i = from;
            while (i < to) {
                int c = (i / inner) % channels;
                int end = Math.min(to, (i / inner + 1) * inner);
                float s = scale[c];
                float z = zero == null ? 0f : zero[c];
                for (; i <= end - vl; i += vl) {
                    FloatVector u = rint(FloatVector.fromArray(MicroKernel.S, x, xOff + i)
                                    .div(s))
                            .add(z)
                            .max(qmin)
                            .min(qmax);
                    u.sub(z).mul(s).intoArray(y, yOff + i);
                }
                for (; i < end; i++) {
                    float u = (float) Math.rint(x[xOff + i] / s) + z;
                    y[yOff + i] = s * (Math.min(Math.max(u, qmin), qmax) - z);
                }
            }
        });
    }

    /**
     * Fast backward, vectorized along runs of elements sharing a scale. One thread: the scale and zero-point
     * gradients are reductions, and on the activation sizes of tinyML networks the element-wise work is small
     * next to the convolutions around it. Sums are accumulated lane-wise, so they match the reference up to
     * float summation order.
     */
    public static void backward(
            float[] x,
            int xOff,
            float[] dy,
            int dyOff,
            int outer,
            int channels,
            int inner,
            float[] scale,
            float[] zero,
            float qmin,
            float qmax,
            float gradScale,
            float[] dx,
            int dxOff,
            float[] dScale,
            float[] dZero) {
        if (inner == 1 && channels > 1) {
            backwardReference(
                    x, xOff, dy, dyOff, outer, channels, inner, scale, zero, qmin, qmax, gradScale, dx, dxOff, dScale,
                    dZero);
            return;
        }
        int len = check(x, xOff, outer, channels, inner, scale, zero, qmin, qmax);
        Checks.range("fake-quant output gradient", dy, dyOff, len);
        if (dx != null) {
            Checks.range("fake-quant input gradient", dx, dxOff, len);
        }
        checkParamGrad(dScale, dZero, channels);
        int vl = MicroKernel.VL;
        for (int row = 0; row < outer * channels; row++) {
            int c = row % channels;
            float s = scale[c];
            float z = zero == null ? 0f : zero[c];
            float lowSlope = qmin - z;
            float highSlope = qmax - z;
            FloatVector sAcc = FloatVector.zero(MicroKernel.S);
            FloatVector zAcc = FloatVector.zero(MicroKernel.S);
            int i = row * inner;
            int end = i + inner;
            for (; i <= end - vl; i += vl) {
                FloatVector v =
                        FloatVector.fromArray(MicroKernel.S, x, xOff + i).div(s);
                FloatVector r = rint(v);
                FloatVector u = r.add(z);
                FloatVector g = FloatVector.fromArray(MicroKernel.S, dy, dyOff + i);
                VectorMask<Float> low = u.compare(VectorOperators.LT, qmin);
                VectorMask<Float> high = u.compare(VectorOperators.GT, qmax);
                VectorMask<Float> inside = low.or(high).not();
                if (dx != null) {
                    FloatVector.fromArray(MicroKernel.S, dx, dxOff + i)
                            .add(g, inside)
                            .intoArray(dx, dxOff + i);
                }
                FloatVector slope = r.sub(v).blend(lowSlope, low).blend(highSlope, high);
                sAcc = g.fma(slope, sAcc);
                zAcc = zAcc.add(g.neg(), inside.not());
            }
            float sSum = VectorMath.sumLanes(sAcc);
            float zSum = VectorMath.sumLanes(zAcc) * s;
            for (; i < end; i++) {
                float v = x[xOff + i] / s;
                float r = (float) Math.rint(v);
                float u = r + z;
                float g = dy[dyOff + i];
                if (u < qmin) {
                    sSum += g * lowSlope;
                    zSum -= g * s;
                } else if (u > qmax) {
                    sSum += g * highSlope;
                    zSum -= g * s;
                } else {
                    if (dx != null) {
                        dx[dxOff + i] += g;
                    }
                    sSum += g * (r - v);
                }
            }
            if (dScale != null) {
                dScale[c] += gradScale * sSum;
            }
            if (dZero != null) {
                dZero[c] += gradScale * zSum;
            }
        }
    }

    /** {@code rint} for lanes (see the class comment). */
    static FloatVector rint(FloatVector v) {
        return v.max(-LIMIT).min(LIMIT).add(MAGIC).sub(MAGIC);
    }

    private static int check(
            float[] x,
            int xOff,
            int outer,
            int channels,
            int inner,
            float[] scale,
            float[] zero,
            float qmin,
            float qmax) {
        Checks.positive("fake-quant dimensions [outer, channels, inner]", outer, channels, inner);
        long len = (long) outer * channels * inner;
        if (len > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("fake-quant tensor too large: " + len);
        }
        Checks.range("fake-quant input [" + outer + "," + channels + "," + inner + "]", x, xOff, (int) len);
        Checks.length("scale [channels]", scale, channels, channels);
        if (zero != null) {
            Checks.length("zero point [channels]", zero, channels, channels);
        }
        if (!(qmin < qmax)) {
            throw new IllegalArgumentException("grid [" + qmin + ", " + qmax + "] is empty");
        }
        for (int c = 0; c < channels; c++) {
            if (!(scale[c] > 0) || Float.isInfinite(scale[c])) {
                throw new IllegalArgumentException("scale[" + c + "] = " + scale[c] + " must be positive and finite");
            }
        }
        return (int) len;
    }

    private static void checkParamGrad(float[] dScale, float[] dZero, int channels) {
        if (dScale != null) {
            Checks.length("scale gradient [channels]", dScale, channels, channels);
        }
        if (dZero != null) {
            Checks.length("zero-point gradient [channels]", dZero, channels, channels);
        }
    }

    private static void checkBits(int bits) {
        if (bits < 2 || bits > 16) {
            throw new IllegalArgumentException("bit width must be in [2, 16], got " + bits);
        }
    }
}
