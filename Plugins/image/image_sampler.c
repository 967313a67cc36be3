/*
 * image_sampler.c — noise, schedule and DDIM steps (diffusers' DDIMScheduler semantics: eta 0, "leading" timestep
 * spacing, steps_offset 0, set_alpha_to_one False, clip_sample True), all float64.
 */
#include "image_sampler.h"

#include <math.h>
#include <stddef.h>

#define IMAGE_PI 3.14159265358979323846 /* M_PI is not ISO C */

void image_rng_seed(image_rng *rng, uint64_t seed) {
    rng->state = seed;
    rng->spare = 0.0;
    rng->has_spare = 0;
}

uint64_t image_rng_next(image_rng *rng) {
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double image_rng_normal(image_rng *rng) {
    if (rng->has_spare) {
        rng->has_spare = 0;
        return rng->spare;
    }
    const double two_to_minus_53 = 1.0 / 9007199254740992.0;
    double u1 = ((double)(image_rng_next(rng) >> 11) + 0.5) * two_to_minus_53; /* in (0, 1): log is finite */
    double u2 = (double)(image_rng_next(rng) >> 11) * two_to_minus_53;
    double r = sqrt(-2.0 * log(u1));
    rng->spare = r * sin(2.0 * IMAGE_PI * u2);
    rng->has_spare = 1;
    return r * cos(2.0 * IMAGE_PI * u2);
}

void image_schedule_init(image_schedule *schedule) {
    /* numpy's linspace: start + i * step, the last value exactly the end */
    const double step = (IMAGE_BETA_END - IMAGE_BETA_START) / (IMAGE_TRAIN_TIMESTEPS - 1);
    double product = 1.0;
    for (uint32_t i = 0; i < IMAGE_TRAIN_TIMESTEPS; i++) {
        double beta = i + 1 == IMAGE_TRAIN_TIMESTEPS ? IMAGE_BETA_END : (double)i * step + IMAGE_BETA_START;
        product *= 1.0 - beta;
        schedule->alphas_cumprod[i] = product;
    }
}

uint32_t image_timestep(uint32_t n_steps, uint32_t i) {
    return (n_steps - 1 - i) * (IMAGE_TRAIN_TIMESTEPS / n_steps);
}

uint64_t image_denoise_scratch_floats(uint32_t height, uint32_t width) {
    return image_net_scratch_floats(height, width) + 3ull * height * width; /* + x in f32, eps_c, eps_none */
}

void image_denoise_step(const image_weights *weights, const image_schedule *schedule, const image_sampling *sampling,
                        uint32_t step, double *x, float *scratch, double *eps_out) {
    const uint32_t H = sampling->height, W = sampling->width;
    const uint64_t plane = (uint64_t)H * W;
    float *net_scratch = scratch;
    float *x32 = scratch + image_net_scratch_floats(H, W); /* [H, W] x as the network sees it */
    float *eps_c = x32 + plane;                             /* [H, W] eps of the request's class */
    float *eps_none = eps_c + plane;                        /* [H, W] eps of no class */

    const uint32_t t = image_timestep(sampling->n_steps, step), ratio = IMAGE_TRAIN_TIMESTEPS / sampling->n_steps;
    for (uint64_t p = 0; p < plane; p++) x32[p] = (float)x[p];
    image_net_forward(weights, x32, H, W, t, sampling->cls, net_scratch, eps_c);
    const int guided = sampling->cls != IMAGE_CLASS_NONE && sampling->guidance != 1.0;
    if (guided) image_net_forward(weights, x32, H, W, t, IMAGE_CLASS_NONE, net_scratch, eps_none);

    const double a = schedule->alphas_cumprod[t];
    const double a_prev = t >= ratio ? schedule->alphas_cumprod[t - ratio] : schedule->alphas_cumprod[0];
    const double g = sampling->guidance, sqrt_a = sqrt(a), sqrt_1a = sqrt(1.0 - a);
    const double sqrt_a_prev = sqrt(a_prev), sqrt_1a_prev = sqrt(1.0 - a_prev);
    for (uint64_t p = 0; p < plane; p++) {
        double eps = guided ? (double)eps_none[p] + g * ((double)eps_c[p] - (double)eps_none[p]) : (double)eps_c[p];
        double x0 = (x[p] - sqrt_1a * eps) / sqrt_a;
        x0 = x0 < -1.0 ? -1.0 : x0 > 1.0 ? 1.0 : x0;
        x[p] = sqrt_a_prev * x0 + sqrt_1a_prev * eps;
        if (eps_out != NULL) eps_out[p] = eps;
    }
}

uint8_t image_pixel(double x) {
    double clipped = x < -1.0 ? -1.0 : x > 1.0 ? 1.0 : x;
    if (!(clipped == clipped)) clipped = -1.0; /* NaN: black, never an undefined conversion */
    return (uint8_t)floor((clipped + 1.0) * 127.5 + 0.5); /* v >= 0: floor(v + 0.5) rounds half away from zero */
}
