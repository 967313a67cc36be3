/*
 * image_net.h — the epsilon-prediction network of px-digits-ddim (Specs/image-plugin.md, "Network"): a time and
 * class embedding, a 3x3 convolution in, four residual blocks of dilated 3x3 convolutions, a 3x3 convolution out.
 * Plain float32 functions over arrays: no host, no allocation (tests call them directly).
 */
#ifndef PLEXUS_IMAGE_NET_H
#define PLEXUS_IMAGE_NET_H

#include <stdint.h>

#define IMAGE_CHANNELS 32   /* C: channels of every hidden feature map */
#define IMAGE_BLOCKS 4      /* B: residual blocks */
#define IMAGE_TIME_DIM 32   /* sinusoidal time embedding: 16 sines, 16 cosines */
#define IMAGE_EMBED_DIM 64  /* the time MLP's width and the conditioning vector */
#define IMAGE_CLASSES 10    /* digits 0..9 */
#define IMAGE_CLASS_NONE 10 /* the unconditional class (classifier-free guidance) */
#define IMAGE_MAX_SIDE 64   /* widest and tallest image the plugin serves */

/** The weights, each an f32 array: row-major as numpy holds them (GGUF's ne reversed), except the 3x3 convolution
 *  weights, which image_pack_tensor stores tap-major [3 * 3, in, out] so that the channels-last convolution runs
 *  its inner loop over contiguous output channels. */
typedef struct image_weights {
    const float *time1_w;     /* [64, 32] */
    const float *time1_b;     /* [64] */
    const float *time2_w;     /* [64, 64] */
    const float *time2_b;     /* [64] */
    const float *class_embed; /* [11, 64] */
    const float *conv_in_w;   /* [9, 1, C] (the file's [C, 1, 3, 3] tap-major) */
    const float *conv_in_b;   /* [C] */
    struct {
        const float *cond_w;  /* [C, 64] */
        const float *cond_b;  /* [C] */
        const float *conv_w;  /* [9, C, C] (the file's [C, C, 3, 3] tap-major) */
        const float *conv_b;  /* [C] */
    } block[IMAGE_BLOCKS];
    const float *conv_out_w;  /* [9, C, 1] (the file's [1, C, 3, 3] tap-major) */
    const float *conv_out_b;  /* [1] */
} image_weights;

/** Floats of scratch one evaluation of an image of this size needs (two [H, W, C] feature maps). */
uint64_t image_net_scratch_floats(uint32_t height, uint32_t width);

/** The conditioning vector of timestep `t` and class `c` (0..9, or IMAGE_CLASS_NONE): cond [64]. */
void image_net_condition(const image_weights *w, uint32_t t, uint32_t c, float *cond);

/**
 * eps [H, W] predicted for the noisy image x [H, W] at timestep `t` and class `c`. `scratch` holds
 * image_net_scratch_floats(height, width) floats; x, eps and scratch do not overlap.
 */
void image_net_forward(const image_weights *w, const float *x, uint32_t height, uint32_t width, uint32_t t, uint32_t c,
                       float *scratch, float *eps);

#endif
