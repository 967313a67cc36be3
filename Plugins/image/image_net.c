/*
 * image_net.c — the network of image_net.h in float32, in the order of the spec: conditioning (time MLP + class),
 * conv_in, four residual blocks, conv_out. Feature maps are channels-last [H, W, C] and convolution weights
 * tap-major [9, in, out], so a 3x3 convolution is, per output pixel, a sum over taps and input channels of one
 * input value times a contiguous row of output-channel weights: the inner loop vectorizes over output channels
 * without reassociating any sum, at every image size.
 */
#include "image_net.h"

#include <math.h>
#include <string.h>

static const uint32_t dilations[IMAGE_BLOCKS] = {1, 2, 1, 2};

static inline float silu(float v) { return v / (1.0f + expf(-v)); }

/* out [n_out] = W [n_out, n_in] @ in [n_in] + b */
static void dense(const float *w, const float *b, const float *in, uint32_t n_in, uint32_t n_out, float *out) {
    for (uint32_t o = 0; o < n_out; o++) {
        const float *row = w + (uint64_t)o * n_in;
        float sum = 0.0f;
        for (uint32_t i = 0; i < n_in; i++) sum += row[i] * in[i];
        out[o] = sum + b[o];
    }
}

/* How a convolution's result lands in its output. */
typedef enum conv_mode { CONV_SET, CONV_ADD } conv_mode;

/* out [H, W, C] (=, or += for the residual) conv(in [H, W, n_in], w [9, n_in, C], dilation d, zero padding d) + b [C]:
 * a cross-correlation (torch's conv2d) to C output channels. Taps outside the image contribute nothing. */
static void conv3x3_to_c(const float *in, uint32_t n_in, const float *w, const float *b, uint32_t height, uint32_t width,
                         uint32_t d, conv_mode mode, float *out) {
    const int64_t H = height, W = width, D = d;
    for (int64_t y = 0; y < H; y++) {
        for (int64_t x = 0; x < W; x++) {
            float acc[IMAGE_CHANNELS] = {0};
            for (int64_t tap = 0; tap < 9; tap++) {
                int64_t sy = y + (tap / 3 - 1) * D, sx = x + (tap % 3 - 1) * D;
                if (sy < 0 || sy >= H || sx < 0 || sx >= W) continue;
                const float *src = in + (sy * W + sx) * n_in;
                const float *wt = w + (uint64_t)tap * n_in * IMAGE_CHANNELS;
                for (uint32_t i = 0; i < n_in; i++) {
                    const float v = src[i], *row = wt + (uint64_t)i * IMAGE_CHANNELS;
                    for (uint32_t o = 0; o < IMAGE_CHANNELS; o++) acc[o] += row[o] * v;
                }
            }
            float *dst = out + (y * W + x) * IMAGE_CHANNELS;
            if (mode == CONV_ADD)
                for (uint32_t o = 0; o < IMAGE_CHANNELS; o++) dst[o] += acc[o] + b[o];
            else
                for (uint32_t o = 0; o < IMAGE_CHANNELS; o++) dst[o] = acc[o] + b[o];
        }
    }
}

/* out [H, W] = conv(in [H, W, C], w [9, C, 1], dilation 1, zero padding 1) + b [1]: the one-channel output. */
static void conv3x3_to_1(const float *in, const float *w, const float *b, uint32_t height, uint32_t width, float *out) {
    const int64_t H = height, W = width;
    for (int64_t y = 0; y < H; y++) {
        for (int64_t x = 0; x < W; x++) {
            float acc = 0.0f;
            for (int64_t tap = 0; tap < 9; tap++) {
                int64_t sy = y + tap / 3 - 1, sx = x + tap % 3 - 1;
                if (sy < 0 || sy >= H || sx < 0 || sx >= W) continue;
                const float *src = in + (sy * W + sx) * IMAGE_CHANNELS, *wt = w + tap * IMAGE_CHANNELS;
                for (uint32_t i = 0; i < IMAGE_CHANNELS; i++) acc += wt[i] * src[i];
            }
            out[y * W + x] = acc + b[0];
        }
    }
}

uint64_t image_net_scratch_floats(uint32_t height, uint32_t width) {
    return 2ull * IMAGE_CHANNELS * height * width;
}

void image_net_condition(const image_weights *w, uint32_t t, uint32_t c, float *cond) {
    float temb[IMAGE_TIME_DIM], hidden[IMAGE_EMBED_DIM], e[IMAGE_EMBED_DIM];
    /* in float64, rounded once: a float32 argument t * f_i is off by up to ~1e-4 near t = 1000 */
    for (uint32_t i = 0; i < IMAGE_TIME_DIM / 2; i++) {
        double arg = (double)t * exp(-log(10000.0) * i / (IMAGE_TIME_DIM / 2));
        temb[i] = (float)sin(arg);
        temb[IMAGE_TIME_DIM / 2 + i] = (float)cos(arg);
    }
    dense(w->time1_w, w->time1_b, temb, IMAGE_TIME_DIM, IMAGE_EMBED_DIM, hidden);
    for (uint32_t i = 0; i < IMAGE_EMBED_DIM; i++) hidden[i] = silu(hidden[i]);
    dense(w->time2_w, w->time2_b, hidden, IMAGE_EMBED_DIM, IMAGE_EMBED_DIM, e);
    const float *class_row = w->class_embed + (uint64_t)c * IMAGE_EMBED_DIM;
    for (uint32_t i = 0; i < IMAGE_EMBED_DIM; i++) cond[i] = silu(e[i] + class_row[i]);
}

void image_net_forward(const image_weights *w, const float *x, uint32_t height, uint32_t width, uint32_t t, uint32_t c,
                       float *scratch, float *eps) {
    const uint64_t pixels = (uint64_t)height * width, maps = pixels * IMAGE_CHANNELS;
    float *h = scratch;        /* [H, W, C] the residual stream */
    float *u = scratch + maps; /* [H, W, C] a block's activated input */
    float cond[IMAGE_EMBED_DIM], shift[IMAGE_CHANNELS];
    image_net_condition(w, t, c, cond);

    conv3x3_to_c(x, 1, w->conv_in_w, w->conv_in_b, height, width, 1, CONV_SET, h);
    for (uint32_t k = 0; k < IMAGE_BLOCKS; k++) {
        dense(w->block[k].cond_w, w->block[k].cond_b, cond, IMAGE_EMBED_DIM, IMAGE_CHANNELS, shift);
        for (uint64_t p = 0; p < pixels; p++)
            for (uint32_t ch = 0; ch < IMAGE_CHANNELS; ch++)
                u[p * IMAGE_CHANNELS + ch] = silu(h[p * IMAGE_CHANNELS + ch] + shift[ch]);
        conv3x3_to_c(u, IMAGE_CHANNELS, w->block[k].conv_w, w->block[k].conv_b, height, width, dilations[k], CONV_ADD, h);
    }
    for (uint64_t p = 0; p < maps; p++) u[p] = silu(h[p]);
    conv3x3_to_1(u, w->conv_out_w, w->conv_out_b, height, width, eps);
}
