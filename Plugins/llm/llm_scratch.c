/*
 * llm_scratch.c — the step's working memory: one activations buffer from the host pool, sized at load for
 * max_batch_tokens tokens and max_batch_items sampled rows, carved into the arrays of llm_scratch.
 */
#include "llm_plugin.h"

#include "quants.h"

#include <stdio.h>
#include <string.h>

/* Lays out (or, with base == NULL, measures) every scratch array; returns the bytes used. */
static uint64_t layout(px_model *m, uint8_t *base) {
    const llm_hparams *hp = &m->hp;
    uint64_t used = 0;
#define CARVE(field, type, count)                                                                                 \
    do {                                                                                                          \
        used = (used + 63) & ~(uint64_t)63;                                                                       \
        if (base != NULL) m->s.field = (type *)(void *)(base + used);                                             \
        used += (uint64_t)(count) * sizeof(type);                                                                 \
    } while (0)
    uint64_t T = m->max_tokens, items = m->max_items;
    uint64_t widest = hp->n_embd > hp->n_ff ? hp->n_embd : hp->n_ff;
    uint64_t heads = (uint64_t)hp->n_head * hp->head_dim;
    if (heads > widest) widest = heads;
    CARVE(x, float, T * hp->n_embd);
    CARVE(xb, float, T * hp->n_embd);
    CARVE(q, float, T * heads);
    CARVE(k, float, T * hp->n_head_kv * hp->head_dim);
    CARVE(v, float, T * hp->n_head_kv * hp->head_dim);
    CARVE(att, float, T * heads);
    CARVE(proj, float, T * hp->n_embd);
    CARVE(gate, float, T * hp->n_ff);
    CARVE(up, float, T * hp->n_ff);
    m->s.scores_row = ((uint64_t)m->context_length + 63) / 64 * 64;
    /* per worker: a row of scores for each head of a KV group, and the partial sums of p . V (64 lanes for one
     * head, or 16 for each head of a group) */
    uint64_t group = hp->n_head / hp->n_head_kv;
    CARVE(scores, float, (uint64_t)m->workers * group * m->s.scores_row);
    m->s.slots_per_worker = (group * 16 > 64 ? group * 16 : 64) * (uint64_t)hp->head_dim;
    CARVE(slots, float, (uint64_t)m->workers * m->s.slots_per_worker);
    CARVE(logits, float, items * hp->n_vocab);
    for (int i = 0; i < 2; i++) {
        CARVE(rope_cos[i], float, T * hp->n_rot / 2);
        CARVE(rope_sin[i], float, T * hp->n_rot / 2);
    }
    CARVE(token, int32_t, T);
    CARVE(pos, uint32_t, T);
    CARVE(item, uint32_t, T);
    CARVE(out_token, uint32_t, items);
    CARVE(items, const px_step_item *, items);
    /* the widest quantized activation row of any dot type (F32 is the largest: 4 bytes per element) */
    m->s.xq_row_bytes = widest * sizeof(float);
    CARVE(xq, uint8_t, T * m->s.xq_row_bytes);
#undef CARVE
    return used;
}

px_status llm_scratch_allocate(px_model *m, px_stream *stream, char *e, size_t c) {
    const px_host *host = m->host;
    const llm_hparams *hp = &m->hp;
    if (hp->head_dim != hp->head_dim_v) {
        snprintf(e, c, "key and value heads of different sizes (%u, %u) are not supported", hp->head_dim, hp->head_dim_v);
        return PX_ERR_UNSUPPORTED;
    }
    px_stream_info info = {PX_HEADER_INIT(px_stream_info), 0, 0, 0, 0, NULL, 0, 0};
    px_status status = host->stream_info(host, stream, &info);
    if (status != PX_OK) return status;
    m->workers = info.cpu_workers > 0 ? info.cpu_workers : 1;
    m->page_tokens = 16;
    m->kv_token_bytes = 2ull * hp->n_head_kv * hp->head_dim * sizeof(uint16_t);
    m->rope_base[0] = m->layers[0].rope_base;
    m->rope_base[1] = m->rope_base[0];
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        float base = m->layers[il].rope_base;
        if (base != m->rope_base[0] && base != m->rope_base[1] && m->rope_base[1] != m->rope_base[0]) {
            snprintf(e, c, "more than two RoPE bases across layers are not supported");
            return PX_ERR_UNSUPPORTED;
        }
        if (base != m->rope_base[0]) m->rope_base[1] = base;
    }
    uint64_t bytes = layout(m, NULL);
    px_alloc_desc desc = {PX_HEADER_INIT(px_alloc_desc), bytes, 64, PX_MEMORY_HOST, PX_RESIDENCY_ACTIVATIONS, 0, "llm scratch"};
    status = host->mem_alloc(host, m->scope, &desc, &m->scratch_buffer);
    if (status != PX_OK) {
        snprintf(e, c, "cannot allocate %llu bytes of step scratch", (unsigned long long)bytes);
        return status;
    }
    return llm_scratch_refresh(m);
}

px_status llm_scratch_refresh(px_model *m) {
    px_buffer_view view = {PX_HEADER_INIT(px_buffer_view), NULL, 0, 0, 0, 0};
    px_status status = m->host->mem_address(m->host, m->scratch_buffer, &view);
    if (status != PX_OK) return status;
    layout(m, view.host);
    return PX_OK;
}
