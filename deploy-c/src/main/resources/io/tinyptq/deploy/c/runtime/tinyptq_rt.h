/* tinyptq runtime (written by tinyptq): int8 and packed sub-8-bit integer kernels computing what TFLite's
 * reference int8 kernels compute, as tinyptq's Java integer interpreter specifies them (io.tinyptq.integer).
 * No dynamic allocation, no floating point. */
#ifndef TINYPTQ_RT_H
#define TINYPTQ_RT_H
#include <stdint.h>

/* An activation tensor in the arena. bits == 8: one int8 code per byte. bits 1..7: code - lo packed in that many
 * unsigned bits, least significant bit first (element i at bits [i*bits, (i+1)*bits) of the byte stream). */
typedef struct {
    uint8_t *data;
    int32_t size;
    uint8_t bits;
    int16_t lo;
} rt_tensor;

/* Constant weights: bits == 8: int8; bits 1..7: two's complement packed as above. */
typedef struct {
    const uint8_t *data;
    uint8_t bits;
} rt_weights;

/* Requantization of int32 accumulators to output codes: per output channel multiplier (Q0.31) and shift
 * (positive: left), output zero point, clamp [lo, hi]. */
typedef struct {
    const int32_t *multiplier;
    const int8_t *shift;
    int32_t zero;
    int32_t lo;
    int32_t hi;
} rt_requant;

/* Convolution geometry, channels last; conv1d is a convolution of height 1. */
typedef struct {
    int32_t in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, stride_h, stride_w, pad_top, pad_left;
    int32_t depth_multiplier; /* depthwise only */
    int32_t in_zero;
} rt_conv_shape;

typedef struct {
    int32_t left_shift, in1_offset, in1_multiplier, in1_shift, in2_offset, in2_multiplier, in2_shift;
    int32_t out_offset, out_multiplier, out_shift, lo, hi;
} rt_add_params;

/* Packed storage, inline: every kernel reads and writes through these. */

static inline uint32_t rt_field(const uint8_t *p, int32_t i, uint32_t bits) {
    uint32_t bit = (uint32_t) i * bits;
    uint32_t at = bit >> 3;
    uint32_t shift = bit & 7u;
    uint32_t word = p[at];
    if (shift + bits > 8u) {
        word |= (uint32_t) p[at + 1] << 8;
    }
    return (word >> shift) & ((1u << bits) - 1u);
}

static inline int32_t rt_get(const rt_tensor *t, int32_t i) {
    if (t->bits == 8) {
        return (int8_t) t->data[i];
    }
    return t->lo + (int32_t) rt_field(t->data, i, t->bits);
}

static inline void rt_set(const rt_tensor *t, int32_t i, int32_t code) {
    if (t->bits == 8) {
        t->data[i] = (uint8_t) (int8_t) code;
        return;
    }
    uint32_t bits = t->bits;
    uint32_t mask = (1u << bits) - 1u;
    uint32_t v = (uint32_t) (code - t->lo) & mask;
    uint32_t bit = (uint32_t) i * bits;
    uint32_t at = bit >> 3;
    uint32_t shift = bit & 7u;
    uint32_t m = mask << shift;
    t->data[at] = (uint8_t) ((t->data[at] & ~m) | (v << shift));
    if (shift + bits > 8u) {
        t->data[at + 1] = (uint8_t) ((t->data[at + 1] & ~(m >> 8)) | (v >> (8u - shift)));
    }
}

static inline int32_t rt_weight(const rt_weights *w, int32_t i) {
    if (w->bits == 8) {
        return (int8_t) w->data[i];
    }
    uint32_t v = rt_field(w->data, i, w->bits);
    uint32_t sign = 1u << (w->bits - 1u);
    return (int32_t) (v ^ sign) - (int32_t) sign;
}


int32_t rt_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift);

void rt_input(const rt_tensor *t, const int8_t *codes);
void rt_output(const rt_tensor *t, int8_t *codes);
void rt_conv2d(const rt_conv_shape *s, const rt_weights *w, const int32_t *bias, const rt_requant *rq,
               const rt_tensor *in, const rt_tensor *out);
void rt_depthwise(const rt_conv_shape *s, const rt_weights *w, const int32_t *bias, const rt_requant *rq,
                  const rt_tensor *in, const rt_tensor *out);
void rt_fully_connected(int32_t inputs, int32_t outputs, int32_t in_zero, const rt_weights *w, const int32_t *bias,
                        const rt_requant *rq, const rt_tensor *in, const rt_tensor *out);
void rt_add(const rt_add_params *p, const rt_tensor *a, const rt_tensor *b, const rt_tensor *out);
void rt_relu_x(int32_t in_zero, int32_t multiplier, int32_t shift, int32_t out_zero, int32_t lo, int32_t hi,
               const rt_tensor *in, const rt_tensor *out);
void rt_pool(int32_t average, int32_t h, int32_t w, int32_t c, int32_t k_h, int32_t k_w, int32_t stride_h,
             int32_t stride_w, int32_t pad_top, int32_t pad_left, int32_t out_h, int32_t out_w, int32_t lo, int32_t hi,
             const rt_tensor *in, const rt_tensor *out);
void rt_mean(int32_t spatial, int32_t c, int32_t in_zero, int32_t multiplier, int32_t shift, int32_t out_zero,
             int32_t lo, int32_t hi, const rt_tensor *in, const rt_tensor *out);
void rt_pad(int32_t h, int32_t w, int32_t c, int32_t top, int32_t left, int32_t front, int32_t out_h,
            int32_t out_w, int32_t out_c, int32_t fill, const rt_tensor *in, const rt_tensor *out);
void rt_copy(const rt_tensor *in, const rt_tensor *out);
void rt_softmax(int32_t rows, int32_t depth, int32_t input_multiplier, int32_t input_left_shift, int32_t diff_min,
                const rt_tensor *in, const rt_tensor *out);

#endif
