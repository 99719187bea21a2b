package io.tinyptq.backend.cpu.kernels;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Preallocated buffers of the fast {@link Conv2d} paths for one geometry and a maximum batch, so that no kernel
 * call allocates: the zero-padded input, the packed weights, per-thread scratch (a chunk of the im2col-shaped
 * input gradient, packed input columns, an edge tile) and the
 * offsets that map GEMM rows and depth indices onto the padded NHWC input.
 *
 * <p><b>Why padded input and offsets instead of an im2col matrix.</b> Output pixel {@code m} reads, for each
 * kernel row {@code ky}, the {@code kW*Cin} contiguous values starting at
 * {@code pixelBase[m] + ky*Wp*Cin} of the padded input; the micro-kernel reads those runs directly
 * (see {@link MicroKernel}), so the forward pass never writes the {@code M x K} im2col matrix, which re-doing
 * on every call made a Java convolution 1.9-2.8x slower than oneDNN in the project's measurements. The weight gradient does
 * need the columns packed as the B operand; {@link #packColumns} packs them once for a constant input (the
 * reconstruction loop of AdaRound), otherwise each thread packs its chunk on the fly.
 *
 * <p>A workspace is used by one caller at a time (it is not thread-safe) and holds state between calls: the
 * input loaded by {@link #loadInput} is what {@link Conv2d#forwardLoaded} and
 * {@link Conv2d#backwardWeightLoaded} read.
 */
public final class ConvWorkspace {
    /** Output pixels per chunk of the input- and weight-gradient passes (keeps a chunk in L2). */
    static final int CHUNK = 256;

    final ConvShape shape;
    final int threads;
    final int paddedH;
    final int paddedW;
    final int depth;
    final int run;
    final int segStride;
    final int[] pixelBase;
    final int[] patchOffset;
    final boolean[] panelContiguous;
    /**
     * For panels that are not one contiguous run: per panel, its pieces that are (lanes
     * {@code [segLane, segLane+segLen)} read {@code segLen} contiguous input values from {@code pixelBase +
     * segSrc}), and whether lanes past the patch depth need zeros. Packing moves each piece with one masked vector
     * load and store instead of a scalar loop with an offset lookup per value (Cin = 3: K = 27, three runs of 9).
     */
    final int[][] segLane;

    final int[][] segLen;
    final int[][] segSrc;
    final boolean[] panelPadded;
    final float[] padded;
    final float[] paddedGrad;
    final float[] packedWeight;
    final float[] packedWeightT;
    final float[][] tile;
    final float[][] colChunk;
    final float[][] colPack;
    float[] input;
    int loadedBatch;
    float[] packedColumns;
    int packedColumnsBatch = -1;

    /**
     * Allocates the buffers for {@code shape} (its batch is the maximum batch) used by at most {@code threads}
     * threads.
     */
    public ConvWorkspace(ConvShape shape, int threads) {
        Checks.positive("threads", threads);
        this.shape = shape;
        this.threads = threads;
        this.paddedH = shape.paddedH();
        this.paddedW = shape.paddedW();
        this.depth = shape.patchSize();
        this.run = shape.kW() * shape.inC();
        this.segStride = paddedW * shape.inC();
        int pixels = shape.outputPixels();
        this.pixelBase = new int[pixels];
        int oh = shape.outH();
        int ow = shape.outW();
        for (int m = 0; m < pixels; m++) {
            int n = m / (oh * ow);
            int oy = m / ow % oh;
            int ox = m % ow;
            pixelBase[m] = ((n * paddedH + oy * shape.strideH()) * paddedW + ox * shape.strideW()) * shape.inC();
        }
        this.patchOffset = new int[depth];
        for (int p = 0; p < depth; p++) {
            patchOffset[p] = (p / run) * segStride + p % run;
        }
        int panels = MicroKernel.panels(depth);
        this.panelContiguous = new boolean[panels];
        for (int jp = 0; jp < panels; jp++) {
            int p0 = jp * MicroKernel.VL;
            int p1 = p0 + MicroKernel.VL - 1;
            panelContiguous[jp] = p1 < depth && p0 / run == p1 / run;
        }
        this.segLane = new int[panels][];
        this.segLen = new int[panels][];
        this.segSrc = new int[panels][];
        this.panelPadded = new boolean[panels];
        for (int jp = 0; jp < panels; jp++) {
            int p0 = jp * MicroKernel.VL;
            int lanes = Math.min(MicroKernel.VL, depth - p0);
            panelPadded[jp] = lanes < MicroKernel.VL;
            int[] lane = new int[lanes];
            int[] len = new int[lanes];
            int[] src = new int[lanes];
            int count = 0;
            for (int j = 0; j < lanes; j++) {
                int p = p0 + j;
                if (j == 0 || p % run == 0) {
                    lane[count] = j;
                    src[count] = patchOffset[p];
                    count++;
                }
                len[count - 1]++;
            }
            segLane[jp] = Arrays.copyOf(lane, count);
            segLen[jp] = Arrays.copyOf(len, count);
            segSrc[jp] = Arrays.copyOf(src, count);
        }
        int paddedSize = shape.batch() * paddedH * paddedW * shape.inC();
        this.padded = shape.needsNoPadding() ? null : new float[paddedSize];
        this.paddedGrad = shape.needsNoPadding() ? null : new float[paddedSize];
        this.packedWeight = new float[MicroKernel.packedSize(depth, shape.outC())];
        this.packedWeightT = new float[MicroKernel.packedSize(shape.outC(), depth)];
        this.tile = new float[threads][MicroKernel.TILE];
        this.colChunk = new float[threads][CHUNK * depth];
        this.colPack = new float[threads][CHUNK * panels * MicroKernel.VL];
    }

    /** The geometry (with the maximum batch) this workspace serves. */
    public ConvShape shape() {
        return shape;
    }

    /** Checks that {@code s} differs from this workspace's geometry at most by a smaller batch. */
    void check(ConvShape s, Parallel par) {
        if (!s.withBatch(shape.batch()).equals(shape) || s.batch() > shape.batch()) {
            throw new IllegalArgumentException("workspace for " + shape + " cannot run " + s);
        }
        if (par.threads() > threads) {
            throw new IllegalArgumentException("workspace for " + threads + " threads used with " + par.threads());
        }
    }

    /**
     * Copies the NHWC input {@code x} of {@code s.batch()} samples into the zero-padded buffer (or, when the
     * geometry needs no padding, keeps a reference to {@code x}) and invalidates packed columns.
     */
    public void loadInput(ConvShape s, float[] x, Parallel par) {
        check(s, par);
        Checks.length("conv input", x, s.inputSize(), s);
        packedColumnsBatch = -1;
        loadedBatch = s.batch();
        if (padded == null) {
            input = x;
            return;
        }
        input = padded;
        int c = s.inC();
        int h = s.inH();
        int w = s.inW();
        int rows = Math.min(h, paddedH - s.padTop());
        int cols = Math.min(w, paddedW - s.padLeft());
        // Only the interior is written, always at the same positions of each image slot, so the zero border
        // written at allocation stays zero and needs no refill (that was a 2.3 MB store per 32x32x16 batch).
        par.forRange(s.batch(), 4, (t, n0, n1) -> {
            for (int n = n0; n < n1; n++) {
                for (int iy = 0; iy < rows; iy++) {
                    System.arraycopy(
                            x,
                            ((n * h + iy) * w) * c,
                            padded,
                            ((n * paddedH + iy + s.padTop()) * paddedW + s.padLeft()) * c,
                            cols * c);
                }
            }
        });
    }

    /**
     * {@link #loadInput} of samples {@code rows[from..from+s.batch())} of {@code source} (whole inputs back to
     * back), fake-quantized per tensor on the way when {@code scale} is non-null ({@link FakeQuant}, one scale and
     * optional zero point): the rows go straight into the padded buffer, with no batch-sized copy in between.
     * Returns false, loading nothing, when this geometry needs no padded buffer (then the batch must be an array of
     * its own: use {@link #loadInput}).
     */
    public boolean loadInputRows(
            ConvShape s,
            float[] source,
            int[] rows,
            int from,
            float[] scale,
            float[] zero,
            float qmin,
            float qmax,
            Parallel par) {
        check(s, par);
        if (padded == null) {
            return false;
        }
        int c = s.inC();
        int h = s.inH();
        int w = s.inW();
        int sample = h * w * c;
        for (int i = 0; i < s.batch(); i++) {
            Checks.range("conv input sample " + rows[from + i], source, rows[from + i] * sample, sample);
        }
        packedColumnsBatch = -1;
        loadedBatch = s.batch();
        input = padded;
        int rowsIn = Math.min(h, paddedH - s.padTop());
        int cols = Math.min(w, paddedW - s.padLeft());
        // as in loadInput, the zero border is never written
        par.forRange(s.batch(), 4, (t, n0, n1) -> {
            for (int n = n0; n < n1; n++) {
                int src = rows[from + n] * sample;
                for (int iy = 0; iy < rowsIn; iy++) {
                    int so = src + iy * w * c;
                    int dOff = ((n * paddedH + iy + s.padTop()) * paddedW + s.padLeft()) * c;
                    if (scale == null) {
                        System.arraycopy(source, so, padded, dOff, cols * c);
                    } else {
                        FakeQuant.forward(
                                source, so, 1, 1, cols * c, scale, zero, qmin, qmax, padded, dOff, Parallel.serial());
                    }
                }
            }
        });
        return true;
    }

    /**
     * Packs the im2col columns of the loaded input once, as the B operand of the weight-gradient GEMM, so that
     * repeated {@link Conv2d#backwardWeightLoaded} calls on a constant input skip the per-call packing
     * (AdaRound's reconstruction loop). Allocates {@code outputPixels * ceil(K/VL)*VL} floats on the first
     * call. The packing is dropped by the next {@link #loadInput}.
     */
    public void packColumns(Parallel par) {
        if (input == null) {
            throw new IllegalStateException("no input loaded");
        }
        int pixels = shape.withBatch(loadedBatch).outputPixels();
        int kPadded = MicroKernel.panels(depth) * MicroKernel.VL;
        if (packedColumns == null) {
            packedColumns = new float[shape.outputPixels() * kPadded];
        }
        int chunks = (pixels + CHUNK - 1) / CHUNK;
        par.forRange(chunks, (t, c0, c1) -> {
            for (int ch = c0; ch < c1; ch++) {
                int m0 = ch * CHUNK;
                int len = Math.min(CHUNK, pixels - m0);
                packColumnChunk(m0, len, 0, MicroKernel.panels(depth), packedColumns, m0 * kPadded);
            }
        });
        packedColumnsBatch = loadedBatch;
    }

    /**
     * Packs im2col rows {@code [m0, m0+len)}, column panels {@code [j0, j1)} of the loaded input into
     * {@code dst}: panel {@code jp} at {@code dstOff + (jp-j0)*len*VL}, element {@code (r, j)} at
     * {@code + r*VL + j}.
     */
    void packColumnChunk(int m0, int len, int j0, int j1, float[] dst, int dstOff) {
        int vl = MicroKernel.VL;
        float[] in = input;
        for (int jp = j0; jp < j1; jp++) {
            int panel = dstOff + (jp - j0) * len * vl;
            int p0 = jp * vl;
            if (panelContiguous[jp]) {
                int off = patchOffset[p0];
                for (int r = 0; r < len; r++) {
                    // one vector move: System.arraycopy's call overhead dominates a 64-byte copy
                    FloatVector.fromArray(MicroKernel.S, in, pixelBase[m0 + r] + off)
                            .intoArray(dst, panel + r * vl);
                }
            } else {
                int[] lanes = segLane[jp];
                int[] lens = segLen[jp];
                int[] srcs = segSrc[jp];
                boolean padded = panelPadded[jp];
                FloatVector zero = FloatVector.zero(MicroKernel.S);
                for (int r = 0; r < len; r++) {
                    int base = pixelBase[m0 + r];
                    int d = panel + r * vl;
                    if (padded) {
                        zero.intoArray(dst, d);
                    }
                    for (int g = 0; g < lanes.length; g++) {
                        // lanes [a, a+n) of the panel row take the n values at base + src: load the vector that
                        // puts in[base + src] on lane a, keep only those lanes
                        int a = lanes[g];
                        // fromLong compiles to a mask-register move; indexInRange with a negative offset does not
                        VectorMask<Float> piece = VectorMask.fromLong(MicroKernel.S, ((1L << lens[g]) - 1) << a);
                        FloatVector.fromArray(MicroKernel.S, in, base + srcs[g] - a, piece)
                                .intoArray(dst, d, piece);
                    }
                }
            }
        }
    }
}
