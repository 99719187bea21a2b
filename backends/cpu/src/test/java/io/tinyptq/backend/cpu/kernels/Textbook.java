package io.tinyptq.backend.cpu.kernels;

/**
 * Direct textbook loops in double precision, written independently of the kernels: the oracles of the tests
 * and the functions their finite differences differentiate. Padding is handled by an explicit bounds test.
 */
final class Textbook {
    private Textbook() {}

    static double[] conv2d(double[] x, double[] w, double[] b, ConvShape s) {
        double[] y = new double[s.outputSize()];
        for (int n = 0; n < s.batch(); n++) {
            for (int oy = 0; oy < s.outH(); oy++) {
                for (int ox = 0; ox < s.outW(); ox++) {
                    for (int co = 0; co < s.outC(); co++) {
                        double acc = b == null ? 0 : b[co];
                        for (int ky = 0; ky < s.kH(); ky++) {
                            for (int kx = 0; kx < s.kW(); kx++) {
                                int iy = oy * s.strideH() - s.padTop() + ky;
                                int ix = ox * s.strideW() - s.padLeft() + kx;
                                if (iy < 0 || iy >= s.inH() || ix < 0 || ix >= s.inW()) {
                                    continue;
                                }
                                for (int ci = 0; ci < s.inC(); ci++) {
                                    acc += x[((n * s.inH() + iy) * s.inW() + ix) * s.inC() + ci]
                                            * w[((co * s.kH() + ky) * s.kW() + kx) * s.inC() + ci];
                                }
                            }
                        }
                        y[((n * s.outH() + oy) * s.outW() + ox) * s.outC() + co] = acc;
                    }
                }
            }
        }
        return y;
    }

    static double[] depthwise(double[] x, double[] w, double[] b, ConvShape s) {
        int m = s.outC() / s.inC();
        double[] y = new double[s.outputSize()];
        for (int n = 0; n < s.batch(); n++) {
            for (int oy = 0; oy < s.outH(); oy++) {
                for (int ox = 0; ox < s.outW(); ox++) {
                    for (int c = 0; c < s.inC(); c++) {
                        for (int j = 0; j < m; j++) {
                            int o = c * m + j;
                            double acc = b == null ? 0 : b[o];
                            for (int ky = 0; ky < s.kH(); ky++) {
                                for (int kx = 0; kx < s.kW(); kx++) {
                                    int iy = oy * s.strideH() - s.padTop() + ky;
                                    int ix = ox * s.strideW() - s.padLeft() + kx;
                                    if (iy >= 0 && iy < s.inH() && ix >= 0 && ix < s.inW()) {
                                        acc += x[((n * s.inH() + iy) * s.inW() + ix) * s.inC() + c]
                                                * w[(ky * s.kW() + kx) * s.outC() + o];
                                    }
                                }
                            }
                            y[((n * s.outH() + oy) * s.outW() + ox) * s.outC() + o] = acc;
                        }
                    }
                }
            }
        }
        return y;
    }

    static double[] pool(double[] x, ConvShape s, boolean max) {
        double[] y = new double[s.outputSize()];
        for (int n = 0; n < s.batch(); n++) {
            for (int oy = 0; oy < s.outH(); oy++) {
                for (int ox = 0; ox < s.outW(); ox++) {
                    for (int c = 0; c < s.inC(); c++) {
                        double acc = max ? Double.NEGATIVE_INFINITY : 0;
                        int count = 0;
                        for (int ky = 0; ky < s.kH(); ky++) {
                            for (int kx = 0; kx < s.kW(); kx++) {
                                int iy = oy * s.strideH() - s.padTop() + ky;
                                int ix = ox * s.strideW() - s.padLeft() + kx;
                                if (iy >= 0 && iy < s.inH() && ix >= 0 && ix < s.inW()) {
                                    double v = x[((n * s.inH() + iy) * s.inW() + ix) * s.inC() + c];
                                    acc = max ? Math.max(acc, v) : acc + v;
                                    count++;
                                }
                            }
                        }
                        y[((n * s.outH() + oy) * s.outW() + ox) * s.outC() + c] = max ? acc : acc / count;
                    }
                }
            }
        }
        return y;
    }

    static double[] dense(double[] x, double[] w, double[] b, int n, int in, int out) {
        double[] y = new double[n * out];
        for (int r = 0; r < n; r++) {
            for (int o = 0; o < out; o++) {
                double acc = b == null ? 0 : b[o];
                for (int i = 0; i < in; i++) {
                    acc += x[r * in + i] * w[o * in + i];
                }
                y[r * out + o] = acc;
            }
        }
        return y;
    }
}
