package io.tinyptq.backend.cpu.kernels;

/**
 * Geometry of one sliding-window operation (convolution, depthwise convolution, pooling) over an NHWC batch
 * {@code [batch, inH, inW, inC]} producing {@code [batch, outH, outW, outC]}. One-dimensional operations use
 * {@code inH = outH = kH = strideH = 1} and {@code padTop = 0}.
 *
 * <p>Output position {@code (oy, ox)} reads input rows {@code oy*strideH + ky - padTop} and columns
 * {@code ox*strideW + kx - padLeft}; positions outside the input read zero (convolutions) or are skipped
 * (pooling). Only the leading padding is stored: the trailing padding is whatever the output size implies.
 *
 * <p><b>TensorFlow SAME padding</b> (see {@code io.tinyptq.api.model.Padding}): per axis
 * {@code out = ceil(in/s)}, {@code total = max((out-1)*s + k - in, 0)}, {@code before = total/2} and the odd
 * extra row/column goes to the bottom/right ({@code after = total - before}). {@link #same} computes exactly
 * that; {@link #valid} uses {@code out = (in-k)/s + 1} and no padding.
 *
 * @param batch   N
 * @param inH     input height
 * @param inW     input width
 * @param inC     input channels
 * @param outC    output channels (for depthwise: {@code inC * multiplier}; for pooling: {@code inC})
 * @param kH      window height
 * @param kW      window width
 * @param strideH vertical stride
 * @param strideW horizontal stride
 * @param padTop  zero rows before the first input row
 * @param padLeft zero columns before the first input column
 * @param outH    output height
 * @param outW    output width
 */
public record ConvShape(
        int batch,
        int inH,
        int inW,
        int inC,
        int outC,
        int kH,
        int kW,
        int strideH,
        int strideW,
        int padTop,
        int padLeft,
        int outH,
        int outW) {

    public ConvShape {
        if (batch < 1
                || inH < 1
                || inW < 1
                || inC < 1
                || outC < 1
                || kH < 1
                || kW < 1
                || strideH < 1
                || strideW < 1
                || outH < 1
                || outW < 1
                || padTop < 0
                || padLeft < 0) {
            throw new IllegalArgumentException("invalid window geometry "
                    + describe(batch, inH, inW, inC, outC, kH, kW, strideH, strideW, padTop, padLeft, outH, outW));
        }
        if ((outH - 1) * strideH - padTop >= inH || (outW - 1) * strideW - padLeft >= inW) {
            throw new IllegalArgumentException("output " + outH + "x" + outW + " reads past the input in "
                    + describe(batch, inH, inW, inC, outC, kH, kW, strideH, strideW, padTop, padLeft, outH, outW));
        }
    }

    /** TensorFlow SAME geometry (see the class comment). */
    public static ConvShape same(
            int batch, int inH, int inW, int inC, int outC, int kH, int kW, int strideH, int strideW) {
        int outH = sameOutput(inH, strideH);
        int outW = sameOutput(inW, strideW);
        return new ConvShape(
                batch,
                inH,
                inW,
                inC,
                outC,
                kH,
                kW,
                strideH,
                strideW,
                samePadBefore(inH, kH, strideH),
                samePadBefore(inW, kW, strideW),
                outH,
                outW);
    }

    /** VALID geometry: no padding, {@code out = (in - k)/s + 1}. */
    public static ConvShape valid(
            int batch, int inH, int inW, int inC, int outC, int kH, int kW, int strideH, int strideW) {
        if (kH > inH || kW > inW) {
            throw new IllegalArgumentException(
                    "VALID window " + kH + "x" + kW + " larger than input " + inH + "x" + inW);
        }
        return new ConvShape(
                batch,
                inH,
                inW,
                inC,
                outC,
                kH,
                kW,
                strideH,
                strideW,
                0,
                0,
                (inH - kH) / strideH + 1,
                (inW - kW) / strideW + 1);
    }

    /** Explicit padding amounts on all four sides. */
    public static ConvShape explicit(
            int batch,
            int inH,
            int inW,
            int inC,
            int outC,
            int kH,
            int kW,
            int strideH,
            int strideW,
            int padTop,
            int padBottom,
            int padLeft,
            int padRight) {
        return new ConvShape(
                batch,
                inH,
                inW,
                inC,
                outC,
                kH,
                kW,
                strideH,
                strideW,
                padTop,
                padLeft,
                (inH + padTop + padBottom - kH) / strideH + 1,
                (inW + padLeft + padRight - kW) / strideW + 1);
    }

    /** One-dimensional geometry over {@code [batch, inW, inC]} with SAME or VALID padding. */
    public static ConvShape conv1d(int batch, int inW, int inC, int outC, int k, int stride, boolean same) {
        return same
                ? same(batch, 1, inW, inC, outC, 1, k, 1, stride)
                : valid(batch, 1, inW, inC, outC, 1, k, 1, stride);
    }

    /** SAME output length: {@code ceil(in / stride)}. */
    public static int sameOutput(int in, int stride) {
        return (in + stride - 1) / stride;
    }

    /** SAME leading padding: {@code max((ceil(in/s)-1)*s + k - in, 0) / 2}; the odd extra goes after. */
    public static int samePadBefore(int in, int k, int stride) {
        return Math.max((sameOutput(in, stride) - 1) * stride + k - in, 0) / 2;
    }

    /** Rows of the zero-padded input the windows touch: {@code (outH-1)*strideH + kH}. */
    public int paddedH() {
        return (outH - 1) * strideH + kH;
    }

    /** Columns of the zero-padded input the windows touch: {@code (outW-1)*strideW + kW}. */
    public int paddedW() {
        return (outW - 1) * strideW + kW;
    }

    /** Elements of the input batch. */
    public int inputSize() {
        return batch * inH * inW * inC;
    }

    /** Elements of the output batch. */
    public int outputSize() {
        return batch * outH * outW * outC;
    }

    /** Output pixels of the batch: the M dimension of the convolution GEMM. */
    public int outputPixels() {
        return batch * outH * outW;
    }

    /** Length of one im2col row, {@code kH*kW*inC}: the reduction (K) dimension of the convolution GEMM. */
    public int patchSize() {
        return kH * kW * inC;
    }

    /** Channel multiplier of a depthwise convolution ({@code outC / inC}). */
    public int multiplier() {
        if (outC % inC != 0) {
            throw new IllegalArgumentException(
                    "depthwise output channels " + outC + " are not a multiple of input channels " + inC);
        }
        return outC / inC;
    }

    /** True when the padded input equals the input (no padding and no unused trailing rows/columns). */
    boolean needsNoPadding() {
        return padTop == 0 && padLeft == 0 && paddedH() == inH && paddedW() == inW;
    }

    /** A copy with another batch size (workspaces are sized for a maximum batch). */
    public ConvShape withBatch(int n) {
        return new ConvShape(n, inH, inW, inC, outC, kH, kW, strideH, strideW, padTop, padLeft, outH, outW);
    }

    @Override
    public String toString() {
        return describe(batch, inH, inW, inC, outC, kH, kW, strideH, strideW, padTop, padLeft, outH, outW);
    }

    private static String describe(
            int batch,
            int inH,
            int inW,
            int inC,
            int outC,
            int kH,
            int kW,
            int strideH,
            int strideW,
            int padTop,
            int padLeft,
            int outH,
            int outW) {
        return "[" + batch + "," + inH + "," + inW + "," + inC + "] -> [" + batch + "," + outH + "," + outW + ","
                + outC + "] window " + kH + "x" + kW + " stride " + strideH + "x" + strideW + " pad top/left "
                + padTop + "/" + padLeft;
    }
}
