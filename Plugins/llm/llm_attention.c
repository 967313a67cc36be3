/*
 * llm_attention.c — attention over paged KV memory. The host owns the KV arena and the page tables: page p of the
 * arena holds, for every layer, K and V of `page_tokens` positions in f16:
 *   page: [n_layer][2 (K, V)][page_tokens][n_head_kv * head_dim] f16
 * Position `pos` of a sequence lives in page item->kv_pages[pos / page_tokens], slot pos % page_tokens.
 */
#include "llm_forward.h"
#include "llm_ops.h"

#include "quants.h"

#include <math.h>
#include <string.h>

/* Address of K (which = 0) or V (which = 1) for one position of one item in layer il. */
static uint16_t *kv_slot(const px_model *m, const llm_batch *b, const px_step_item *item, uint32_t il, int which, uint32_t pos) {
    uint64_t kv_dim = (uint64_t)m->hp.n_head_kv * m->hp.head_dim;
    uint32_t page = item->kv_pages[pos / m->page_tokens], slot = pos % m->page_tokens;
    uint64_t offset = (uint64_t)page * b->page_bytes + ((uint64_t)il * 2 + (uint64_t)which) * m->page_tokens * kv_dim * 2 +
                      (uint64_t)slot * kv_dim * 2;
    return (uint16_t *)(void *)(b->kv + offset);
}

void llm_kv_store(const px_model *m, const llm_batch *b, uint32_t il, uint32_t t, const float *k, const float *v) {
    uint32_t kv_dim = m->hp.n_head_kv * m->hp.head_dim;
    const px_step_item *item = b->items[b->item[t]];
    llm_f32_to_f16_row(kv_slot(m, b, item, il, 0, b->pos[t]), k, kv_dim);
    llm_f32_to_f16_row(kv_slot(m, b, item, il, 1, b->pos[t]), v, kv_dim);
}

typedef struct attention_job {
    px_model *m;
    const llm_batch *b;
    uint32_t il;
    const float *q;
    float *out;
    float score_scale;
} attention_job;

/* [worker] One (token, head): softmax(q . K) . V over the positions the token may see. */
static void attention_task(void *context, uint32_t index, uint32_t worker) {
    const attention_job *job = context;
    const px_model *m = job->m;
    const llm_batch *b = job->b;
    const llm_hparams *hp = &m->hp;
    /* the latest tokens see the most positions: hand them out first so the workers finish together */
    uint32_t t = b->n_tokens - 1 - index / hp->n_head, h = index % hp->n_head, g = h / (hp->n_head / hp->n_head_kv);
    const px_step_item *item = b->items[b->item[t]];
    uint32_t last = b->pos[t], first = 0;
    if (m->layers[job->il].sliding && hp->sliding_window > 0 && last + 1 > hp->sliding_window) first = last + 1 - hp->sliding_window;
    /* q is rounded to f16 and the probabilities too before they weight V, as ggml's f16 matmuls do */
    float q[1024];
    memcpy(q, job->q + ((uint64_t)t * hp->n_head + h) * hp->head_dim, hp->head_dim * sizeof(float));
    llm_round_f16(q, hp->head_dim);
    float *scores = m->s.scores + (uint64_t)worker * m->context_length;
    float max = -INFINITY;
    uint32_t p = first;
    for (; p + 4 <= last + 1; p += 4) {
        const uint16_t *k[4];
        for (int r = 0; r < 4; r++) k[r] = kv_slot(m, b, item, job->il, 0, p + (uint32_t)r) + (uint64_t)g * hp->head_dim;
        float s[4];
        llm_dot4_f32_f16(q, k, hp->head_dim, s);
        for (int r = 0; r < 4; r++) {
            scores[p + (uint32_t)r - first] = s[r] * job->score_scale;
            if (scores[p + (uint32_t)r - first] > max) max = scores[p + (uint32_t)r - first];
        }
    }
    for (; p <= last; p++) {
        float s = llm_dot_f32_f16(q, kv_slot(m, b, item, job->il, 0, p) + (uint64_t)g * hp->head_dim, hp->head_dim) * job->score_scale;
        scores[p - first] = s;
        if (s > max) max = s;
    }
    float sum = 0;
    for (uint32_t p = first; p <= last; p++) {
        float e = expf(scores[p - first] - max);
        scores[p - first] = e;
        sum += e;
    }
    float *out = job->out + ((uint64_t)t * hp->n_head + h) * hp->head_dim;
    for (uint32_t i = 0; i < hp->head_dim; i++) out[i] = 0;
    float inv = 1.0f / sum;
    uint32_t count = last - first + 1;
    for (uint32_t i = 0; i < count; i++) scores[i] *= inv;
    llm_round_f16(scores, count);
    for (uint32_t p = first; p <= last; p++)
        llm_axpy_f16(out, scores[p - first], kv_slot(m, b, item, job->il, 1, p) + (uint64_t)g * hp->head_dim, hp->head_dim);
}

px_status llm_attention(px_model *m, px_stream *stream, const llm_batch *b, uint32_t il, const float *q, float *out) {
    attention_job job = {m, b, il, q, out, m->hp.scale_q ? 1.0f : m->hp.attn_scale};
    return m->host->parallel_for(m->host, stream, b->n_tokens * m->hp.n_head, attention_task, &job);
}
