/*
 * entry.c — the one exported symbol of libplexus-image.so and the PX_EXT_MODELS table. Everything else is in the
 * files named after their role: image_model.c (loading), image_format.c (what the file must hold),
 * image_request.c (inputs, noise), image_step.c (a step), image_net.c (the network), image_sampler.c (DDIM).
 */
#include "image_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

px_status image_fail(const px_host *host, px_status status, const char *message) {
    host->set_error(host, message);
    return status;
}

static px_status image_init(const px_host *host, const px_init_args *args, px_plugin **out_plugin) {
    if (host->header.size < sizeof(px_host) || args->abi_major != PX_ABI_MAJOR)
        return image_fail(host, PX_ERR_VERSION, "the image plugin needs a Plexus 1.x host table");
    struct px_plugin *plugin = calloc(1, sizeof *plugin);
    if (plugin == NULL) return image_fail(host, PX_ERR_OUT_OF_MEMORY, "out of memory");
    plugin->host = host;
    plugin->scope = args->scope;
    *out_plugin = plugin;
    return PX_OK;
}

static void image_deinit(px_plugin *plugin) { free(plugin); }

px_status image_map_gguf(const px_host *host, px_scope *scope, const char *path, px_buffer **file, gguf_file **gguf,
                         char *error, size_t capacity) {
    px_status status = host->mem_map_file(host, scope, path, 0, 0, file);
    if (status != PX_OK) return status; /* the host's message (e.g. "cannot open ...: No such file") stands */
    px_buffer_view view = {PX_HEADER_INIT(px_buffer_view), NULL, 0, 0, 0, 0};
    status = host->mem_address(host, *file, &view);
    char reason[256] = {0};
    int parsed = status == PX_OK ? gguf_open(view.host, view.bytes, gguf, reason, sizeof reason) : GGUF_ERR_ARGUMENT;
    if (parsed != GGUF_OK) {
        host->mem_free(host, *file);
        *file = NULL;
        if (status == PX_OK) snprintf(error, capacity, "'%.200s' is not a valid GGUF file: %.250s", path, reason);
        return status == PX_OK ? PX_ERR_FORMAT : status;
    }
    return PX_OK;
}

/* Scores a file: 100 for a GGUF whose architecture is px-digits-ddim, 0 otherwise. */
static px_status image_probe(px_plugin *plugin, const char *path, uint32_t *out_score) {
    const px_host *host = plugin->host;
    px_buffer *file = NULL;
    gguf_file *gguf = NULL;
    char error[512];
    *out_score = 0;
    if (image_map_gguf(host, plugin->scope, path, &file, &gguf, error, sizeof error) != PX_OK) return PX_OK;
    gguf_string arch = {0};
    if (gguf_get_string(gguf, "general.architecture", &arch) == GGUF_OK && arch.len == strlen(IMAGE_ARCHITECTURE) &&
        memcmp(arch.ptr, IMAGE_ARCHITECTURE, arch.len) == 0)
        *out_score = 100;
    gguf_close(gguf);
    host->mem_free(host, file);
    return PX_OK;
}

static const char *const formats[] = {"gguf", NULL};

static const px_model_api model_api = {
    PX_HEADER_INIT(px_model_api),
    1u << PX_KIND_IMAGE,
    0,
    formats,
    image_probe,
    image_model_create,
    image_model_destroy,
    image_model_info,
    NULL, /* image_tokens: VLM only */
    image_request_create,
    image_request_destroy,
    image_step,
    NULL, /* step_finish: the CPU path emits everything during the step */
};

static const void *image_get_extension(px_plugin *plugin, const char *id) {
    (void)plugin;
    return strcmp(id, PX_EXT_MODELS) == 0 ? &model_api : NULL;
}

PX_EXPORT const px_entry plexus_plugin_entry = {
    PX_HEADER_INIT(px_entry),
    PX_ABI_MAJOR,
    PX_ABI_MINOR,
    "org.plexus.image",
    "Plexus image",
    "0.1.0",
    "Plexus",
    "DDIM diffusion (px-digits-ddim: 8x8 and 16x16 handwritten digits) on the host's CPU workers",
    image_init,
    image_deinit,
    image_get_extension,
};
