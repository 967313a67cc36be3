/*
 * fixture_plugin.c — a small, contract-following test plugin, and (with one -D flag each) the ways a plugin can
 * break the contract. Built by the tests, never shipped: Plugins/ holds only real backends.
 *
 * The well-behaved build is an LLM-kind "counting model": a model file starts with "PXFIXTURE"; every token it
 * processes is stored in the host's paged KV arena, and the token it samples after position p is
 *   (31 * sum of all tokens at positions [0, p] + p + 1) mod vocab,
 * read back through the page table, so a host that hands out wrong pages gets wrong tokens.
 *
 * Break flags (at most one): FIXTURE_NO_ENTRY, FIXTURE_MAJOR=<n>, FIXTURE_SMALL_ENTRY, FIXTURE_ID="...",
 * FIXTURE_INIT_FAILS, FIXTURE_DOUBLE_FINAL, FIXTURE_IGNORES_CANCEL, FIXTURE_NO_FINAL, FIXTURE_LEAKS,
 * FIXTURE_ACCEPTS_UNKNOWN_OPTIONS, FIXTURE_NO_MESSAGE, FIXTURE_CRASHES, FIXTURE_PLUGIN_LEAK.
 */
#include "plexus_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FIXTURE_ID
#define FIXTURE_ID "org.plexus.test.counting"
#endif
#ifndef FIXTURE_MAJOR
#define FIXTURE_MAJOR PX_ABI_MAJOR
#endif

enum { PAGE_TOKENS = 4, MAX_ITEMS = 16, MAX_BATCH_TOKENS = 512, CONTEXT = 1024 };

struct px_plugin {
    const px_host *host;
    px_scope *scope;
    px_buffer *registry; /* a plugin-level allocation, freed at deinit */
};

struct px_model {
    struct px_plugin *plugin;
    px_scope *scope;
    px_buffer *weights;     /* [file bytes] u8, the model file copied into a host buffer */
    px_buffer *activations; /* [MAX_ITEMS] i32 sampled tokens of the current step */
    uint32_t vocab;
};

struct px_request {
    px_sink *sink;
    uint32_t max_new_tokens;
    uint32_t generated;
    uint32_t n_stop;
    int32_t stop[8];
    int ended;
};

/* ---- helpers ------------------------------------------------------------------------------------------------ */

static px_status fail(const px_host *host, px_status status, const char *message) {
#ifndef FIXTURE_NO_MESSAGE
    host->set_error(host, message);
#else
    (void)host;
    (void)message;
#endif
    return status;
}

static px_status alloc(const px_host *host, px_scope *scope, uint64_t bytes, uint32_t residency, const char *label,
                       px_buffer **out) {
    px_alloc_desc desc = {PX_HEADER_INIT(px_alloc_desc), bytes, 64, PX_MEMORY_HOST, residency, 0, label};
    return host->mem_alloc(host, scope, &desc, out);
}

static void *address(const px_host *host, px_buffer *buffer) {
    px_buffer_view view = {PX_HEADER_INIT(px_buffer_view), NULL, 0, 0, 0, 0};
    return host->mem_address(host, buffer, &view) == PX_OK ? view.host : NULL;
}

static px_status emit_final(const px_host *host, struct px_request *request, uint32_t reason) {
    px_final final = {PX_HEADER_INIT(px_final), reason, PX_OK, NULL};
    request->ended = 1;
    px_status status = host->emit_final(host, request->sink, &final);
#ifdef FIXTURE_DOUBLE_FINAL
    host->emit_final(host, request->sink, &final);
#endif
    return status;
}

/* ---- plugin lifecycle --------------------------------------------------------------------------------------- */

static px_status fixture_init(const px_host *host, const px_init_args *args, px_plugin **out_plugin) {
#ifdef FIXTURE_INIT_FAILS
    (void)args;
    (void)out_plugin;
    return fail(host, PX_ERR_UNSUPPORTED, "this fixture always fails init");
#else
    if (host->header.size < sizeof(px_host) || args->abi_major != PX_ABI_MAJOR)
        return fail(host, PX_ERR_VERSION, "host table too old");
    struct px_plugin *plugin = calloc(1, sizeof *plugin);
    if (plugin == NULL) return fail(host, PX_ERR_OUT_OF_MEMORY, "out of memory");
    plugin->host = host;
    plugin->scope = args->scope;
    px_status status = alloc(host, args->scope, 256, PX_RESIDENCY_STAGING, "fixture registry", &plugin->registry);
    if (status != PX_OK) {
        free(plugin);
        return status;
    }
    *out_plugin = plugin;
    return PX_OK;
#endif
}

static void fixture_deinit(px_plugin *plugin) {
#ifndef FIXTURE_PLUGIN_LEAK
    plugin->host->mem_free(plugin->host, plugin->registry);
#endif
    free(plugin);
}

/* ---- models ------------------------------------------------------------------------------------------------- */

static px_status parse_options(const px_host *host, const px_model_desc *desc, uint32_t *vocab) {
    char message[256];
    for (uint32_t i = 0; i < desc->n_options; i++) {
        const px_option *option = &desc->options[i];
        if (strcmp(option->key, "vocab") == 0) {
            char *end = NULL;
            long value = strtol(option->value, &end, 10);
            if (end == option->value || *end != '\0' || value < 2 || value > 65536) {
                snprintf(message, sizeof message, "option vocab='%s' must be an integer in 2...65536", option->value);
                return fail(host, PX_ERR_INVALID_ARGUMENT, message);
            }
            *vocab = (uint32_t)value;
            continue;
        }
#ifndef FIXTURE_ACCEPTS_UNKNOWN_OPTIONS
        snprintf(message, sizeof message, "unknown option '%s' (this plugin knows: vocab)", option->key);
        return fail(host, PX_ERR_INVALID_ARGUMENT, message);
#endif
    }
    return PX_OK;
}

/* Reads the whole model file; checks the magic. On success *out is malloc'd. */
static px_status read_model_file(const px_host *host, const char *path, unsigned char **out, long *out_size) {
    char message[512];
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        snprintf(message, sizeof message, "cannot open model file '%s'", path);
        return fail(host, PX_ERR_NOT_FOUND, message);
    }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    unsigned char *bytes = size > 0 && size < (1L << 24) ? malloc((size_t)size) : NULL;
    if (bytes == NULL || fread(bytes, 1, (size_t)size, file) != (size_t)size || size < 9 ||
        memcmp(bytes, "PXFIXTURE", 9) != 0) {
        fclose(file);
        free(bytes);
        snprintf(message, sizeof message, "'%s' is not a fixture model file (no PXFIXTURE magic)", path);
        return fail(host, PX_ERR_FORMAT, message);
    }
    fclose(file);
    *out = bytes;
    *out_size = size;
    return PX_OK;
}

static px_status fixture_model_create(px_plugin *plugin, const px_model_desc *desc, px_model **out_model) {
    const px_host *host = plugin->host;
    if (desc->n_paths != 1) return fail(host, PX_ERR_INVALID_ARGUMENT, "the fixture model takes exactly one file");
    uint32_t vocab = 256;
    px_status status = parse_options(host, desc, &vocab);
    if (status != PX_OK) return status;
    unsigned char *bytes = NULL;
    long size = 0;
    status = read_model_file(host, desc->paths[0], &bytes, &size);
    if (status != PX_OK) return status;
#ifdef FIXTURE_CRASHES
    *(volatile int *)(uintptr_t)16 = 1; /* the bug this fixture exists to show */
#endif
    struct px_model *model = calloc(1, sizeof *model);
    if (model == NULL) {
        free(bytes);
        return fail(host, PX_ERR_OUT_OF_MEMORY, "out of memory");
    }
    model->plugin = plugin;
    model->scope = desc->scope;
    model->vocab = vocab;
    status = alloc(host, desc->scope, (uint64_t)size, PX_RESIDENCY_WEIGHTS, "fixture weights", &model->weights);
    if (status == PX_OK) status = host->mem_write(host, desc->load_stream, model->weights, 0, bytes, (uint64_t)size);
    if (status == PX_OK)
        status = alloc(host, desc->scope, MAX_ITEMS * sizeof(int32_t), PX_RESIDENCY_ACTIVATIONS, "fixture sampled",
                       &model->activations);
    free(bytes);
    if (status != PX_OK) {
        host->mem_free(host, model->weights);
        host->mem_free(host, model->activations);
        free(model);
        return status;
    }
    *out_model = model;
    return PX_OK;
}

static void fixture_model_destroy(px_model *model) {
    const px_host *host = model->plugin->host;
    host->mem_free(host, model->weights);
#ifndef FIXTURE_LEAKS
    host->mem_free(host, model->activations);
#endif
    free(model);
}

static px_status fixture_model_info(px_model *model, px_model_info *info) {
    if (!PX_HAS_FIELD(info, px_model_info, kv_page_bytes))
        return fail(model->plugin->host, PX_ERR_VERSION, "px_model_info too small");
    info->kind = PX_KIND_LLM;
    info->architecture = "counting";
    info->weight_bytes = 0;
    info->vocab_size = model->vocab;
    info->context_length = CONTEXT;
    info->max_batch_tokens = MAX_BATCH_TOKENS;
    info->max_batch_items = MAX_ITEMS;
    info->kv_page_tokens = PAGE_TOKENS;
    info->embedding_size = 0;
    info->kv_page_bytes = PAGE_TOKENS * sizeof(int32_t);
    return PX_OK;
}

/* ---- requests and steps ------------------------------------------------------------------------------------- */

static px_status fixture_request_create(px_model *model, const px_request_desc *desc, px_request **out_request) {
    const px_host *host = model->plugin->host;
    const px_llm_input *input = desc->input;
    if (desc->kind != PX_KIND_LLM || input == NULL || !PX_HAS_FIELD(input, px_llm_input, stop_tokens))
        return fail(host, PX_ERR_INVALID_ARGUMENT, "the fixture takes PX_KIND_LLM requests with a px_llm_input");
    if (input->n_stop_tokens > 8) return fail(host, PX_ERR_INVALID_ARGUMENT, "at most 8 stop tokens");
    struct px_request *request = calloc(1, sizeof *request);
    if (request == NULL) return fail(host, PX_ERR_OUT_OF_MEMORY, "out of memory");
    request->sink = desc->sink;
    request->max_new_tokens = input->max_new_tokens;
    request->n_stop = input->n_stop_tokens;
    if (input->n_stop_tokens > 0) memcpy(request->stop, input->stop_tokens, input->n_stop_tokens * sizeof(int32_t));
    *out_request = request;
    return PX_OK;
}

static void fixture_request_destroy(px_model *model, px_request *request) {
    (void)model;
    free(request);
}

/* What the tasks of one step share: the KV arena, the items, and where each sampled token goes. */
typedef struct step_work {
    const px_step *step;
    int32_t *kv;      /* [n_kv_pages, PAGE_TOKENS] i32 */
    int32_t *sampled; /* [n_items] i32 */
    uint32_t vocab;
} step_work;

/* [worker] Stores one item's tokens in its KV pages and computes its next token from everything stored. */
static void run_item(void *context, uint32_t index, uint32_t worker) {
    (void)worker;
    const step_work *work = context;
    const px_step_item *item = PX_AT(px_step_item, work->step->items, work->step->item_stride, index);
    uint32_t end = item->pos + item->n_tokens;
    for (uint32_t i = 0; i < item->n_tokens; i++) {
        uint32_t p = item->pos + i;
        work->kv[item->kv_pages[p / PAGE_TOKENS] * PAGE_TOKENS + p % PAGE_TOKENS] = item->tokens[i];
    }
    uint64_t sum = 0;
    for (uint32_t p = 0; p < end; p++) sum += (uint32_t)work->kv[item->kv_pages[p / PAGE_TOKENS] * PAGE_TOKENS + p % PAGE_TOKENS];
    work->sampled[index] = (int32_t)((31u * sum + end) % work->vocab);
}

static px_status check_item(const px_host *host, const px_step *step, const px_step_item *item) {
    uint64_t end = (uint64_t)item->pos + item->n_tokens;
    if (end > CONTEXT || (uint64_t)item->n_kv_pages * PAGE_TOKENS < end || (item->n_tokens > 0 && item->tokens == NULL))
        return fail(host, PX_ERR_INVALID_ARGUMENT, "step item: positions exceed the context or the page list");
    for (uint32_t i = 0; i < item->n_kv_pages; i++)
        if (item->kv_pages[i] >= step->n_kv_pages) return fail(host, PX_ERR_INVALID_ARGUMENT, "step item: page out of range");
    return PX_OK;
}

static px_status fixture_step(px_model *model, const px_step *step) {
    const px_host *host = model->plugin->host;
    if (step->n_items > MAX_ITEMS || step->kv == NULL) return fail(host, PX_ERR_INVALID_ARGUMENT, "bad step");
    for (uint32_t i = 0; i < step->n_items; i++) {
        px_status status = check_item(host, step, PX_AT(px_step_item, step->items, step->item_stride, i));
        if (status != PX_OK) return status;
    }
    step_work work = {step, address(host, step->kv), address(host, model->activations), model->vocab};
    if (work.kv == NULL || work.sampled == NULL) return fail(host, PX_ERR_INTERNAL, "mem_address failed");
    px_status status = host->parallel_for(host, step->stream, step->n_items, run_item, &work);
    if (status != PX_OK) return status;
    for (uint32_t i = 0; i < step->n_items; i++) {
        const px_step_item *item = PX_AT(px_step_item, step->items, step->item_stride, i);
        struct px_request *request = item->request;
#ifndef FIXTURE_IGNORES_CANCEL
        if (host->is_cancelled(host, item->sink)) {
            status = emit_final(host, request, PX_FINISH_CANCELLED);
            if (status != PX_OK) return status;
            continue;
        }
#endif
        if (!(item->flags & PX_ITEM_SAMPLE) || request->ended) continue;
        int32_t token = work.sampled[i];
        px_tokens_out out = {PX_HEADER_INIT(px_tokens_out), &token, 1, 0, NULL, NULL, NULL};
        status = host->emit_tokens(host, item->sink, &out);
        if (status != PX_OK) return status;
        request->generated++;
        int stop = 0;
        for (uint32_t s = 0; s < request->n_stop; s++) stop |= request->stop[s] == token;
#ifndef FIXTURE_NO_FINAL
        if (stop) status = emit_final(host, request, PX_FINISH_STOP);
        else if (request->generated >= request->max_new_tokens) status = emit_final(host, request, PX_FINISH_LENGTH);
#else
        (void)stop;
#endif
        if (status != PX_OK) return status;
    }
    return PX_OK;
}

/* ---- tables ------------------------------------------------------------------------------------------------- */

static const char *const formats[] = {"pxfixture", NULL};

static const px_model_api model_api = {
    PX_HEADER_INIT(px_model_api),
    1u << PX_KIND_LLM,
    0,
    formats,
    NULL, /* probe */
    fixture_model_create,
    fixture_model_destroy,
    fixture_model_info,
    NULL, /* image_tokens */
    fixture_request_create,
    fixture_request_destroy,
    fixture_step,
    NULL, /* step_finish */
};

static const void *fixture_get_extension(px_plugin *plugin, const char *id) {
    (void)plugin;
    return strcmp(id, PX_EXT_MODELS) == 0 ? &model_api : NULL;
}

#ifdef FIXTURE_NO_ENTRY
#define ENTRY_SYMBOL plexus_plugin_entry_v1 /* a misspelled entry: the library is not a plugin */
#else
#define ENTRY_SYMBOL plexus_plugin_entry
#endif

PX_EXPORT const px_entry ENTRY_SYMBOL = {
#ifdef FIXTURE_SMALL_ENTRY
    {8, 1},
#else
    PX_HEADER_INIT(px_entry),
#endif
    FIXTURE_MAJOR,
    PX_ABI_MINOR,
    FIXTURE_ID,
    "Counting fixture",
    "1.0.0",
    "Plexus tests",
    "A test plugin that follows (or, built with a break flag, breaks) the ABI contract",
    fixture_init,
    fixture_deinit,
    fixture_get_extension,
};
