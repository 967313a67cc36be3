/*
 * llm_forward.h — one forward pass over a batch that mixes prefill chunks and decode tokens of many sequences.
 */
#ifndef PLEXUS_LLM_FORWARD_H
#define PLEXUS_LLM_FORWARD_H

#include "llm_model.h"

/** The tokens of one step, flattened (arrays live in the model's scratch, sized at load). */
typedef struct llm_batch {
    uint32_t n_tokens;
    int32_t *token;              /* [n_tokens] ids */
    uint32_t *pos;               /* [n_tokens] positions */
    uint32_t *item;              /* [n_tokens] index into items */
    const px_step_item **items;  /* [n_items] the step items that have tokens */
    uint32_t n_items;
    uint32_t n_out;              /* rows of logits wanted */
    uint32_t *out_token;         /* [n_out] token index whose logits are wanted */
    uint8_t *kv;                 /* the KV arena for this call */
    uint64_t page_bytes;
} llm_batch;

/** Runs the model over the batch, writing K/V of every token into its pages and the logits of the wanted rows to
 *  model->s.logits [n_out, n_vocab]. */
px_status llm_forward(px_model *model, px_stream *stream, const llm_batch *batch);

/** Stores token t's K and V rows (k, v: [n_head_kv * head_dim]) into its page slot for layer `il`. */
void llm_kv_store(const px_model *model, const llm_batch *batch, uint32_t il, uint32_t t, const float *k, const float *v);

/** Causal (and, for sliding layers, windowed) attention of every token over its sequence's pages for layer `il`:
 *  q: [n_tokens, n_head, head_dim] (already scaled); out: [n_tokens, n_head, head_dim]. */
px_status llm_attention(px_model *model, px_stream *stream, const llm_batch *batch, uint32_t il, const float *q, float *out);

#endif
