/*
 * llm_step.c — one step of the LLM plugin: gather the items' tokens into one batch (prefill chunks and decode
 * tokens of many sequences together), run the transformer once, then sample and emit for the items that asked.
 * Cancelled items end with FINAL(CANCELLED) and do no work.
 */
#include "llm_cuda.h"
#include "llm_forward.h"
#include "llm_plugin.h"

#include <stdio.h>
#include <string.h>

static px_status finish(const px_host *host, px_request *request, uint32_t reason, px_status status, const char *message) {
    px_final final = {PX_HEADER_INIT(px_final), reason, status, message};
    request->ended = 1;
    return host->emit_final(host, request->sink, &final);
}

/* Checks one item against the model and its pages; returns a message for a malformed item, else NULL. */
static const char *item_problem(const px_model *m, const px_step *step, const px_step_item *item, char *buffer, size_t size) {
    uint64_t end = (uint64_t)item->pos + item->n_tokens;
    if (end > m->context_length) return "positions run past the context";
    if (item->n_tokens > 0 && item->tokens == NULL) return "tokens missing";
    if ((uint64_t)item->n_kv_pages * m->page_tokens < end || (item->n_kv_pages > 0 && item->kv_pages == NULL))
        return "the page list does not cover the positions";
    for (uint32_t i = 0; i < item->n_kv_pages; i++)
        if (item->kv_pages[i] >= step->n_kv_pages) return "a page index lies outside the KV arena";
    for (uint32_t i = 0; i < item->n_tokens; i++) {
        if (item->tokens[i] < 0 || (uint32_t)item->tokens[i] >= m->hp.n_vocab) {
            snprintf(buffer, size, "token %d is outside the vocabulary of %u", item->tokens[i], m->hp.n_vocab);
            return buffer;
        }
    }
    return NULL;
}

/* Adds an item's tokens to the batch; the sampler sees prompt tokens once (also after a recompute from pos 0). */
static void add_item(px_model *m, llm_batch *b, const px_step_item *item) {
    px_request *request = item->request;
    uint32_t index = b->n_items++;
    b->items[index] = item;
    for (uint32_t i = 0; i < item->n_tokens; i++) {
        uint32_t pos = item->pos + i;
        if (pos >= request->fed && pos < request->n_prompt) {
            (void)llm_sampler_accept_prompt(request->sampler, &item->tokens[i], 1);
            request->fed = pos + 1;
        }
        b->token[b->n_tokens] = item->tokens[i];
        b->pos[b->n_tokens] = pos;
        b->item[b->n_tokens] = index;
        b->n_tokens++;
    }
    if ((item->flags & (PX_ITEM_SAMPLE | PX_ITEM_LOGITS)) && item->n_tokens > 0) b->out_token[b->n_out++] = b->n_tokens - 1;
    (void)m;
}

/* Samples one row (or takes the device's greedy pick when `greedy` >= 0), emits the token, and ends the request on a
 * stop token, max_new_tokens or the context end. */
static px_status sample_and_emit(px_model *m, const px_step_item *item, float *logits, int32_t greedy) {
    const px_host *host = m->host;
    px_request *request = item->request;
    llm_sample_result result = {0};
    px_status status = PX_OK;
    if (greedy >= 0) result.token = greedy;
    else status = llm_sampler_sample(request->sampler, logits, item->allowed, &result);
    if (status != PX_OK) return finish(host, request, PX_FINISH_ERROR, status, "no token could be sampled (the constraint allows none)");
    int32_t token = result.token;
    if ((status = llm_sampler_accept(request->sampler, token)) != PX_OK) return status;
    request->generated++;
    px_tokens_out out = {PX_HEADER_INIT(px_tokens_out), &token, 1, 0, NULL, NULL, NULL};
    if (request->logprobs) {
        out.logprobs = &result.logprob;
        out.n_top = result.n_top;
        out.top_tokens = result.top_tokens;
        out.top_logprobs = result.top_logprobs;
    }
    if ((status = host->emit_tokens(host, request->sink, &out)) != PX_OK) return status;
    if (llm_sampler_is_stop(request->sampler, token)) return finish(host, request, PX_FINISH_STOP, PX_OK, NULL);
    if (request->generated >= request->max_new_tokens || item->pos + item->n_tokens >= m->context_length)
        return finish(host, request, PX_FINISH_LENGTH, PX_OK, NULL);
    return PX_OK;
}

/* Emits the raw logits of an item's last position (before any sampling transform). */
static px_status emit_logits(px_model *m, const px_step_item *item, const float *logits) {
    px_tensor_out out;
    memset(&out, 0, sizeof out);
    out.header = (px_header)PX_HEADER_INIT(px_tensor_out);
    out.role = PX_OUT_LOGITS;
    out.index = item->pos + item->n_tokens - 1;
    out.tensor.header = (px_header)PX_HEADER_INIT(px_tensor);
    out.tensor.dtype = PX_DTYPE_F32;
    out.tensor.ndim = 1;
    out.tensor.shape[0] = m->hp.n_vocab;
    out.tensor.data = logits;
    out.tensor.bytes = (uint64_t)m->hp.n_vocab * sizeof(float);
    return m->host->emit_tensor(m->host, item->request->sink, &out);
}

/* The addresses of this call: file mapping, scratch and KV arena (the host may move buffers between calls). */
static px_status refresh_addresses(px_model *m, const px_step *step, llm_batch *b) {
    const px_host *host = m->host;
    px_buffer_view view = {PX_HEADER_INIT(px_buffer_view), NULL, 0, 0, 0, 0};
    px_status status = host->mem_address(host, m->file, &view);
    if (status != PX_OK) return status;
    m->base = view.host;
    if ((status = llm_scratch_refresh(m)) != PX_OK) return status;
    if (step->kv == NULL) return llm_fail(host, PX_ERR_INVALID_ARGUMENT, "the LLM plugin needs a KV arena in every step");
    if ((status = host->mem_address(host, step->kv, &view)) != PX_OK) return status;
    if (view.bytes < (uint64_t)step->n_kv_pages * m->kv_token_bytes * m->hp.n_layer * m->page_tokens)
        return llm_fail(host, PX_ERR_INVALID_ARGUMENT, "the KV arena is smaller than its page count says");
    b->kv = view.host;
    b->page_bytes = m->kv_token_bytes * m->hp.n_layer * m->page_tokens;
    return PX_OK;
}

int llm_item_wants_logits(const px_step_item *item) {
    return (item->flags & PX_ITEM_LOGITS) || ((item->flags & PX_ITEM_SAMPLE) && (item->allowed != NULL || !llm_sampler_is_plain_greedy(item->request->sampler)));
}

px_status llm_emit_row(px_model *m, const px_step_item *item, float *logits, int32_t greedy) {
    px_status status = PX_OK;
    if ((item->flags & PX_ITEM_LOGITS) && (status = emit_logits(m, item, logits)) != PX_OK) return status;
    if (item->flags & PX_ITEM_SAMPLE) status = sample_and_emit(m, item, logits, greedy);
    return status;
}

/* The items' tokens into one batch; cancelled and malformed items end here and add nothing. */
static px_status gather(px_model *m, const px_step *step, llm_batch *b) {
    const px_host *host = m->host;
    b->token = m->s.token;
    b->pos = m->s.pos;
    b->item = m->s.item;
    b->out_token = m->s.out_token;
    b->items = m->s.items;
    char message[160];
    px_status status;
    for (uint32_t i = 0; i < step->n_items; i++) {
        const px_step_item *item = PX_AT(px_step_item, step->items, step->item_stride, i);
        px_request *request = item->request;
        if (request->ended) continue;
        if (host->is_cancelled(host, item->sink)) {
            if ((status = finish(host, request, PX_FINISH_CANCELLED, PX_OK, NULL)) != PX_OK) return status;
            continue;
        }
        const char *problem = item_problem(m, step, item, message, sizeof message);
        if (problem != NULL) {
            if ((status = finish(host, request, PX_FINISH_ERROR, PX_ERR_INVALID_ARGUMENT, problem)) != PX_OK) return status;
            continue;
        }
        if (item->n_tokens == 0) continue;
        if (b->n_tokens + item->n_tokens > m->max_tokens || b->n_items >= m->max_items)
            return llm_fail(host, PX_ERR_INVALID_ARGUMENT, "the step exceeds max_batch_tokens or max_batch_items");
        add_item(m, b, item);
    }
    return PX_OK;
}

px_status llm_step(px_model *m, const px_step *step) {
    llm_batch b = {0};
    if (m->cuda != NULL) m->cuda->pending.n_out = 0;
    px_status status = gather(m, step, &b);
    if (status != PX_OK || b.n_tokens == 0) return status;
    if (m->cuda != NULL) return llm_cuda_step(m, step, &b);
    if ((status = refresh_addresses(m, step, &b)) != PX_OK) return status;
    if ((status = llm_forward(m, step->stream, &b)) != PX_OK) return status;
    for (uint32_t r = 0; r < b.n_out; r++) {
        const px_step_item *item = b.items[b.item[b.out_token[r]]];
        if ((status = llm_emit_row(m, item, m->s.logits + (uint64_t)r * m->hp.n_vocab, -1)) != PX_OK) return status;
    }
    return PX_OK;
}

px_status llm_step_finish(px_model *m, const px_step *step) {
    return m->cuda != NULL ? llm_cuda_step_finish(m, step) : PX_OK;
}
