/*
 * image_model.c — loading a px-digits-ddim model: map the file through the host, check it (image_format.c), pack its
 * tensors into one weights buffer from the host's pool, release the mapping, allocate per-worker scratch.
 */
#include "image_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The catalog options this plugin understands: max_batch_items. */
static px_status parse_options(px_model *m, const px_model_desc *desc, char *e, size_t c) {
    m->max_items = IMAGE_DEFAULT_MAX_ITEMS;
    for (uint32_t i = 0; i < desc->n_options; i++) {
        const char *key = desc->options[i].key, *value = desc->options[i].value;
        if (strcmp(key, "max_batch_items") != 0) {
            snprintf(e, c, "unknown option '%.100s' (this plugin knows: max_batch_items)", key);
            return PX_ERR_INVALID_ARGUMENT;
        }
        char *end = NULL;
        unsigned long parsed = strtoul(value, &end, 10);
        if (end == value || *end != '\0' || parsed == 0 || parsed > 1024) {
            snprintf(e, c, "option max_batch_items='%.100s' must be an integer in 1..1024", value);
            return PX_ERR_INVALID_ARGUMENT;
        }
        m->max_items = (uint32_t)parsed;
    }
    return PX_OK;
}

/* Packs every tensor from the file mapping into its place in one weights buffer (device memory of the model's
 * device, evictable as weights), written through the load stream from a small host staging copy. */
static px_status load_weights(px_model *m, px_stream *stream, char *e, size_t c) {
    const px_host *host = m->host;
    px_alloc_desc desc = {PX_HEADER_INIT(px_alloc_desc), m->layout.total_bytes, 64, PX_MEMORY_DEVICE,
                          PX_RESIDENCY_WEIGHTS, 0, "image weights"};
    px_status status = host->mem_alloc(host, m->scope, &desc, &m->weights);
    if (status != PX_OK) return status;
    uint64_t largest = 0;
    for (uint32_t i = 0; i < IMAGE_TENSOR_COUNT; i++) largest = m->layout.bytes[i] > largest ? m->layout.bytes[i] : largest;
    float *staging = malloc(largest); /* one tensor: at most C * C * 9 floats (36 KiB) */
    if (staging == NULL) return PX_ERR_OUT_OF_MEMORY;
    for (uint32_t i = 0; status == PX_OK && i < IMAGE_TENSOR_COUNT; i++) {
        image_pack_tensor(i, m->layout.source[i], staging);
        status = host->mem_write(host, stream, m->weights, m->layout.offset[i], staging, m->layout.bytes[i]);
    }
    free(staging);
    if (status == PX_OK) status = host->stream_synchronize(host, stream);
    if (status != PX_OK) snprintf(e, c, "copying the weights (%llu bytes) failed", (unsigned long long)m->layout.total_bytes);
    return status;
}

/* Per-worker scratch for one image evaluation of the largest size, and the step's bookkeeping arrays. */
static px_status allocate_scratch(px_model *m, px_stream *stream, char *e, size_t c) {
    const px_host *host = m->host;
    px_stream_info info = {PX_HEADER_INIT(px_stream_info), 0, 0, 0, 0, NULL, 0, 0};
    px_status status = host->stream_info(host, stream, &info);
    if (status != PX_OK) return status;
    m->workers = info.cpu_workers > 0 ? info.cpu_workers : 1;
    m->worker_floats = (image_denoise_scratch_floats(IMAGE_MAX_SIDE, IMAGE_MAX_SIDE) + 15) / 16 * 16; /* 64-byte rows */
    uint64_t bytes = (uint64_t)m->workers * m->worker_floats * sizeof(float);
    px_alloc_desc desc = {PX_HEADER_INIT(px_alloc_desc), bytes, 64, PX_MEMORY_HOST, PX_RESIDENCY_ACTIVATIONS, 0,
                          "image scratch"};
    if ((status = host->mem_alloc(host, m->scope, &desc, &m->scratch)) != PX_OK) {
        snprintf(e, c, "cannot allocate %llu bytes of step scratch", (unsigned long long)bytes);
        return status;
    }
    m->active = calloc(m->max_items, sizeof *m->active);
    m->tasks = calloc((size_t)m->max_items * IMAGE_MAX_IMAGES, sizeof *m->tasks);
    if (m->active == NULL || m->tasks == NULL) {
        snprintf(e, c, "out of memory");
        return PX_ERR_OUT_OF_MEMORY;
    }
    return PX_OK;
}

/* Maps and checks the file, then copies its weights; the mapping is released whatever happens. */
static px_status load_file(px_model *m, const px_model_desc *desc, char *e, size_t c) {
    px_buffer *file = NULL;
    gguf_file *gguf = NULL;
    char reason[400] = {0};
    px_status status = image_map_gguf(m->host, desc->scope, desc->paths[0], &file, &gguf, e, c);
    if (status != PX_OK) return status;
    if ((status = image_format_read(gguf, &m->config, &m->layout, reason, sizeof reason)) != PX_OK)
        snprintf(e, c, "'%.200s': %.300s", desc->paths[0], reason);
    if (status == PX_OK) status = load_weights(m, desc->load_stream, e, c);
    memset(m->layout.source, 0, sizeof m->layout.source); /* they point into the mapping, released here */
    gguf_close(gguf);
    m->host->mem_free(m->host, file);
    return status;
}

void image_model_destroy(px_model *m) {
    if (m == NULL) return;
    const px_host *host = m->host;
    host->mem_free(host, m->weights);
    host->mem_free(host, m->scratch);
    free(m->active);
    free(m->tasks);
    free(m);
}

px_status image_model_create(px_plugin *plugin, const px_model_desc *desc, px_model **out_model) {
    const px_host *host = plugin->host;
    char e[512] = {0};
    if (desc->n_paths != 1) return image_fail(host, PX_ERR_INVALID_ARGUMENT, "the image plugin loads exactly one GGUF file");
    if (desc->device == PX_DEVICE_CUDA)
        return image_fail(host, PX_ERR_UNSUPPORTED,
                          "the image plugin runs on the CPU only for now: place this model on the CPU (device cpu)");
    if (desc->device != PX_DEVICE_CPU) {
        snprintf(e, sizeof e, "device %u is not one the image plugin runs on (CPU only)", desc->device);
        return image_fail(host, PX_ERR_UNSUPPORTED, e);
    }
    px_model *m = calloc(1, sizeof *m);
    if (m == NULL) return image_fail(host, PX_ERR_OUT_OF_MEMORY, "out of memory");
    m->host = host;
    m->scope = desc->scope;
    px_status status = parse_options(m, desc, e, sizeof e);
    if (status == PX_OK) status = load_file(m, desc, e, sizeof e);
    if (status == PX_OK) status = allocate_scratch(m, desc->load_stream, e, sizeof e);
    if (status != PX_OK) {
        image_model_destroy(m);
        return e[0] != '\0' ? image_fail(host, status, e) : status;
    }
    image_schedule_init(&m->schedule);
    *out_model = m;
    return PX_OK;
}

px_status image_model_info(px_model *m, px_model_info *info) {
    if (!PX_HAS_FIELD(info, px_model_info, default_steps))
        return image_fail(m->host, PX_ERR_VERSION, "px_model_info is too small for an image model (no default_steps)");
    info->kind = PX_KIND_IMAGE;
    info->flags = 0;
    info->architecture = IMAGE_ARCHITECTURE;
    info->weight_bytes = m->layout.total_bytes;
    info->vocab_size = 0;
    info->context_length = 0;
    info->max_batch_tokens = 0;
    info->max_batch_items = m->max_items;
    info->kv_page_tokens = 0;
    info->embedding_size = 0;
    info->kv_page_bytes = 0;
    info->default_width = IMAGE_DEFAULT_SIDE;
    info->default_height = IMAGE_DEFAULT_SIDE;
    info->default_steps = m->config.default_steps;
    return PX_OK;
}
