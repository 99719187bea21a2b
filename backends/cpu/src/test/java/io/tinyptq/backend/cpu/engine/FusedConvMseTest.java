package io.tinyptq.backend.cpu.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tinyptq.backend.cpu.kernels.Parallel;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Graph#conv2dMse} against the same loss built from separate conv2d, ReLU/ReLU6 and MSE nodes: equal loss
 * (up to float summation order) and bit-equal gradients for the input, weight, bias and target, on awkward shapes
 * (odd sizes, stride 2 with SAME padding, channel counts that are not a multiple of the vector width).
 */
class FusedConvMseTest {
    private static final Parallel TWO = new Parallel(2);

    @AfterAll
    static void close() {
        TWO.close();
    }

    @Test
    void fusedTailEqualsSeparateNodes() {
        // {h, w, cin, cout, k, stride}: plain, stride 2 with an odd size, a channel tail, vector-wide channels
        int[][] shapes = {{6, 5, 3, 4, 3, 1}, {7, 7, 2, 5, 3, 2}, {5, 4, 16, 19, 3, 1}, {4, 4, 8, 32, 1, 1}};
        for (int[] sh : shapes) {
            for (int act = 0; act < 3; act++) {
                for (Parallel par : new Parallel[] {Parallel.serial(), TWO}) {
                    compare(sh, act, par);
                }
            }
        }
    }

    private static void compare(int[] sh, int act, Parallel par) {
        int h = sh[0], w = sh[1], cin = sh[2], cout = sh[3], k = sh[4], stride = sh[5];
        int batch = 3;
        SplittableRandom rnd = new SplittableRandom(17 + act);
        float[] x = GraphTest.init(rnd, batch * h * w * cin, 1);
        float[] wt = GraphTest.init(rnd, cout * k * k * cin, k * k * cin);
        float[] b = GraphTest.init(rnd, cout, 4);
        int oh = (h + stride - 1) / stride;
        int ow = (w + stride - 1) / stride;
        float[] t = GraphTest.init(rnd, batch * oh * ow * cout, 2);
        int padH = Math.max((oh - 1) * stride + k - h, 0);
        int padW = Math.max((ow - 1) * stride + k - w, 0);
        int[] pad = {padH / 2, padH - padH / 2, padW / 2, padW - padW / 2};
        float cap = act == 2 ? 6f : Float.POSITIVE_INFINITY;
        String what = java.util.Arrays.toString(sh) + " act " + act + " threads " + par.threads();

        Result fused = run(x, wt, b, t, h, w, cin, cout, k, stride, pad, batch, par, g -> {
            Value[] v = g.leaves;
            return g.graph.conv2dMse(
                    v[0], v[1], v[2], stride, stride, pad[0], pad[1], pad[2], pad[3], act > 0, cap, v[3]);
        });
        Result separate = run(x, wt, b, t, h, w, cin, cout, k, stride, pad, batch, par, g -> {
            Value[] v = g.leaves;
            Value y = g.graph.conv2d(v[0], v[1], v[2], stride, stride, pad[0], pad[1], pad[2], pad[3]);
            y = act == 0 ? y : act == 1 ? g.graph.relu(y) : g.graph.relu6(y);
            return g.graph.mse(y, v[3]);
        });
        assertEquals(separate.loss, fused.loss, 1e-5 * Math.abs(separate.loss), what + " loss");
        assertArrayEquals(separate.dx, fused.dx, 1e-6f, what + " input gradient");
        assertArrayEquals(separate.dw, fused.dw, 1e-6f, what + " weight gradient");
        assertArrayEquals(separate.db, fused.db, 1e-6f, what + " bias gradient");
        assertArrayEquals(separate.dt, fused.dt, 0f, what + " target gradient");
    }

    record Built(Graph graph, Value[] leaves) {}

    record Result(float loss, float[] dx, float[] dw, float[] db, float[] dt) {}

    private static Result run(
            float[] x,
            float[] wt,
            float[] b,
            float[] t,
            int h,
            int w,
            int cin,
            int cout,
            int k,
            int stride,
            int[] pad,
            int batch,
            Parallel par,
            java.util.function.Function<Built, Value> tail) {
        Graph g = new Graph(batch + 1, par);
        Value xin = g.input("x", h, w, cin).requireGrad();
        Value tin = g.input("t", (h + stride - 1) / stride, (w + stride - 1) / stride, cout)
                .requireGrad();
        Param wp = g.param("w", wt.clone(), cout, k, k, cin);
        Param bp = g.param("b", b.clone(), cout);
        Value loss = tail.apply(new Built(g, new Value[] {xin, g.use(wp), g.use(bp), tin}));
        g.minimize(loss, 0.5f);
        System.arraycopy(x, 0, xin.data(), 0, x.length);
        System.arraycopy(t, 0, tin.data(), 0, t.length);
        g.zeroGrad();
        g.forward(batch);
        g.backward();
        return new Result(
                loss.data()[0],
                java.util.Arrays.copyOf(xin.grad(), x.length),
                wp.grad().clone(),
                bp.grad().clone(),
                java.util.Arrays.copyOf(tin.grad(), t.length));
    }
}
