package io.tinyptq.integer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.tinyptq.api.integer.FixedPoint;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The interpreter's convolutions (zero-point-subtracted padded copy, four channels and vector lanes at a time)
 * against a direct transcription of the structure of TFLite's {@code ConvPerChannel} and
 * {@code DepthwiseConvPerChannel}: taps outside the image skipped, {@code filter * (input + input_offset)} summed,
 * bias added, {@code MultiplyByQuantizedMultiplier}, output offset, clamp. Random shapes, strides, paddings,
 * zero points and per-channel scales.
 */
class ConvEquivalenceTest {

    private static int[] random(Random rnd, int n, int lo, int hi) {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = lo + rnd.nextInt(hi - lo + 1);
        }
        return v;
    }

    @Test
    void conv2dEqualsTheDirectLoop() {
        Random rnd = new Random(5);
        for (int t = 0; t < 60; t++) {
            int h = 3 + rnd.nextInt(6);
            int w = 3 + rnd.nextInt(6);
            int cin = 1 + rnd.nextInt(20);
            int cout = 1 + rnd.nextInt(9);
            int k = 1 + rnd.nextInt(3);
            int s = 1 + rnd.nextInt(2);
            Padding pad = rnd.nextBoolean() ? Padding.SAME : Padding.VALID;
            Activation act = Activation.values()[rnd.nextInt(3)];
            float inScale = 0.01f + rnd.nextFloat() * 0.1f;
            int zi = rnd.nextInt(41) - 20;
            float outScale = 0.02f + rnd.nextFloat() * 0.2f;
            int zo = rnd.nextInt(41) - 20;
            float[] ws = new float[cout];
            for (int c = 0; c < cout; c++) {
                ws[c] = 0.001f + rnd.nextFloat() * 0.01f;
            }
            int[] wq = random(rnd, cout * k * k * cin, -127, 127);
            int[] bq = random(rnd, cout, -5000, 5000);
            int[] x = random(rnd, h * w * cin, -128, 127);
            IntegerModel m = new IntModelBuilder("c")
                    .input("x", Shape.of(h, w, cin), inScale, zi)
                    .weight("w", Shape.of(cout, k, k, cin), 0, wq, ws)
                    .bias("b", bq, ws)
                    .op(new Op.Conv2D("c", "x", "w", "b", "y", s, s, pad, act), outScale, zo)
                    .build();
            int oh = pad.outputSize(h, k, s, true);
            int ow = pad.outputSize(w, k, s, false);
            int padT = pad.before(h, k, s, true);
            int padL = pad.before(w, k, s, false);
            int[] r = FixedPoint.activationRange(act, outScale, zo, -128, 127);
            int[] want = new int[oh * ow * cout];
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int oc = 0; oc < cout; oc++) {
                        int acc = 0;
                        for (int ky = 0; ky < k; ky++) {
                            for (int kx = 0; kx < k; kx++) {
                                int iy = oy * s - padT + ky;
                                int ix = ox * s - padL + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                                    continue;
                                }
                                for (int ic = 0; ic < cin; ic++) {
                                    acc += wq[((oc * k + ky) * k + kx) * cin + ic] * (x[(iy * w + ix) * cin + ic] - zi);
                                }
                            }
                        }
                        acc += bq[oc];
                        FixedPoint.Multiplier mm = FixedPoint.quantizeMultiplier((double) inScale * ws[oc] / outScale);
                        acc = FixedPoint.multiplyByQuantizedMultiplier(acc, mm.multiplier(), mm.shift()) + zo;
                        want[(oy * ow + ox) * cout + oc] = Math.min(Math.max(acc, r[0]), r[1]);
                    }
                }
            }
            assertArrayEquals(want, IntModelBuilder.runInts(m, x), "trial " + t);
        }
    }

    @Test
    void depthwiseEqualsTheDirectLoop() {
        Random rnd = new Random(6);
        for (int t = 0; t < 60; t++) {
            int h = 3 + rnd.nextInt(6);
            int w = 3 + rnd.nextInt(6);
            int cin = 1 + rnd.nextInt(12);
            int mult = 1 + rnd.nextInt(3);
            int cout = cin * mult;
            int k = 1 + rnd.nextInt(3);
            int s = 1 + rnd.nextInt(2);
            Padding pad = rnd.nextBoolean() ? Padding.SAME : Padding.VALID;
            float inScale = 0.01f + rnd.nextFloat() * 0.1f;
            int zi = rnd.nextInt(41) - 20;
            float outScale = 0.02f + rnd.nextFloat() * 0.2f;
            int zo = rnd.nextInt(41) - 20;
            float[] ws = new float[cout];
            for (int c = 0; c < cout; c++) {
                ws[c] = 0.001f + rnd.nextFloat() * 0.01f;
            }
            int[] wq = random(rnd, k * k * cout, -127, 127);
            int[] bq = random(rnd, cout, -5000, 5000);
            int[] x = random(rnd, h * w * cin, -128, 127);
            IntegerModel m = new IntModelBuilder("d")
                    .input("x", Shape.of(h, w, cin), inScale, zi)
                    .weight("w", Shape.of(k, k, cout), 2, wq, ws)
                    .bias("b", bq, ws)
                    .op(
                            new Op.DepthwiseConv2D("d", "x", "w", "b", "y", s, s, pad, mult, Activation.RELU6),
                            outScale,
                            zo)
                    .build();
            int oh = pad.outputSize(h, k, s, true);
            int ow = pad.outputSize(w, k, s, false);
            int padT = pad.before(h, k, s, true);
            int padL = pad.before(w, k, s, false);
            int[] r = FixedPoint.activationRange(Activation.RELU6, outScale, zo, -128, 127);
            int[] want = new int[oh * ow * cout];
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int ic = 0; ic < cin; ic++) {
                        for (int j = 0; j < mult; j++) {
                            int oc = ic * mult + j;
                            int acc = 0;
                            for (int ky = 0; ky < k; ky++) {
                                for (int kx = 0; kx < k; kx++) {
                                    int iy = oy * s - padT + ky;
                                    int ix = ox * s - padL + kx;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                        acc += wq[(ky * k + kx) * cout + oc] * (x[(iy * w + ix) * cin + ic] - zi);
                                    }
                                }
                            }
                            acc += bq[oc];
                            FixedPoint.Multiplier mm =
                                    FixedPoint.quantizeMultiplier((double) inScale * ws[oc] / outScale);
                            acc = FixedPoint.multiplyByQuantizedMultiplier(acc, mm.multiplier(), mm.shift()) + zo;
                            want[(oy * ow + ox) * cout + oc] = Math.min(Math.max(acc, r[0]), r[1]);
                        }
                    }
                }
            }
            assertArrayEquals(want, IntModelBuilder.runInts(m, x), "trial " + t);
        }
    }
}
