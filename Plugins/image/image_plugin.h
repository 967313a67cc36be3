/*
 * image_plugin.h — what the host-facing files of the image plugin share: the plugin instance, a loaded model, a
 * request, and the functions the entry table (entry.c) dispatches to. The math lives in image_net.c and
 * image_sampler.c, the file format in image_format.c; these files only adapt them to the host.
 */
#ifndef PLEXUS_IMAGE_PLUGIN_H
#define PLEXUS_IMAGE_PLUGIN_H

#include "gguf.h"
#include "image_format.h"
#include "image_net.h"
#include "image_sampler.h"
#include "plexus_plugin.h"

#include <stddef.h>
#include <stdint.h>

#define IMAGE_MAX_IMAGES 16      /* images per request */
#define IMAGE_DEFAULT_MAX_ITEMS 64 /* max_batch_items unless the catalog says otherwise */

struct px_plugin {
    const px_host *host;
    px_scope *scope;
};

/** One image of one request: the unit of work of a parallel_for task. */
typedef struct image_task {
    px_request *request;
    uint32_t image; /* 0..n_images-1 */
} image_task;

struct px_model {
    const px_host *host;
    px_scope *scope;
    image_config config;
    image_layout layout;      /* offsets into `weights` (its `source` pointers died with the file mapping) */
    image_schedule schedule;
    px_buffer *weights;       /* the packed f32 tensors [layout.total_bytes], PX_MEMORY_DEVICE, PX_RESIDENCY_WEIGHTS:
                                 the host may move it between steps, so its address is re-queried in every step */
    px_buffer *scratch;       /* [workers, worker_floats] f32 per-worker evaluation scratch, PX_RESIDENCY_ACTIVATIONS */
    uint64_t worker_floats;   /* image_denoise_scratch_floats of the largest image */
    uint32_t workers;         /* the host's CPU workers at load: parallel_for's worker index is below this */
    uint32_t max_items;       /* max_batch_items */
    px_request **active;      /* [max_items] requests that run denoise steps in the current step */
    image_task *tasks;        /* [max_items * IMAGE_MAX_IMAGES] the images of one round of a step */
};

/** One request: its sampling parameters and the x of its images between steps. */
struct px_request {
    px_sink *sink;
    image_sampling sampling;
    uint32_t n_images;
    uint32_t done;         /* denoise steps run so far (0..sampling.n_steps) */
    uint32_t todo;         /* denoise steps to run in the current step */
    int ended;             /* FINAL emitted */
    px_buffer *latents;    /* x [n_images, H, W] f64, PX_MEMORY_HOST, PX_RESIDENCY_KV (a per-request cache) */
    double *x;             /* `latents`' address for the current call only */
};

/** Sets the error message and returns `status` (every failure path goes through here). */
px_status image_fail(const px_host *host, px_status status, const char *message);

/** Maps `path` through the host and parses it as GGUF. On failure nothing stays mapped and `error` says why. */
px_status image_map_gguf(const px_host *host, px_scope *scope, const char *path, px_buffer **file, gguf_file **gguf,
                         char *error, size_t capacity);

/* Models (image_model.c) */
px_status image_model_create(px_plugin *plugin, const px_model_desc *desc, px_model **out_model);
void image_model_destroy(px_model *model);
px_status image_model_info(px_model *model, px_model_info *info);

/* Requests (image_request.c) */
/** The sampling parameters of an input, with the spec's defaults for 0 values. No host needed: on failure returns
 *  PX_ERR_INVALID_ARGUMENT or PX_ERR_UNSUPPORTED with a message naming the field. */
px_status image_input_read(const px_image_input *input, const image_config *config, image_sampling *sampling,
                           uint32_t *n_images, char *error, size_t capacity);
/** The class a prompt asks for: its first ASCII digit, or IMAGE_CLASS_NONE. NULL is an empty prompt. */
uint32_t image_prompt_class(const char *prompt);
px_status image_request_create(px_model *model, const px_request_desc *desc, px_request **out_request);
void image_request_destroy(px_model *model, px_request *request);

/* Steps (image_step.c) */
px_status image_step(px_model *model, const px_step *step);

#endif
