/* tinyptq runtime (written by tinyptq). Every kernel computes what the method of the same name in tinyptq's Java
 * integer interpreter computes (io.tinyptq.integer.IntegerKernels, io.tinyptq.api.integer.FixedPoint), which in
 * turn computes TFLite's reference int8 kernels. Signed int32 arithmetic that may wrap is done in uint32_t and
 * converted back (two's complement, as Java's int). */
#include "tinyptq_rt.h"
#include "tinyptq_config.h"

static int32_t clamp(int32_t v, int32_t lo, int32_t hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

/* ---- fixed point (FixedPoint.java) ---- */

static int32_t wrap(int64_t v) {
    return (int32_t) (uint32_t) (uint64_t) v;
}

static int32_t srdhm(int32_t a, int32_t b) {
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    int64_t ab = (int64_t) a * (int64_t) b;
    int64_t nudge = ab >= 0 ? (INT64_C(1) << 30) : (INT64_C(1) - (INT64_C(1) << 30));
    return (int32_t) ((ab + nudge) / (INT64_C(1) << 31));
}

static int32_t arithmetic_shift_right(int32_t x, int32_t e) {
    /* floor(x / 2^e) without relying on the implementation-defined >> of negative values */
    if (e == 0) {
        return x;
    }
    return x >= 0 ? x >> e : -(int32_t) (((uint32_t) (-(int64_t) x) + ((1u << e) - 1u)) >> e);
}

static int32_t rdbpot(int32_t x, int32_t exponent) {
    int32_t mask = (int32_t) ((INT64_C(1) << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return arithmetic_shift_right(x, exponent) + (remainder > threshold ? 1 : 0);
}

static int32_t shift_left(int32_t x, int32_t s) {
    return (int32_t) ((uint32_t) x << s);
}

#if TINYPTQ_SINGLE_ROUNDING
/* x * multiplier * 2^(shift - 31) rounded once, half up: (x * m + 2^(30 - shift)) >> (31 - shift) in 64 bits, shift
 * in [-31, 30] (FixedPoint.multiplyByQuantizedMultiplierSingleRounding, TFLite's TFLITE_SINGLE_ROUNDING). The sum is
 * below 2^62 in magnitude; the shift floors without relying on >> of a negative value. */
int32_t rt_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
    int32_t total = 31 - shift;
    int64_t v = (int64_t) x * multiplier + (INT64_C(1) << (total - 1));
    return (int32_t) (v >= 0 ? v >> total : -((-(v + 1)) >> total) - 1);
}

/* MultiplyByQuantizedMultiplierSmallerThanOneExp and ...GreaterThanOne are the same single rounding. */
static int32_t multiply_smaller_than_one(int32_t x, int32_t multiplier, int32_t shift) {
    return rt_multiply_by_quantized_multiplier(x, multiplier, shift);
}

static int32_t multiply_greater_than_one(int32_t x, int32_t multiplier, int32_t left_shift) {
    return rt_multiply_by_quantized_multiplier(x, multiplier, left_shift);
}
#else
/* TFLite's default build and TFLite Micro: the doubling high multiply rounds, then the shift rounds again. */
int32_t rt_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
    int32_t left = shift > 0 ? shift : 0;
    int32_t right = shift > 0 ? 0 : -shift;
    return rdbpot(srdhm(shift_left(x, left), multiplier), right);
}

static int32_t multiply_smaller_than_one(int32_t x, int32_t multiplier, int32_t shift) {
    return rdbpot(srdhm(x, multiplier), -shift);
}

static int32_t multiply_greater_than_one(int32_t x, int32_t multiplier, int32_t left_shift) {
    return srdhm(shift_left(x, left_shift), multiplier);
}
#endif

static int32_t requantize(int32_t acc, const rt_requant *rq, int32_t channel) {
    int32_t v = rt_multiply_by_quantized_multiplier(acc, rq->multiplier[channel], rq->shift[channel]);
    return clamp(v + rq->zero, rq->lo, rq->hi);
}

static int32_t srmbpot(int32_t x, int32_t exponent) {
    if (exponent == 0) {
        return x;
    }
    if (exponent < 0) {
        return rdbpot(x, -exponent);
    }
    int32_t threshold = (int32_t) ((UINT32_C(1) << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return shift_left(x, exponent);
}

static int32_t rescale(int32_t raw, int32_t src_integer_bits, int32_t dst_integer_bits) {
    return srmbpot(raw, src_integer_bits - dst_integer_bits);
}

static int32_t rounding_half_sum(int32_t a, int32_t b) {
    int64_t sum = (int64_t) a + (int64_t) b;
    int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t) ((sum + sign) / 2);
}

static int32_t exp_quarter(int32_t a) {
    const int32_t constant_term = 1895147668;
    const int32_t one_over_three = 715827883;
    int32_t x = wrap((int64_t) a + (1 << 28));
    int32_t x2 = srdhm(x, x);
    int32_t x3 = srdhm(x2, x);
    int32_t x4 = srdhm(x2, x2);
    int32_t x4_over_4 = srmbpot(x4, -2);
    int32_t poly = srmbpot(wrap((int64_t) srdhm(wrap((int64_t) x4_over_4 + x3), one_over_three) + x2), -1);
    return wrap((int64_t) constant_term + srdhm(constant_term, wrap((int64_t) x + poly)));
}

static const int32_t EXP_BARREL[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};

static int32_t exp_on_negative_values(int32_t a, int32_t integer_bits) {
    int32_t fractional_bits = 31 - integer_bits;
    int32_t one_quarter = 1 << (fractional_bits - 2);
    int32_t mask = one_quarter - 1;
    int32_t a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
    int32_t result = exp_quarter(rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0));
    int32_t remainder = wrap((int64_t) a_mod_quarter_minus_one_quarter - a);
    for (int32_t i = 0; i < 7; i++) {
        int32_t exponent = i - 2;
        if (integer_bits > exponent) {
            int32_t shift_amount = fractional_bits + exponent;
            if ((remainder & (int32_t) (UINT32_C(1) << shift_amount)) != 0) {
                result = srdhm(result, EXP_BARREL[i]);
            }
        }
    }
    if (integer_bits > 5) {
        int32_t limit = -(1 << (36 - integer_bits));
        if (a < limit) {
            result = 0;
        }
    }
    return a == 0 ? INT32_MAX : result;
}

static int32_t one_over_one_plus_x(int32_t a) {
    int32_t half_denominator = rounding_half_sum(a, INT32_MAX);
    const int32_t c48_over_17 = 1515870810;
    const int32_t cneg32_over_17 = -1010580540;
    const int32_t one_q2 = 1 << 29;
    int32_t x = wrap((int64_t) c48_over_17 + srdhm(half_denominator, cneg32_over_17));
    for (int32_t i = 0; i < 3; i++) {
        int32_t half_denominator_times_x = srdhm(half_denominator, x);
        int32_t one_minus = wrap((int64_t) one_q2 - half_denominator_times_x);
        x = wrap((int64_t) x + rescale(srdhm(x, one_minus), 4, 2));
    }
    return rescale(x, 1, 0);
}

static int32_t leading_zeros(uint32_t x) {
    int32_t n = 0;
    if (x == 0) {
        return 32;
    }
    while (!(x & 0x80000000u)) {
        x <<= 1;
        n++;
    }
    return n;
}

static int32_t reciprocal(int32_t x, int32_t x_integer_bits, int32_t *bits_over_unit) {
    int32_t headroom_plus_one = leading_zeros((uint32_t) x);
    *bits_over_unit = x_integer_bits - headroom_plus_one;
    uint32_t shifted = headroom_plus_one >= 32 ? 0u : (uint32_t) x << headroom_plus_one;
    int32_t shifted_sum_minus_one = (int32_t) (shifted - 0x80000000u);
    return one_over_one_plus_x(shifted_sum_minus_one);
}

/* ---- kernels (IntegerKernels.java) ---- */

void rt_input(const rt_tensor *t, const int8_t *codes) {
    int32_t hi = t->bits == 8 ? 127 : t->lo + (int32_t) ((1u << t->bits) - 1u);
    int32_t lo = t->bits == 8 ? -128 : t->lo;
    for (int32_t i = 0; i < t->size; i++) {
        rt_set(t, i, clamp(codes[i], lo, hi));
    }
}

void rt_output(const rt_tensor *t, int8_t *codes) {
    for (int32_t i = 0; i < t->size; i++) {
        codes[i] = (int8_t) rt_get(t, i);
    }
}

/*
 * One output element per (oy, ox, oc): bias plus the sum over the kernel window's taps of (input - in_zero) x weight,
 * requantized. The two layers differ only in which input channels a tap reads and where their weights lie:
 *   conv2d (filters OHWI):      channels in_c from 0, weights at ((oc k_h + ky) k_w + kx) in_c + ic;
 *   depthwise (filter 1HWO):    channel oc / depth_multiplier alone, weight at (ky k_w + kx) out_c + oc.
 * So each reads channels [first, first + channels) of a tap, with weights from w_first + tap w_tap_stride onwards.
 * Inlined into both callers with depthwise a constant, so each compiles to its own loop as if written out (on the
 * Cortex-M4 a shared, not inlined loop costs DS-CNN 13 % more instructions at W8A8).
 */
#if defined(__GNUC__)
#define RT_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define RT_ALWAYS_INLINE static inline
#endif

RT_ALWAYS_INLINE void conv_window(const rt_conv_shape *s, const rt_weights *w, const int32_t *bias,
                                   const rt_requant *rq, const rt_tensor *in, const rt_tensor *out, int32_t depthwise) {
    int32_t taps = s->k_h * s->k_w;
    int32_t channels = depthwise ? 1 : s->in_c;
    int32_t w_tap_stride = depthwise ? s->out_c : s->in_c;
    int32_t o = 0;
    for (int32_t oy = 0; oy < s->out_h; oy++) {
        for (int32_t ox = 0; ox < s->out_w; ox++) {
            int32_t y0 = oy * s->stride_h - s->pad_top;
            int32_t x0 = ox * s->stride_w - s->pad_left;
            for (int32_t oc = 0; oc < s->out_c; oc++) {
                int32_t first = depthwise ? oc / s->depth_multiplier : 0;
                int32_t w_first = depthwise ? oc : oc * taps * s->in_c;
                uint32_t acc = bias ? (uint32_t) bias[oc] : 0u;
                for (int32_t ky = 0; ky < s->k_h; ky++) {
                    int32_t iy = y0 + ky;
                    if (iy < 0 || iy >= s->in_h) {
                        continue;
                    }
                    for (int32_t kx = 0; kx < s->k_w; kx++) {
                        int32_t ix = x0 + kx;
                        if (ix < 0 || ix >= s->in_w) {
                            continue;
                        }
                        int32_t p = (iy * s->in_w + ix) * s->in_c + first;
                        int32_t q = w_first + (ky * s->k_w + kx) * w_tap_stride;
                        for (int32_t c = 0; c < channels; c++) {
                            acc += (uint32_t) ((rt_get(in, p + c) - s->in_zero) * rt_weight(w, q + c));
                        }
                    }
                }
                rt_set(out, o++, requantize((int32_t) acc, rq, oc));
            }
        }
    }
}

void rt_conv2d(const rt_conv_shape *s, const rt_weights *w, const int32_t *bias, const rt_requant *rq,
               const rt_tensor *in, const rt_tensor *out) {
    conv_window(s, w, bias, rq, in, out, 0);
}

void rt_depthwise(const rt_conv_shape *s, const rt_weights *w, const int32_t *bias, const rt_requant *rq,
                  const rt_tensor *in, const rt_tensor *out) {
    conv_window(s, w, bias, rq, in, out, 1);
}

void rt_fully_connected(int32_t inputs, int32_t outputs, int32_t in_zero, const rt_weights *w, const int32_t *bias,
                        const rt_requant *rq, const rt_tensor *in, const rt_tensor *out) {
    for (int32_t o = 0; o < outputs; o++) {
        uint32_t acc = bias ? (uint32_t) bias[o] : 0u;
        int32_t q = o * inputs;
        for (int32_t i = 0; i < inputs; i++) {
            acc += (uint32_t) ((rt_get(in, i) - in_zero) * rt_weight(w, q + i));
        }
        rt_set(out, o, requantize((int32_t) acc, rq, o));
    }
}

void rt_add(const rt_add_params *p, const rt_tensor *a, const rt_tensor *b, const rt_tensor *out) {
    for (int32_t i = 0; i < out->size; i++) {
        int32_t x1 = shift_left(p->in1_offset + rt_get(a, i), p->left_shift);
        int32_t x2 = shift_left(p->in2_offset + rt_get(b, i), p->left_shift);
        int32_t s1 = multiply_smaller_than_one(x1, p->in1_multiplier, p->in1_shift);
        int32_t s2 = multiply_smaller_than_one(x2, p->in2_multiplier, p->in2_shift);
        int32_t raw = multiply_smaller_than_one(wrap((int64_t) s1 + s2), p->out_multiplier, p->out_shift)
                      + p->out_offset;
        rt_set(out, i, clamp(raw, p->lo, p->hi));
    }
}

void rt_relu_x(int32_t in_zero, int32_t multiplier, int32_t shift, int32_t out_zero, int32_t lo, int32_t hi,
               const rt_tensor *in, const rt_tensor *out) {
    for (int32_t i = 0; i < out->size; i++) {
        int32_t v = out_zero + rt_multiply_by_quantized_multiplier(rt_get(in, i) - in_zero, multiplier, shift);
        rt_set(out, i, clamp(v, lo, hi));
    }
}

void rt_pool(int32_t average, int32_t h, int32_t w, int32_t c, int32_t k_h, int32_t k_w, int32_t stride_h,
             int32_t stride_w, int32_t pad_top, int32_t pad_left, int32_t out_h, int32_t out_w, int32_t lo, int32_t hi,
             const rt_tensor *in, const rt_tensor *out) {
    int32_t o = 0;
    for (int32_t oy = 0; oy < out_h; oy++) {
        int32_t iy0 = oy * stride_h - pad_top;
        int32_t fy0 = iy0 < 0 ? -iy0 : 0;
        int32_t fy1 = h - iy0 < k_h ? h - iy0 : k_h;
        for (int32_t ox = 0; ox < out_w; ox++) {
            int32_t ix0 = ox * stride_w - pad_left;
            int32_t fx0 = ix0 < 0 ? -ix0 : 0;
            int32_t fx1 = w - ix0 < k_w ? w - ix0 : k_w;
            for (int32_t ch = 0; ch < c; ch++) {
                int32_t acc = average ? 0 : INT32_MIN;
                int32_t count = 0;
                for (int32_t fy = fy0; fy < fy1; fy++) {
                    for (int32_t fx = fx0; fx < fx1; fx++) {
                        int32_t v = rt_get(in, ((iy0 + fy) * w + ix0 + fx) * c + ch);
                        acc = average ? acc + v : (v > acc ? v : acc);
                        count++;
                    }
                }
                if (average && count > 0) {
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                }
                rt_set(out, o++, clamp(acc, lo, hi));
            }
        }
    }
}

void rt_mean(int32_t spatial, int32_t c, int32_t in_zero, int32_t multiplier, int32_t shift, int32_t out_zero,
             int32_t lo, int32_t hi, const rt_tensor *in, const rt_tensor *out) {
    for (int32_t ch = 0; ch < c; ch++) {
        uint32_t sum = 0;
        for (int32_t s = 0; s < spatial; s++) {
            sum += (uint32_t) rt_get(in, s * c + ch);
        }
        int32_t shifted = (int32_t) (sum - (uint32_t) in_zero * (uint32_t) spatial);
        int32_t v = rt_multiply_by_quantized_multiplier(shifted, multiplier, shift) + out_zero;
        rt_set(out, ch, clamp(v, lo, hi));
    }
}

void rt_pad(int32_t h, int32_t w, int32_t c, int32_t top, int32_t left, int32_t front, int32_t out_h,
            int32_t out_w, int32_t out_c, int32_t fill, const rt_tensor *in, const rt_tensor *out) {
    for (int32_t i = 0; i < out->size; i++) {
        rt_set(out, i, fill);
    }
    for (int32_t y = 0; y < h; y++) {
        for (int32_t x = 0; x < w; x++) {
            for (int32_t ch = 0; ch < c; ch++) {
                int32_t dst = ((y + top) * out_w + x + left) * out_c + ch + front;
                rt_set(out, dst, rt_get(in, (y * w + x) * c + ch));
            }
        }
    }
    (void) out_h;
}

void rt_copy(const rt_tensor *in, const rt_tensor *out) {
    for (int32_t i = 0; i < out->size; i++) {
        rt_set(out, i, rt_get(in, i));
    }
}

void rt_softmax(int32_t rows, int32_t depth, int32_t input_multiplier, int32_t input_left_shift, int32_t diff_min,
                const rt_tensor *in, const rt_tensor *out) {
    const int32_t scaled_diff_integer_bits = 5;
    const int32_t accumulation_integer_bits = 12;
    for (int32_t r = 0; r < rows; r++) {
        int32_t base = r * depth;
        int32_t max = INT32_MIN;
        for (int32_t c = 0; c < depth; c++) {
            int32_t v = rt_get(in, base + c);
            max = v > max ? v : max;
        }
        int32_t sum_of_exps = 0;
        for (int32_t c = 0; c < depth; c++) {
            int32_t diff = rt_get(in, base + c) - max;
            if (diff >= diff_min) {
                int32_t scaled = multiply_greater_than_one(diff, input_multiplier, input_left_shift);
                int32_t e = exp_on_negative_values(scaled, scaled_diff_integer_bits);
                sum_of_exps = wrap((int64_t) sum_of_exps + rescale(e, 0, accumulation_integer_bits));
            }
        }
        int32_t bits_over_unit = 0;
        int32_t shifted_scale = reciprocal(sum_of_exps, accumulation_integer_bits, &bits_over_unit);
        for (int32_t c = 0; c < depth; c++) {
            int32_t diff = rt_get(in, base + c) - max;
            int32_t q = -128;
            if (diff >= diff_min) {
                int32_t scaled = multiply_greater_than_one(diff, input_multiplier, input_left_shift);
                int32_t e = exp_on_negative_values(scaled, scaled_diff_integer_bits);
                int32_t unsat = rdbpot(srdhm(shifted_scale, e), bits_over_unit + 31 - 8);
                q = clamp(unsat - 128, -128, 127);
            }
            rt_set(out, base + c, q);
        }
    }
}
