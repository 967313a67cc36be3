/*
 * entry.c — the one exported symbol of libplexus-llm.so and the PX_EXT_MODELS table. Everything else is in the
 * files named after their role: llm_model.c (loading), arch_*.c (one per architecture), llm_step.c (a step),
 * llm_forward.c (the transformer), llm_attention.c (paged KV), llm_request.c + sampler.c (sampling).
 */
#include "llm_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

px_status llm_fail(const px_host *host, px_status status, const char *message) {
    host->set_error(host, message);
    return status;
}

static px_status llm_init(const px_host *host, const px_init_args *args, px_plugin **out_plugin) {
    if (host->header.size < sizeof(px_host) || args->abi_major != PX_ABI_MAJOR)
        return llm_fail(host, PX_ERR_VERSION, "the LLM plugin needs a Plexus 1.0 host table");
    struct px_plugin *plugin = calloc(1, sizeof *plugin);
    if (plugin == NULL) return llm_fail(host, PX_ERR_OUT_OF_MEMORY, "out of memory");
    plugin->host = host;
    plugin->scope = args->scope;
    *out_plugin = plugin;
    return PX_OK;
}

static void llm_deinit(px_plugin *plugin) { free(plugin); }

/* Scores a file: 100 for a GGUF whose architecture this plugin serves, 0 otherwise. */
static px_status llm_probe(px_plugin *plugin, const char *path, uint32_t *out_score) {
    const px_host *host = plugin->host;
    px_buffer *file = NULL;
    const uint8_t *base = NULL;
    uint64_t bytes = 0;
    gguf_file *gguf = NULL;
    char error[512];
    *out_score = 0;
    if (llm_map_gguf(host, plugin->scope, path, &file, &base, &bytes, &gguf, error, sizeof error) != PX_OK) return PX_OK;
    gguf_string arch = {0};
    if (gguf_get_string(gguf, "general.architecture", &arch) == GGUF_OK && llm_find_arch(arch.ptr, arch.len) != NULL)
        *out_score = 100;
    gguf_close(gguf);
    host->mem_free(host, file);
    return PX_OK;
}

px_status llm_map_gguf(const px_host *host, px_scope *scope, const char *path, px_buffer **file, const uint8_t **base,
                       uint64_t *bytes, gguf_file **gguf, char *error, size_t capacity) {
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
    *base = view.host;
    *bytes = view.bytes;
    return PX_OK;
}

static void llm_model_destroy(px_model *model) { llm_model_free(model); }

static const char *const formats[] = {"gguf", NULL};

static const px_model_api model_api = {
    PX_HEADER_INIT(px_model_api),
    1u << PX_KIND_LLM,
    0,
    formats,
    llm_probe,
    llm_model_create,
    llm_model_destroy,
    llm_model_info,
    NULL, /* image_tokens: no vision encoder yet */
    llm_request_create,
    llm_request_destroy,
    llm_step,
    llm_step_finish, /* the CUDA path emits here; the CPU path emits during the step */
};

static const void *llm_get_extension(px_plugin *plugin, const char *id) {
    (void)plugin;
    return strcmp(id, PX_EXT_MODELS) == 0 ? &model_api : NULL;
}

PX_EXPORT const px_entry plexus_plugin_entry = {
    PX_HEADER_INIT(px_entry),
    PX_ABI_MAJOR,
    PX_ABI_MINOR,
    "org.plexus.llm",
    "Plexus LLM",
    "0.1.0",
    "Plexus",
    "GGUF transformers (llama, gemma3, qwen2, qwen3) on the host's CPU workers",
    llm_init,
    llm_deinit,
    llm_get_extension,
};
