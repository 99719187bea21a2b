package io.tinyptq.testkit;

import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.quant.FakeQuant;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.spi.BackendInfo;
import io.tinyptq.api.spi.ComputeBackend;
import io.tinyptq.api.spi.ModelExecutor;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A deliberately naive backend: the textbook definition of every op, one sample at a time, in double
 * accumulators, with simulated quantization from {@link FakeQuant}'s scalar Eq. 1. It is the independent oracle
 * fast backends are compared with, and the backend kernel tests run pipelines on. Not registered as a service;
 * tests pass it to {@code PluginRegistry.of(...)}.
 */
public final class ReferenceBackend implements ComputeBackend<NoOptions> {

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public String description() {
        return "textbook loops, one sample at a time (test oracle)";
    }

    @Override
    public Class<NoOptions> optionsType() {
        return NoOptions.class;
    }

    @Override
    public NoOptions defaultOptions() {
        return NoOptions.INSTANCE;
    }

    @Override
    public BackendInfo info(NoOptions options) {
        return new BackendInfo(name(), "JVM, scalar reference loops", 1, 1);
    }

    @Override
    public ModelExecutor compile(Model model, QuantizedModel quantized, int maxBatch, NoOptions options) {
        return new Executor(model, quantized, maxBatch);
    }

    private static final class Executor implements ModelExecutor {
        private final Model model;
        private final QuantizedModel quantized;
        private final int maxBatch;
        private final Map<String, float[]> weights = new HashMap<>();

        Executor(Model model, QuantizedModel quantized, int maxBatch) {
            this.model = model;
            this.quantized = quantized;
            this.maxBatch = maxBatch;
            for (var e : model.constants().entrySet()) {
                weights.put(e.getKey(), e.getValue().data());
            }
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
            }
        }

        @Override
        public int maxBatch() {
            return maxBatch;
        }

        @Override
        public float[] forward(float[] input, int batch, ActivationListener listener) {
            if (batch > maxBatch) {
                throw new IllegalArgumentException("batch " + batch + " exceeds the compiled maximum " + maxBatch);
            }
            String in = model.inputs().keySet().iterator().next();
            int inSize = model.shape(in).size();
            if (input.length < batch * inSize) {
                throw new IllegalArgumentException("input holds " + input.length + " values, " + batch + " samples of "
                        + model.shape(in) + " need " + batch * inSize);
            }
            Map<String, float[]> batched = new LinkedHashMap<>();
            for (String t : model.activationShapes().keySet()) {
                batched.put(t, new float[batch * model.shape(t).size()]);
            }
            for (int b = 0; b < batch; b++) {
                Map<String, float[]> v = new HashMap<>();
                float[] x = new float[inSize];
                System.arraycopy(input, b * inSize, x, 0, inSize);
                v.put(in, quantize(in, x));
                for (Op op : model.ops()) {
                    v.put(op.output(), quantize(op.output(), eval(op, v)));
                }
                for (var e : batched.entrySet()) {
                    float[] s = v.get(e.getKey());
                    System.arraycopy(s, 0, e.getValue(), b * s.length, s.length);
                }
            }
            batched.forEach((t, values) -> listener.onActivation(t, values, 0, values.length));
            return batched.get(model.outputs().get(0)).clone();
        }

        private float[] quantize(String tensor, float[] x) {
            if (quantized == null) {
                return x;
            }
            Quantizer q = quantized.activationQuantizers().get(tensor);
            if (q == null) {
                return x;
            }
            float[] out = new float[x.length];
            FakeQuant.apply(x, model.shape(tensor).dims(), q.spec(), q.params(), out);
            return out;
        }

        private float[] eval(Op op, Map<String, float[]> v) {
            return switch (op) {
                case Op.Conv2D c ->
                    conv(
                            model.shape(c.input()),
                            v.get(c.input()),
                            model.constant(c.weight()).shape(),
                            weights.get(c.weight()),
                            bias(c.bias()),
                            c.strideH(),
                            c.strideW(),
                            c.padding(),
                            false,
                            1,
                            c.activation());
                case Op.DepthwiseConv2D d ->
                    conv(
                            model.shape(d.input()),
                            v.get(d.input()),
                            model.constant(d.weight()).shape(),
                            weights.get(d.weight()),
                            bias(d.bias()),
                            d.strideH(),
                            d.strideW(),
                            d.padding(),
                            true,
                            d.multiplier(),
                            d.activation());
                case Op.Conv1D c -> {
                    Shape in = model.shape(c.input());
                    Shape w = model.constant(c.weight()).shape();
                    yield conv(
                            Shape.of(1, in.dim(0), in.dim(1)),
                            v.get(c.input()),
                            Shape.of(w.dim(0), 1, w.dim(1), w.dim(2)),
                            weights.get(c.weight()),
                            bias(c.bias()),
                            1,
                            c.stride(),
                            c.padding(),
                            false,
                            1,
                            c.activation());
                }
                case Op.FullyConnected f -> {
                    Shape w = model.constant(f.weight()).shape();
                    float[] x = v.get(f.input());
                    float[] wv = weights.get(f.weight());
                    float[] b = bias(f.bias());
                    float[] y = new float[w.dim(0)];
                    for (int o = 0; o < y.length; o++) {
                        double acc = b == null ? 0 : b[o];
                        for (int i = 0; i < w.dim(1); i++) {
                            acc += (double) wv[o * w.dim(1) + i] * x[i];
                        }
                        y[o] = f.activation().apply((float) acc);
                    }
                    yield y;
                }
                case Op.Add a -> {
                    float[] x = v.get(a.a());
                    float[] y = v.get(a.b());
                    float[] out = new float[x.length];
                    for (int i = 0; i < x.length; i++) {
                        out[i] = a.activation().apply(x[i] + y[i]);
                    }
                    yield out;
                }
                case Op.Act a -> {
                    float[] x = v.get(a.input());
                    float[] out = new float[x.length];
                    for (int i = 0; i < x.length; i++) {
                        out[i] = a.activation().apply(x[i]);
                    }
                    yield out;
                }
                case Op.Pool p -> pool(p, v.get(p.input()));
                case Op.Mean m -> {
                    Shape in = model.shape(m.input());
                    int c = in.dim(-1);
                    int n = in.size() / c;
                    float[] x = v.get(m.input());
                    float[] out = new float[c];
                    for (int ch = 0; ch < c; ch++) {
                        double acc = 0;
                        for (int i = 0; i < n; i++) {
                            acc += x[i * c + ch];
                        }
                        out[ch] = (float) (acc / n);
                    }
                    yield out;
                }
                case Op.Reshape r -> v.get(r.input()).clone();
                case Op.BatchNorm bn -> {
                    // The textbook formula, in double: gamma (x - mean) / sqrt(variance + epsilon) + beta.
                    float[] x = v.get(bn.input());
                    float[] g = weights.get(bn.gamma());
                    float[] be = weights.get(bn.beta());
                    float[] mu = weights.get(bn.mean());
                    float[] var = weights.get(bn.variance());
                    int c = g.length;
                    float[] out = new float[x.length];
                    for (int i = 0; i < x.length; i++) {
                        int ch = i % c;
                        out[i] = bn.activation().apply((float)
                                (g[ch] * (x[i] - (double) mu[ch]) / Math.sqrt((double) var[ch] + bn.epsilon())
                                        + be[ch]));
                    }
                    yield out;
                }
                case Op.Pad p -> pad(p, v.get(p.input()));
                case Op.Softmax s -> {
                    Shape in = model.shape(s.input());
                    int c = in.dim(-1);
                    float[] x = v.get(s.input());
                    float[] out = new float[x.length];
                    for (int row = 0; row < x.length / c; row++) {
                        double max = Double.NEGATIVE_INFINITY;
                        for (int i = 0; i < c; i++) {
                            max = Math.max(max, x[row * c + i]);
                        }
                        double sum = 0;
                        for (int i = 0; i < c; i++) {
                            sum += Math.exp(x[row * c + i] - max);
                        }
                        for (int i = 0; i < c; i++) {
                            out[row * c + i] = (float) (Math.exp(x[row * c + i] - max) / sum);
                        }
                    }
                    yield out;
                }
            };
        }

        private float[] bias(String name) {
            return name == null ? null : weights.get(name);
        }

        /** Direct convolution; depthwise when {@code depthwise} (weight {@code [kh,kw,C*m]}), else {@code [O,kh,kw,I]}. */
        private static float[] conv(
                Shape in,
                float[] x,
                Shape w,
                float[] wv,
                float[] b,
                int sh,
                int sw,
                Padding pad,
                boolean depthwise,
                int mult,
                Activation act) {
            int h = in.dim(0);
            int wd = in.dim(1);
            int cin = in.dim(2);
            int kh = depthwise ? w.dim(0) : w.dim(1);
            int kw = depthwise ? w.dim(1) : w.dim(2);
            int cout = depthwise ? w.dim(2) : w.dim(0);
            int oh = pad.outputSize(h, kh, sh, true);
            int ow = pad.outputSize(wd, kw, sw, false);
            int pt = pad.before(h, kh, sh, true);
            int pl = pad.before(wd, kw, sw, false);
            float[] y = new float[oh * ow * cout];
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int o = 0; o < cout; o++) {
                        double acc = b == null ? 0 : b[o];
                        for (int ky = 0; ky < kh; ky++) {
                            int iy = oy * sh + ky - pt;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            for (int kx = 0; kx < kw; kx++) {
                                int ix = ox * sw + kx - pl;
                                if (ix < 0 || ix >= wd) {
                                    continue;
                                }
                                if (depthwise) {
                                    acc += (double) x[(iy * wd + ix) * cin + o / mult] * wv[(ky * kw + kx) * cout + o];
                                } else {
                                    for (int i = 0; i < cin; i++) {
                                        acc += (double) x[(iy * wd + ix) * cin + i]
                                                * wv[((o * kh + ky) * kw + kx) * cin + i];
                                    }
                                }
                            }
                        }
                        y[(oy * ow + ox) * cout + o] = act.apply((float) acc);
                    }
                }
            }
            return y;
        }

        private float[] pool(Op.Pool p, float[] x) {
            Shape in = model.shape(p.input());
            boolean oneD = in.rank() == 2;
            int h = oneD ? 1 : in.dim(0);
            int wd = oneD ? in.dim(0) : in.dim(1);
            int c = in.dim(-1);
            int kh = oneD ? 1 : p.kh();
            int sh = oneD ? 1 : p.strideH();
            int oh = oneD ? 1 : p.padding().outputSize(h, kh, sh, true);
            int ow = p.padding().outputSize(wd, p.kw(), p.strideW(), false);
            int pt = oneD ? 0 : p.padding().before(h, kh, sh, true);
            int pl = p.padding().before(wd, p.kw(), p.strideW(), false);
            float[] y = new float[oh * ow * c];
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int ch = 0; ch < c; ch++) {
                        double acc = p.kind() == Op.PoolKind.MAX ? Double.NEGATIVE_INFINITY : 0;
                        int count = 0;
                        for (int ky = 0; ky < kh; ky++) {
                            for (int kx = 0; kx < p.kw(); kx++) {
                                int iy = oy * sh + ky - pt;
                                int ix = ox * p.strideW() + kx - pl;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) {
                                    continue;
                                }
                                float val = x[(iy * wd + ix) * c + ch];
                                acc = p.kind() == Op.PoolKind.MAX ? Math.max(acc, val) : acc + val;
                                count++;
                            }
                        }
                        float r = p.kind() == Op.PoolKind.MAX ? (float) acc : (float) (acc / count);
                        y[(oy * ow + ox) * c + ch] = p.activation().apply(r);
                    }
                }
            }
            return y;
        }

        private float[] pad(Op.Pad p, float[] x) {
            int[] in = model.shape(p.input()).dims();
            int[] out = model.shape(p.output()).dims();
            float[] y = new float[Shape.of(out).size()];
            int[] idx = new int[in.length];
            for (int i = 0; i < x.length; i++) {
                int rem = i;
                for (int d = in.length - 1; d >= 0; d--) {
                    idx[d] = rem % in[d];
                    rem /= in[d];
                }
                int o = 0;
                for (int d = 0; d < in.length; d++) {
                    o = o * out[d] + idx[d] + p.before()[d];
                }
                y[o] = x[i];
            }
            return y;
        }

        @Override
        public void close() {
            weights.clear();
        }
    }
}
