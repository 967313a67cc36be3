/*
 * image_request.c — one request: its input checked against the spec ("Requests"), the sampling parameters, and the
 * initial x of its images drawn from the seed's noise stream into a host buffer.
 */
#include "image_plugin.h"

#include <stdio.h>
#include <stdlib.h>

uint32_t image_prompt_class(const char *prompt) {
    for (const char *p = prompt; p != NULL && *p != '\0'; p++)
        if (*p >= '0' && *p <= '9') return (uint32_t)(*p - '0');
    return IMAGE_CLASS_NONE;
}

/* A side: 0 -> the default, else a multiple of 8 in 8..IMAGE_MAX_SIDE. */
static px_status read_side(const char *field, uint32_t value, uint32_t *out, char *e, size_t c) {
    if (value == 0) value = IMAGE_DEFAULT_SIDE;
    if (value % 8 != 0 || value > IMAGE_MAX_SIDE) {
        snprintf(e, c, "%s %u is not a multiple of 8 in 8..%u", field, value, IMAGE_MAX_SIDE);
        return PX_ERR_INVALID_ARGUMENT;
    }
    *out = value;
    return PX_OK;
}

px_status image_input_read(const px_image_input *in, const image_config *config, image_sampling *sampling,
                           uint32_t *n_images, char *e, size_t c) {
    if (in->negative_prompt != NULL && in->negative_prompt[0] != '\0') {
        snprintf(e, c, "negative_prompt is not supported by %s (leave it empty)", IMAGE_ARCHITECTURE);
        return PX_ERR_UNSUPPORTED;
    }
    if (in->init_image != NULL || in->strength != 0.0f) {
        snprintf(e, c, "%s: image-to-image is not built in %s", in->init_image != NULL ? "init_image" : "strength",
                 IMAGE_ARCHITECTURE);
        return PX_ERR_UNSUPPORTED;
    }
    image_sampling s = {0};
    px_status status = read_side("width", in->width, &s.width, e, c);
    if (status == PX_OK) status = read_side("height", in->height, &s.height, e, c);
    if (status != PX_OK) return status;
    uint32_t images = in->n_images == 0 ? 1 : in->n_images;
    if (images > IMAGE_MAX_IMAGES) {
        snprintf(e, c, "n_images %u is outside 1..%u", images, IMAGE_MAX_IMAGES);
        return PX_ERR_INVALID_ARGUMENT;
    }
    s.n_steps = in->n_steps == 0 ? config->default_steps : in->n_steps;
    if (s.n_steps > IMAGE_TRAIN_TIMESTEPS) {
        snprintf(e, c, "n_steps %u is outside 1..%u", s.n_steps, IMAGE_TRAIN_TIMESTEPS);
        return PX_ERR_INVALID_ARGUMENT;
    }
    s.guidance = in->guidance == 0.0f ? config->default_guidance : (double)in->guidance;
    if (!(s.guidance >= 1.0 && s.guidance <= IMAGE_GUIDANCE_MAX)) {
        snprintf(e, c, "guidance %g is outside [1, %g] (0 = the model's default %g)", s.guidance, IMAGE_GUIDANCE_MAX,
                 config->default_guidance);
        return PX_ERR_INVALID_ARGUMENT;
    }
    s.cls = image_prompt_class(in->prompt);
    *sampling = s;
    *n_images = images;
    return PX_OK;
}

/* x of every image from the seed's stream: image j takes the H*W normals after image j-1's, row-major. */
static void draw_noise(double *x, uint64_t count, uint64_t seed) {
    image_rng rng;
    image_rng_seed(&rng, seed);
    for (uint64_t i = 0; i < count; i++) x[i] = image_rng_normal(&rng);
}

px_status image_request_create(px_model *m, const px_request_desc *desc, px_request **out_request) {
    const px_host *host = m->host;
    const px_image_input *input = desc->input;
    if (desc->kind != PX_KIND_IMAGE || input == NULL || !PX_HAS_FIELD(input, px_image_input, init_image))
        return image_fail(host, PX_ERR_INVALID_ARGUMENT, "the image plugin takes PX_KIND_IMAGE requests with a px_image_input");
    char e[256] = {0};
    image_sampling sampling;
    uint32_t n_images = 0;
    px_status status = image_input_read(input, &m->config, &sampling, &n_images, e, sizeof e);
    if (status != PX_OK) return image_fail(host, status, e);
    struct px_request *request = calloc(1, sizeof *request);
    if (request == NULL) return image_fail(host, PX_ERR_OUT_OF_MEMORY, "out of memory");
    request->sink = desc->sink;
    request->sampling = sampling;
    request->n_images = n_images;
    uint64_t count = (uint64_t)n_images * sampling.height * sampling.width;
    px_alloc_desc alloc = {PX_HEADER_INIT(px_alloc_desc), count * sizeof(double), 64, PX_MEMORY_HOST, PX_RESIDENCY_KV, 0,
                           "image latents"};
    px_buffer_view view = {PX_HEADER_INIT(px_buffer_view), NULL, 0, 0, 0, 0};
    status = host->mem_alloc(host, m->scope, &alloc, &request->latents);
    if (status == PX_OK) status = host->mem_address(host, request->latents, &view);
    if (status == PX_OK && (view.host == NULL || view.bytes < alloc.bytes))
        status = image_fail(host, PX_ERR_INTERNAL, "the image latents buffer is not host memory of the size asked");
    if (status != PX_OK) {
        image_request_destroy(m, request);
        return status;
    }
    draw_noise(view.host, count, input->seed);
    *out_request = request;
    return PX_OK;
}

void image_request_destroy(px_model *m, px_request *request) {
    if (request == NULL) return;
    m->host->mem_free(m->host, request->latents);
    free(request);
}
