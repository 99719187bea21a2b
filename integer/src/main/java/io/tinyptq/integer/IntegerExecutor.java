package io.tinyptq.integer;

import io.tinyptq.api.InvalidModelException;
import io.tinyptq.api.integer.ElementType;
import io.tinyptq.api.integer.FixedPoint;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.KernelParams;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.spi.ModelExecutor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An {@link IntegerModel} compiled for the reference integer kernels: every op's fixed-point parameters are
 * derived once, as TFLite's Prepare functions derive them, and every tensor gets one per-sample {@code int[]}
 * buffer; {@link #forward} then runs the samples one after the other.
 */
final class IntegerExecutor implements ModelExecutor {
    private interface Step {
        void run();
    }

    private final IntegerModel model;
    private final int maxBatch;
    private final String input;
    private final TensorQuant inputQuant;
    private final String output;
    private final TensorQuant outputQuant;
    private final Map<String, int[]> buffers = new LinkedHashMap<>();
    private final List<Step> steps = new ArrayList<>();
    private final List<String> stepOutputs = new ArrayList<>();
    private final float[] scratch;
    private final boolean softmaxTable;
    private final boolean xnnpack;
    private final FixedPoint.Rounding rounding;

    /**
     * @param softmaxTable int8 softmax through the float lookup table rather than the fixed-point reference kernel
     * @param arithmetic TFLite's fixed point, rounding twice or once, or XNNPACK's arithmetic ({@link
     *     XnnpackArithmetic}) for convolutions, fully-connected layers, ADD and MEAN
     */
    IntegerExecutor(
            IntegerModel model, int maxBatch, boolean softmaxTable, ReferenceIntegerRuntime.Arithmetic arithmetic) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        }
        this.model = model;
        this.maxBatch = maxBatch;
        this.softmaxTable = softmaxTable;
        this.xnnpack = arithmetic == ReferenceIntegerRuntime.Arithmetic.XNNPACK;
        this.rounding = arithmetic == ReferenceIntegerRuntime.Arithmetic.TFLITE_SINGLE_ROUNDING
                ? FixedPoint.Rounding.SINGLE
                : FixedPoint.Rounding.DOUBLE;
        Model g = model.graph();
        if (g.inputs().size() != 1) {
            throw new InvalidModelException("integer model '" + g.name() + "': the reference runtime runs models"
                    + " with one input, this one has " + g.inputs().size());
        }
        this.input = g.inputs().keySet().iterator().next();
        this.output = g.outputs().get(0);
        int largest = 1;
        for (Map.Entry<String, Shape> e : g.activationShapes().entrySet()) {
            buffers.put(e.getKey(), new int[e.getValue().size()]);
            largest = Math.max(largest, e.getValue().size());
        }
        this.scratch = new float[largest];
        this.inputQuant = activationQuant(input);
        this.outputQuant = activationQuant(output);
        for (Op op : g.ops()) {
            steps.add(compile(op));
            stepOutputs.add(op.output());
        }
    }

    private TensorQuant activationQuant(String tensor) {
        TensorQuant q = model.integerQuant(tensor);
        if (q == null || q.type() != ElementType.INT8 || q.perChannel()) {
            throw new InvalidModelException("integer model '" + model.graph().name() + "': tensor '" + tensor
                    + "' must be int8 quantized per tensor for the reference runtime, it is " + q);
        }
        return q;
    }

    private String where(Op op) {
        return "integer model '" + model.graph().name() + "', layer '" + op.name() + "' (" + op.type() + ")";
    }

    private Step compile(Op op) {
        return switch (op) {
            case Op.Conv2D c -> {
                Shape in = model.graph().shape(c.input());
                Shape w = model.graph().constant(c.weight()).shape();
                yield convolution(
                        c,
                        in.dim(0),
                        in.dim(1),
                        in.dim(2),
                        w.dim(1),
                        w.dim(2),
                        c.strideH(),
                        c.strideW(),
                        c.padding(),
                        true,
                        w.dim(0));
            }
            case Op.Conv1D c -> {
                Shape in = model.graph().shape(c.input());
                Shape w = model.graph().constant(c.weight()).shape();
                yield convolution(c, 1, in.dim(0), in.dim(1), 1, w.dim(1), 1, c.stride(), c.padding(), false, w.dim(0));
            }
            case Op.DepthwiseConv2D d -> depthwise(d);
            case Op.FullyConnected f -> fullyConnected(f);
            case Op.Add a -> add(a);
            case Op.Act a -> act(a);
            case Op.Pool p -> pool(p);
            case Op.Mean m -> mean(m);
            case Op.Reshape r -> reshape(r);
            case Op.Pad p -> pad(p);
            case Op.Softmax s -> softmax(s);
            case Op.BatchNorm b ->
                throw new InvalidModelException(
                        where(b) + ": integer models have no BatchNorm (fold it into the preceding layer)");
        };
    }

    /** The fused activation's clamp within the output's value range (its type's, or narrower: {@link TensorQuant}). */
    private int[] range(Activation act, TensorQuant out) {
        return FixedPoint.activationRange(act, out.scale(0), out.zeroPoint(0), out.qmin(), out.qmax());
    }

    /** The fused activation's clamp of a layer XNNPACK computes in its arithmetic, TFLite's otherwise. */
    private int[] layerRange(Activation act, TensorQuant out) {
        if (!xnnpack) {
            return range(act, out);
        }
        int[] r = XnnpackArithmetic.activationRange(act, out.scale(0), out.zeroPoint(0));
        return new int[] {Math.max(r[0], out.qmin()), Math.min(r[1], out.qmax())};
    }

    /**
     * How a convolution or fully-connected layer requantizes its accumulators: TFLite's per-channel fixed-point
     * multipliers, or XNNPACK's per-channel float scales.
     */
    private IntegerKernels.Requantization requantization(Op.Layer layer, TensorQuant iq, TensorQuant oq, int channels) {
        TensorQuant wq = model.quant(layer.weight());
        int[] r = layerRange(layer.activation(), oq);
        if (xnnpack) {
            float[] scale = new float[channels];
            for (int c = 0; c < channels; c++) {
                scale[c] = XnnpackArithmetic.requantizationScale(
                        iq.scale(0), wq.scale(wq.perChannel() ? c : 0), oq.scale(0));
            }
            return new IntegerKernels.Requantization(null, null, null, scale, oq.zeroPoint(0), r[0], r[1]);
        }
        int[] mult = new int[channels];
        int[] shift = new int[channels];
        KernelParams.convolution(iq.scale(0), wq, oq.scale(0), mult, shift);
        return new IntegerKernels.Requantization(mult, shift, rounding, null, oq.zeroPoint(0), r[0], r[1]);
    }

    /** Weight integers minus their zero point, after checking type and per-channel layout. */
    private int[] weights(Op.Layer layer, int channels, boolean symmetric) {
        TensorQuant wq = model.quant(layer.weight());
        if (wq.type() != ElementType.INT8 && wq.type() != ElementType.INT4) {
            throw new InvalidModelException(where(layer) + ": weights must be int8 or int4, they are " + wq.type());
        }
        if (wq.perChannel() && wq.scale().length != channels) {
            throw new InvalidModelException(
                    where(layer) + ": " + wq.scale().length + " weight scales for " + channels + " output channels");
        }
        int[] v = model.values(layer.weight()).clone();
        int size = v.length / channels;
        for (int i = 0; i < v.length; i++) {
            int c = layer instanceof Op.DepthwiseConv2D ? i % channels : i / size;
            int zp = wq.zeroPoint(c);
            if (symmetric && zp != 0) {
                throw new InvalidModelException(where(layer) + ": weights must be symmetric (zero point 0), channel "
                        + c + " has zero point " + zp);
            }
            v[i] -= zp;
        }
        return v;
    }

    private int[] bias(Op.Layer layer, int channels) {
        if (layer.bias() == null) {
            return null;
        }
        TensorQuant bq = model.quant(layer.bias());
        if (bq.type() != ElementType.INT32) {
            throw new InvalidModelException(where(layer) + ": bias must be int32, it is " + bq.type());
        }
        int[] b = model.values(layer.bias());
        if (b.length != channels) {
            throw new InvalidModelException(where(layer) + ": " + b.length + " biases for " + channels + " channels");
        }
        return b.clone();
    }

    private Step convolution(
            Op.Layer layer,
            int h,
            int w,
            int cin,
            int kh,
            int kw,
            int sh,
            int sw,
            Padding padding,
            boolean twoD,
            int cout) {
        TensorQuant iq = activationQuant(layer.input());
        TensorQuant oq = activationQuant(layer.output());
        Shape outShape = model.graph().shape(layer.output());
        int oh = twoD ? outShape.dim(0) : 1;
        int ow = twoD ? outShape.dim(1) : outShape.dim(0);
        int padT = twoD ? padding.before(h, kh, sh, true) : 0;
        int padL = padding.before(w, kw, sw, false);
        int ph = (oh - 1) * sh + kh;
        int pw = (ow - 1) * sw + kw;
        int[] wv = weights(layer, cout, true);
        int[] bv = bias(layer, cout);
        IntegerKernels.Requantization rq = requantization(layer, iq, oq, cout);
        int[] in = buffers.get(layer.input());
        int[] out = buffers.get(layer.output());
        int[] padded = new int[ph * pw * cin];
        int zi = iq.zeroPoint(0);
        return () -> {
            IntegerKernels.padSubtract(in, h, w, cin, zi, padded, ph, pw, padT, padL);
            IntegerKernels.conv2d(padded, pw, cin, wv, bv, kh, kw, sh, sw, oh, ow, cout, rq, out);
        };
    }

    private Step depthwise(Op.DepthwiseConv2D d) {
        Shape in = model.graph().shape(d.input());
        Shape ws = model.graph().constant(d.weight()).shape();
        Shape os = model.graph().shape(d.output());
        int h = in.dim(0);
        int w = in.dim(1);
        int cin = in.dim(2);
        int kh = ws.dim(0);
        int kw = ws.dim(1);
        int cout = ws.dim(2);
        int oh = os.dim(0);
        int ow = os.dim(1);
        int padT = d.padding().before(h, kh, d.strideH(), true);
        int padL = d.padding().before(w, kw, d.strideW(), false);
        int ph = (oh - 1) * d.strideH() + kh;
        int pw = (ow - 1) * d.strideW() + kw;
        TensorQuant iq = activationQuant(d.input());
        TensorQuant oq = activationQuant(d.output());
        int[] wv = weights(d, cout, true);
        int[] bv = bias(d, cout);
        IntegerKernels.Requantization rq = requantization(d, iq, oq, cout);
        int[] src = buffers.get(d.input());
        int[] out = buffers.get(d.output());
        int[] padded = new int[ph * pw * cin];
        int[] acc = new int[cout];
        int zi = iq.zeroPoint(0);
        int m = d.multiplier();
        int sh = d.strideH();
        int sw = d.strideW();
        return () -> {
            IntegerKernels.padSubtract(src, h, w, cin, zi, padded, ph, pw, padT, padL);
            IntegerKernels.depthwise(padded, pw, cin, m, wv, bv, kh, kw, sh, sw, oh, ow, rq, acc, out);
        };
    }

    private Step fullyConnected(Op.FullyConnected f) {
        Shape ws = model.graph().constant(f.weight()).shape();
        int outs = ws.dim(0);
        int n = ws.dim(1);
        TensorQuant iq = activationQuant(f.input());
        TensorQuant oq = activationQuant(f.output());
        int[] wv = weights(f, outs, false);
        int[] bv = bias(f, outs);
        // per tensor, GetQuantizedConvolutionMultipler computes the same (double) in * (double) w / (double) out
        IntegerKernels.Requantization rq = requantization(f, iq, oq, outs);
        int[] in = buffers.get(f.input());
        int[] out = buffers.get(f.output());
        int[] x = new int[n];
        int zi = iq.zeroPoint(0);
        return () -> IntegerKernels.fullyConnected(in, n, zi, x, wv, bv, outs, rq, out);
    }

    private Step add(Op.Add a) {
        TensorQuant q1 = activationQuant(a.a());
        TensorQuant q2 = activationQuant(a.b());
        TensorQuant oq = activationQuant(a.output());
        int[] x = buffers.get(a.a());
        int[] y = buffers.get(a.b());
        int[] out = buffers.get(a.output());
        int n = out.length;
        if (xnnpack) {
            int[] r = layerRange(a.activation(), oq);
            XnnpackArithmetic.AddParams p = XnnpackArithmetic.AddParams.of(
                    q1.scale(0),
                    q1.zeroPoint(0),
                    q2.scale(0),
                    q2.zeroPoint(0),
                    oq.scale(0),
                    oq.zeroPoint(0),
                    r[0],
                    r[1]);
            return () -> XnnpackArithmetic.add(x, y, n, p, out);
        }
        int[] r = range(a.activation(), oq);
        KernelParams.Add p = KernelParams.Add.of(q1, q2, oq, r[0], r[1]);
        return () -> IntegerKernels.add(rounding, x, y, n, p, out);
    }

    private Step act(Op.Act a) {
        KernelParams.ReluX p =
                KernelParams.ReluX.of(a.activation(), activationQuant(a.input()), activationQuant(a.output()));
        int[] in = buffers.get(a.input());
        int[] out = buffers.get(a.output());
        int n = out.length;
        return () -> IntegerKernels.reluX(
                rounding, in, n, p.inputZero(), p.multiplier(), p.shift(), p.outputZero(), p.lo(), p.hi(), out);
    }

    private void requireSameQuant(Op op, String in, String out) {
        TensorQuant iq = activationQuant(in);
        TensorQuant oq = activationQuant(out);
        if (iq.scale(0) != oq.scale(0) || iq.zeroPoint(0) != oq.zeroPoint(0)) {
            throw new InvalidModelException(where(op) + ": TFLite's int8 kernel keeps the input quantization, but"
                    + " input " + in + " has " + iq + " and output " + out + " has " + oq);
        }
    }

    private Step pool(Op.Pool p) {
        requireSameQuant(p, p.input(), p.output());
        KernelParams.Pool g = KernelParams.Pool.of(
                p, model.graph().shape(p.input()), model.graph().shape(p.output()));
        int[] r = range(p.activation(), activationQuant(p.output()));
        int[] src = buffers.get(p.input());
        int[] out = buffers.get(p.output());
        boolean average = p.kind() == Op.PoolKind.AVG;
        return () -> IntegerKernels.pool(
                average,
                src,
                g.h(),
                g.w(),
                g.c(),
                g.kh(),
                g.kw(),
                g.strideH(),
                g.strideW(),
                g.padTop(),
                g.padLeft(),
                g.outH(),
                g.outW(),
                r[0],
                r[1],
                out);
    }

    private Step mean(Op.Mean m) {
        TensorQuant iq = activationQuant(m.input());
        TensorQuant oq = activationQuant(m.output());
        Shape in = model.graph().shape(m.input());
        int c = in.dim(-1);
        int spatial = in.size() / c;
        FixedPoint.Multiplier mm = KernelParams.mean(iq.scale(0), oq.scale(0), spatial);
        int[] src = buffers.get(m.input());
        int[] out = buffers.get(m.output());
        int[] sum = new int[c];
        int qmin = oq.qmin();
        int qmax = oq.qmax();
        int zi = iq.zeroPoint(0);
        int zo = oq.zeroPoint(0);
        if (xnnpack) {
            float scale = XnnpackArithmetic.meanScale(iq.scale(0), oq.scale(0), spatial);
            return () -> XnnpackArithmetic.mean(src, spatial, c, zi, scale, zo, qmin, qmax, sum, out);
        }
        return () -> IntegerKernels.mean(rounding, src, spatial, c, zi, mm, zo, qmin, qmax, sum, out);
    }

    private Step reshape(Op.Reshape r) {
        requireSameQuant(r, r.input(), r.output());
        int[] src = buffers.get(r.input());
        int[] out = buffers.get(r.output());
        return () -> System.arraycopy(src, 0, out, 0, out.length);
    }

    private Step pad(Op.Pad p) {
        requireSameQuant(p, p.input(), p.output());
        int[] inDims = model.graph().shape(p.input()).dims();
        int[] outDims = model.graph().shape(p.output()).dims();
        int[] before = p.before();
        int fill = activationQuant(p.output()).zeroPoint(0);
        int[] src = buffers.get(p.input());
        int[] out = buffers.get(p.output());
        int[] coord = new int[inDims.length];
        return () -> IntegerKernels.pad(src, inDims, before, outDims, fill, out, coord);
    }

    private Step softmax(Op.Softmax s) {
        TensorQuant iq = activationQuant(s.input());
        TensorQuant oq = activationQuant(s.output());
        if (oq.zeroPoint(0) != -128 || Math.abs(oq.scale(0) - 1f / 256) > 0.001f * 1f / 256) {
            throw new InvalidModelException(
                    where(s) + ": TFLite's int8 softmax needs output scale 1/256 and zero" + " point -128, got " + oq);
        }
        Shape in = model.graph().shape(s.input());
        int depth = in.dim(-1);
        int rows = in.size() / depth;
        int[] src = buffers.get(s.input());
        int[] out = buffers.get(s.output());
        if (softmaxTable) {
            float[] table = IntegerKernels.softmaxTable(iq.scale(0), 1f);
            float outScale = oq.scale(0);
            int zo = oq.zeroPoint(0);
            return () -> IntegerKernels.softmaxLookup(src, rows, depth, table, outScale, zo, out);
        }
        KernelParams.Softmax p = KernelParams.Softmax.of(1.0, iq.scale(0));
        return () -> IntegerKernels.softmax(rounding, src, rows, depth, p, out);
    }

    @Override
    public int maxBatch() {
        return maxBatch;
    }

    @Override
    public float[] forward(float[] in, int batch, ActivationListener listener) {
        if (batch < 1 || batch > maxBatch) {
            throw new IllegalArgumentException("batch must be in [1, " + maxBatch + "], got " + batch);
        }
        int[] inBuf = buffers.get(input);
        int[] outBuf = buffers.get(output);
        int inSize = inBuf.length;
        int outSize = outBuf.length;
        if (in.length < batch * inSize) {
            throw new IllegalArgumentException("input holds " + in.length + " values, " + batch + " samples of "
                    + inSize + " need " + batch * inSize);
        }
        float[] result = new float[batch * outSize];
        float inScale = inputQuant.scale(0);
        // int8, or the narrower range of an input quantized to fewer bits
        int inLo = inputQuant.qmin();
        int inHi = inputQuant.qmax();
        int inZp = inputQuant.zeroPoint(0);
        boolean listen = listener != null && listener != ActivationListener.NONE;
        for (int b = 0; b < batch; b++) {
            // TFLite's QUANTIZE (AffineQuantize): round(x / scale) in float, ties away from zero, + zero point, clamp
            for (int i = 0; i < inSize; i++) {
                int q = (int) FixedPoint.round(in[b * inSize + i] / inScale) + inZp;
                inBuf[i] = Math.min(Math.max(q, inLo), inHi);
            }
            if (listen) {
                report(listener, input);
            }
            for (int s = 0; s < steps.size(); s++) {
                steps.get(s).run();
                if (listen) {
                    report(listener, stepOutputs.get(s));
                }
            }
            dequantize(outBuf, outputQuant, result, b * outSize);
        }
        return result;
    }

    private void report(ActivationListener listener, String tensor) {
        int[] buf = buffers.get(tensor);
        dequantize(buf, model.integerQuant(tensor), scratch, 0);
        listener.onActivation(tensor, scratch, 0, buf.length);
    }

    /** TFLite's DEQUANTIZE: {@code (float) (scale * (q - zeroPoint))}, the scale widened to double. */
    private static void dequantize(int[] q, TensorQuant quant, float[] into, int offset) {
        double scale = quant.scale(0);
        int zp = quant.zeroPoint(0);
        for (int i = 0; i < q.length; i++) {
            into[offset + i] = (float) (scale * (q[i] - zp));
        }
    }

    @Override
    public void close() {
        // nothing held beyond the heap
    }
}
