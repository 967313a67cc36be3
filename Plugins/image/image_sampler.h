/*
 * image_sampler.h — the noise, the training schedule and the DDIM sampler of px-digits-ddim (Specs/image-plugin.md,
 * "Schedule and sampler" and "Noise"). Sampler arithmetic is float64; the network it calls is float32. Plain
 * functions over arrays: no host, no allocation.
 */
#ifndef PLEXUS_IMAGE_SAMPLER_H
#define PLEXUS_IMAGE_SAMPLER_H

#include "image_net.h"

#include <stdint.h>

#define IMAGE_TRAIN_TIMESTEPS 1000
#define IMAGE_BETA_START 1e-4
#define IMAGE_BETA_END 0.02
#define IMAGE_GUIDANCE_MAX 20.0 /* guidance scales are 1..20 (1 = no guidance) */

/** The noise stream of one request: splitmix64 (state = the seed), normals in Box-Muller pairs. */
typedef struct image_rng {
    uint64_t state;
    double spare;  /* the second value of the last pair, used by the next call */
    int has_spare;
} image_rng;

/** A stream at the start of `seed`. */
void image_rng_seed(image_rng *rng, uint64_t seed);

/** The next 64 random bits (splitmix64). */
uint64_t image_rng_next(image_rng *rng);

/** The next standard normal (float64): both values of every Box-Muller pair, in order. */
double image_rng_normal(image_rng *rng);

/** alphas_cumprod of the training schedule: cumprod(1 - linspace(beta_start, beta_end, 1000)), float64. */
typedef struct image_schedule {
    double alphas_cumprod[IMAGE_TRAIN_TIMESTEPS];
} image_schedule;

void image_schedule_init(image_schedule *schedule);

/** Timestep of denoise step `i` (0..n_steps-1) of n_steps (1..1000): (n_steps - 1 - i) * (1000 / n_steps). */
uint32_t image_timestep(uint32_t n_steps, uint32_t i);

/** What a request fixes for every denoise step of its images. */
typedef struct image_sampling {
    uint32_t height, width; /* pixels, each 8..IMAGE_MAX_SIDE */
    uint32_t n_steps;       /* denoise steps in all, 1..1000 */
    uint32_t cls;           /* 0..9, or IMAGE_CLASS_NONE */
    double guidance;        /* classifier-free guidance scale, >= 1 */
} image_sampling;

/** Floats of scratch image_denoise_step needs for one image of this size. */
uint64_t image_denoise_scratch_floats(uint32_t height, uint32_t width);

/**
 * Denoise step `step` (0..n_steps-1) of one image, in place: x [H, W] f64 becomes the x of the next timestep.
 * Guided eps = eps_none + g (eps_c - eps_none), one network evaluation when the class is none or g == 1.
 * `scratch`: image_denoise_scratch_floats floats. `eps_out` (may be NULL): receives the guided eps [H, W].
 */
void image_denoise_step(const image_weights *weights, const image_schedule *schedule, const image_sampling *sampling,
                        uint32_t step, double *x, float *scratch, double *eps_out);

/** The gray value of x: round-half-away-from-zero of (clip(x, -1, 1) + 1) * 127.5. */
uint8_t image_pixel(double x);

#endif
