/*
 * llm_plugin.h — what the files of the LLM plugin share: the plugin instance, requests, and the functions the
 * entry table (entry.c) dispatches to.
 */
#ifndef PLEXUS_LLM_PLUGIN_H
#define PLEXUS_LLM_PLUGIN_H

#include "gguf.h"
#include "llm_model.h"
#include "plexus_plugin.h"
#include "sampler.h"

#include <stddef.h>
#include <stdint.h>

struct px_plugin {
    const px_host *host;
    px_scope *scope;
};

/** One sequence being generated. */
struct px_request {
    px_sink *sink;
    llm_sampler *sampler;
    uint32_t n_prompt;       /* prompt length */
    uint32_t max_new_tokens;
    uint32_t generated;      /* tokens sampled so far */
    uint32_t fed;            /* positions whose tokens the sampler has seen as prompt history */
    int ended;               /* FINAL emitted */
    int logprobs;            /* emit the log probability (and n_top alternatives) of each token */
};

/** Sets the error message and returns `status` (every failure path goes through here). */
px_status llm_fail(const px_host *host, px_status status, const char *message);

/** Maps `path` through the host and parses it as GGUF. On failure nothing stays mapped. */
px_status llm_map_gguf(const px_host *host, px_scope *scope, const char *path, px_buffer **file, const uint8_t **base,
                       uint64_t *bytes, gguf_file **gguf, char *error, size_t capacity);

/* Models (llm_model.c) */
px_status llm_model_create(px_plugin *plugin, const px_model_desc *desc, px_model **out_model);
void llm_model_free(px_model *model);
px_status llm_model_info(px_model *model, px_model_info *info);
px_status llm_scratch_allocate(px_model *model, px_stream *stream, char *error, size_t capacity);
/** Re-derives the scratch arrays from the buffer's address for this call. */
px_status llm_scratch_refresh(px_model *model);

/* Requests (llm_request.c) */
px_status llm_request_create(px_model *model, const px_request_desc *desc, px_request **out_request);
void llm_request_destroy(px_model *model, px_request *request);

/* Steps (llm_step.c) */
px_status llm_step(px_model *model, const px_step *step);
/** Emits what the CUDA path read back; nothing on the CPU, whose step emits everything. */
px_status llm_step_finish(px_model *model, const px_step *step);
/** 1 when an item needs its row's logits on the host (it asked for them, or its sampling is more than a greedy
 *  pick the device can make: penalties, logprobs, a constraint, a temperature). */
int llm_item_wants_logits(const px_step_item *item);
/** Emits one output row of an item: its logits when asked, then its sampled token (`greedy` >= 0: the device's
 *  greedy pick, else sampled from `logits`), ending the request when it stops. */
px_status llm_emit_row(px_model *model, const px_step_item *item, float *logits, int32_t greedy);

#endif
