package io.tinyptq.backend.cpu;

import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.quant.FakeQuant;
import io.tinyptq.api.quant.QuantTarget;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.backend.cpu.kernels.BatchNorm;
import io.tinyptq.backend.cpu.kernels.Conv2d;
import io.tinyptq.backend.cpu.kernels.ConvShape;
import io.tinyptq.backend.cpu.kernels.ConvWorkspace;
import io.tinyptq.backend.cpu.kernels.Dense;
import io.tinyptq.backend.cpu.kernels.DepthwiseConv2d;
import io.tinyptq.backend.cpu.kernels.Elementwise;
import io.tinyptq.backend.cpu.kernels.Losses;
import io.tinyptq.backend.cpu.kernels.Pad;
import io.tinyptq.backend.cpu.kernels.Parallel;
import io.tinyptq.backend.cpu.kernels.Pooling;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Forward passes of one model on the CPU kernels. Compilation resolves every op to a step with its output
 * buffer and kernel workspace allocated for {@code maxBatch}; a forward pass allocates nothing but the returned
 * copy of the output. With a {@link QuantizedModel}, weights are fake-quantized once at compile time and each
 * quantized activation tensor is fake-quantized in place right after it is produced (Eq. 1).
 */
final class CpuModelExecutor implements ModelExecutor {
    private final Model model;
    private final int maxBatch;
    private final Parallel par;
    private final boolean ownsThreads;
    private final Map<String, float[]> buffers = new LinkedHashMap<>();
    private final Map<String, float[]> weights = new LinkedHashMap<>();
    private final Map<String, ActQuant> activationQuant = new LinkedHashMap<>();
    private final List<Step> steps = new ArrayList<>();
    private final String input;
    /** Whether average pools compute on integer codes as TFLite does (target tflite: their output is tied). */
    private final boolean integerAveragePools;

    /** A per-tensor activation quantizer in the kernel's terms: scale, zero-point and the grid {@code [n, p]}. */
    private record ActQuant(float[] scale, float[] zero, float qmin, float qmax) {}

    /** One compiled op: runs on the first {@code n} samples of its buffers. */
    private interface Step {
        void run(int n);
    }

    CpuModelExecutor(Model model, QuantizedModel quantized, int maxBatch, Parallel par, boolean ownsThreads) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        }
        this.model = model;
        this.maxBatch = maxBatch;
        this.par = par;
        this.ownsThreads = ownsThreads;
        this.input = model.inputs().keySet().iterator().next();
        this.integerAveragePools = quantized != null && quantized.scheme().target() == QuantTarget.TFLITE;
        model.activationShapes().forEach((t, s) -> buffers.put(t, new float[maxBatch * s.size()]));
        model.constants().forEach((n, t) -> weights.put(n, t.data()));
        if (quantized != null) {
            for (var e : quantized.weightQuantizers().entrySet()) {
                Op.Layer layer = (Op.Layer) model.op(e.getKey());
                Tensor w = model.constant(layer.weight());
                float[] q = new float[w.data().length];
                FakeQuant.apply(
                        w.data(),
                        w.shape().dims(),
                        e.getValue().spec(),
                        e.getValue().params(),
                        q);
                weights.put(layer.weight(), q);
            }
            Map<Quantizer, ActQuant> shared = new java.util.IdentityHashMap<>();
            for (var e : quantized.activationQuantizers().entrySet()) {
                // Tensors tied to one Quantizer (target tflite) share one ActQuant.
                activationQuant.put(
                        e.getKey(),
                        shared.computeIfAbsent(
                                e.getValue(),
                                q -> new ActQuant(
                                        q.params().scale(),
                                        q.params().zeroPoint(),
                                        q.spec().grid().n(),
                                        q.spec().grid().p())));
            }
        }
        for (Op op : model.ops()) {
            steps.add(compile(op));
        }
    }

    private Step compile(Op op) {
        float[] y = buffers.get(op.output());
        return switch (op) {
            case Op.Conv2D c -> {
                Shape in = model.shape(c.input());
                Shape w = model.constant(c.weight()).shape();
                ConvShape s = geometry(
                        in.dim(0),
                        in.dim(1),
                        in.dim(2),
                        w.dim(0),
                        w.dim(1),
                        w.dim(2),
                        c.strideH(),
                        c.strideW(),
                        c.padding());
                yield conv(s, buffers.get(c.input()), weights.get(c.weight()), bias(c.bias()), y, c.activation());
            }
            case Op.Conv1D c -> {
                Shape in = model.shape(c.input());
                Shape w = model.constant(c.weight()).shape();
                ConvShape s = geometry(1, in.dim(0), in.dim(1), w.dim(0), 1, w.dim(1), 1, c.stride(), c.padding());
                yield conv(s, buffers.get(c.input()), weights.get(c.weight()), bias(c.bias()), y, c.activation());
            }
            case Op.DepthwiseConv2D d -> {
                Shape in = model.shape(d.input());
                Shape w = model.constant(d.weight()).shape();
                ConvShape s = geometry(
                        in.dim(0),
                        in.dim(1),
                        in.dim(2),
                        w.dim(2),
                        w.dim(0),
                        w.dim(1),
                        d.strideH(),
                        d.strideW(),
                        d.padding());
                DepthwiseConv2d.Workspace ws = new DepthwiseConv2d.Workspace(s.withBatch(maxBatch));
                float[] x = buffers.get(d.input());
                float[] wt = weights.get(d.weight());
                float[] b = bias(d.bias());
                int size = model.shape(d.output()).size();
                yield n -> {
                    DepthwiseConv2d.forward(s.withBatch(n), x, wt, b, y, ws, par);
                    activate(y, n * size, d.activation());
                };
            }
            case Op.FullyConnected f -> {
                int in = model.shape(f.input()).size();
                int out = model.constant(f.weight()).shape().dim(0);
                Dense.Workspace ws = new Dense.Workspace(maxBatch, in, out, par.threads());
                float[] x = buffers.get(f.input());
                float[] wt = weights.get(f.weight());
                float[] b = bias(f.bias());
                yield n -> {
                    Dense.forward(x, n, in, wt, out, b, y, ws, par);
                    activate(y, n * out, f.activation());
                };
            }
            case Op.Add a -> {
                float[] x1 = buffers.get(a.a());
                float[] x2 = buffers.get(a.b());
                int size = model.shape(a.output()).size();
                yield n -> {
                    Elementwise.add(x1, 0, x2, 0, y, 0, n * size, par);
                    activate(y, n * size, a.activation());
                };
            }
            case Op.Act a -> {
                float[] x = buffers.get(a.input());
                int size = model.shape(a.output()).size();
                yield n -> {
                    System.arraycopy(x, 0, y, 0, n * size);
                    activate(y, n * size, a.activation());
                };
            }
            case Op.Pool p -> pool(p, buffers.get(p.input()), y);
            case Op.Mean m -> {
                float[] x = buffers.get(m.input());
                Shape in = model.shape(m.input());
                int c = in.dim(-1);
                int pixels = in.size() / c;
                yield n -> Pooling.mean(x, n, pixels, c, y, par);
            }
            case Op.Reshape r -> {
                float[] x = buffers.get(r.input());
                int size = r.shape().size();
                yield n -> System.arraycopy(x, 0, y, 0, n * size);
            }
            case Op.Pad p -> {
                float[] x = buffers.get(p.input());
                int[] in = model.shape(p.input()).dims();
                int[] b = p.before();
                int[] a = p.after();
                // Per-sample [H,W,C] or [W,C] (then H = 1); the kernel pads all three axes.
                boolean rank3 = in.length == 3;
                yield n -> Pad.forward(
                        x,
                        n,
                        rank3 ? in[0] : 1,
                        in[in.length - 2],
                        in[in.length - 1],
                        rank3 ? b[0] : 0,
                        rank3 ? a[0] : 0,
                        b[in.length - 2],
                        a[in.length - 2],
                        b[in.length - 1],
                        a[in.length - 1],
                        y);
            }
            case Op.BatchNorm bn -> {
                float[] x = buffers.get(bn.input());
                int c = model.shape(bn.input()).dim(-1);
                int size = model.shape(bn.input()).size();
                float[] a = new float[c];
                float[] b = new float[c];
                BatchNorm.affine(
                        weights.get(bn.gamma()),
                        weights.get(bn.beta()),
                        weights.get(bn.mean()),
                        weights.get(bn.variance()),
                        bn.epsilon(),
                        a,
                        b);
                yield n -> {
                    BatchNorm.forwardAffine(x, n * size / c, c, a, b, y);
                    activate(y, n * size, bn.activation());
                };
            }
            case Op.Softmax s -> {
                float[] x = buffers.get(s.input());
                int c = model.shape(s.input()).dim(-1);
                int size = model.shape(s.input()).size();
                yield n -> Losses.softmax(x, n * size / c, c, y);
            }
        };
    }

    private static ConvShape geometry(int h, int w, int cin, int cout, int kh, int kw, int sh, int sw, Padding p) {
        return new ConvShape(
                1,
                h,
                w,
                cin,
                cout,
                kh,
                kw,
                sh,
                sw,
                p.before(h, kh, sh, true),
                p.before(w, kw, sw, false),
                p.outputSize(h, kh, sh, true),
                p.outputSize(w, kw, sw, false));
    }

    private Step conv(ConvShape one, float[] x, float[] w, float[] b, float[] y, Activation act) {
        ConvWorkspace ws = new ConvWorkspace(one.withBatch(maxBatch), par.threads());
        int size = one.outH() * one.outW() * one.outC();
        return n -> {
            Conv2d.forward(one.withBatch(n), x, w, b, y, ws, par);
            activate(y, n * size, act);
        };
    }

    private Step pool(Op.Pool p, float[] x, float[] y) {
        Shape in = model.shape(p.input());
        boolean oneD = in.rank() == 2;
        int h = oneD ? 1 : in.dim(0);
        int w = oneD ? in.dim(0) : in.dim(1);
        int c = in.dim(-1);
        int kh = oneD ? 1 : p.kh();
        int sh = oneD ? 1 : p.strideH();
        ConvShape g = oneD
                ? new ConvShape(
                        1,
                        1,
                        w,
                        c,
                        c,
                        1,
                        p.kw(),
                        1,
                        p.strideW(),
                        0,
                        p.padding().before(w, p.kw(), p.strideW(), false),
                        1,
                        p.padding().outputSize(w, p.kw(), p.strideW(), false))
                : geometry(h, w, c, c, kh, p.kw(), sh, p.strideW(), p.padding());
        int size = g.outH() * g.outW() * c;
        boolean max = p.kind() == Op.PoolKind.MAX;
        ActQuant tied = activationQuant.get(p.input());
        if (!max && integerAveragePools && tied != null && tied == activationQuant.get(p.output())) {
            // TFLite averages the int8 codes and rounds the sum / count half away from zero; the float mean
            // rounded by the fake quantization would round ties to even. The int8 code of grid code c is
            // c - 128 - n (TfliteLowering), so the device's zero point is z - 128 - n: half away from zero is
            // a rounding of those codes, not of the grid's.
            float int8Zero = tied.zero()[0] - 128 - tied.qmin();
            return n -> {
                Pooling.averageOfCodes(g.withBatch(n), x, tied.scale()[0], int8Zero, y);
                activate(y, n * size, p.activation());
            };
        }
        return n -> {
            Pooling.forward(g.withBatch(n), max, x, y, par);
            activate(y, n * size, p.activation());
        };
    }

    private float[] bias(String name) {
        return name == null ? null : weights.get(name);
    }

    private void activate(float[] y, int len, Activation act) {
        switch (act) {
            case NONE -> {}
            case RELU -> Elementwise.clamp(y, 0, y, 0, len, Float.POSITIVE_INFINITY, par);
            case RELU6 -> Elementwise.clamp(y, 0, y, 0, len, 6f, par);
        }
    }

    @Override
    public int maxBatch() {
        return maxBatch;
    }

    @Override
    public float[] forward(float[] in, int batch, ActivationListener listener) {
        if (batch < 1 || batch > maxBatch) {
            throw new IllegalArgumentException("batch " + batch + " outside 1.." + maxBatch + " (compiled maximum)");
        }
        int inSize = model.shape(input).size();
        if (in.length < batch * inSize) {
            throw new IllegalArgumentException("input holds " + in.length + " values; " + batch + " samples of "
                    + model.shape(input) + " need " + batch * inSize);
        }
        System.arraycopy(in, 0, buffers.get(input), 0, batch * inSize);
        quantize(input, batch);
        listener.onActivation(input, buffers.get(input), 0, batch * inSize);
        for (int i = 0; i < steps.size(); i++) {
            Op op = model.ops().get(i);
            steps.get(i).run(batch);
            quantize(op.output(), batch);
            float[] y = buffers.get(op.output());
            listener.onActivation(
                    op.output(), y, 0, batch * model.shape(op.output()).size());
        }
        String out = model.outputs().get(0);
        return java.util.Arrays.copyOf(
                buffers.get(out), batch * model.shape(out).size());
    }

    private void quantize(String tensor, int batch) {
        ActQuant q = activationQuant.get(tensor);
        if (q == null) {
            return;
        }
        float[] x = buffers.get(tensor);
        int len = batch * model.shape(tensor).size();
        io.tinyptq.backend.cpu.kernels.FakeQuant.forward(
                x, 0, 1, 1, len, q.scale(), q.zero(), q.qmin(), q.qmax(), x, 0, par);
    }

    @Override
    public void close() {
        if (ownsThreads) {
            par.close();
        }
    }
}
