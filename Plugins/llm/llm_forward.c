/*
 * llm_forward.c — the transformer over one batch, read top to bottom in llm_forward and forward_layer.
 * Matrix products keep the weights quantized: the activation rows are quantized once into the weight type's dot
 * type (as llama.cpp does), then each host worker multiplies a slice of weight rows by every token of the batch.
 */
#include "llm_forward.h"

#include "ggml_types.h"
#include "llm_ops.h"
#include "quants.h"

#include <string.h>
/* ---- matrix products on the host's workers --------------------------------------------------------------------- */

typedef struct quantize_job {
    const float *x; /* [n_tokens, k] */
    uint8_t *xq;    /* [n_tokens, row_bytes] */
    int64_t k;
    uint64_t row_bytes;
    uint32_t dot_type;
} quantize_job;

static void quantize_task(void *context, uint32_t t, uint32_t worker) {
    (void)worker;
    const quantize_job *job = context;
    llm_quantize_row(job->dot_type, job->x + (uint64_t)t * job->k, job->xq + (uint64_t)t * job->row_bytes, job->k);
}

typedef struct matmul_job {
    const px_model *m;
    const llm_tensor *w;
    const uint8_t *xq;
    uint64_t x_row_bytes;
    uint32_t n_tokens;
    float *out;
    int64_t out_stride;
    int64_t rows_per_task;
} matmul_job;

/* [worker] One slice of weight rows times every token. */
static void matmul_task(void *context, uint32_t index, uint32_t worker) {
    (void)worker;
    const matmul_job *job = context;
    int64_t r0 = (int64_t)index * job->rows_per_task;
    int64_t rows = job->w->ne1 - r0 < job->rows_per_task ? job->w->ne1 - r0 : job->rows_per_task;
    if (rows <= 0) return;
    llm_matmul_rows(job->w->type, llm_data(job->m, job->w) + (uint64_t)r0 * job->w->row_bytes, job->w->row_bytes, rows,
                    job->w->ne0, job->xq, job->x_row_bytes, job->n_tokens, job->out + r0, job->out_stride);
}

/* Which activation rows are in m->s.xq now, so that q, k and v (or gate and up) quantize their input once. */
typedef struct quantized_input {
    const float *source;
    uint32_t dot_type;
    uint32_t n_tokens;
} quantized_input;

/* out[t] = W . x[t] for t in [0, n): x [n, w->ne0], out [n, out_stride] (columns [0, w->ne1)). */
static px_status project(px_model *m, px_stream *stream, quantized_input *cache, const float *x, uint32_t n,
                         const llm_tensor *w, float *out, int64_t out_stride) {
    const px_host *host = m->host;
    uint32_t dot = llm_vec_dot_type(w->type);
    uint64_t row_bytes = llm_quantized_row_bytes(dot, w->ne0);
    if (row_bytes == 0 || row_bytes > m->s.xq_row_bytes) return PX_ERR_INTERNAL;
    if (cache->source != x || cache->dot_type != dot || cache->n_tokens != n) {
        quantize_job q = {x, m->s.xq, w->ne0, row_bytes, dot};
        px_status status = host->parallel_for(host, stream, n, quantize_task, &q);
        if (status != PX_OK) return status;
        *cache = (quantized_input){x, dot, n};
    }
    uint32_t tasks = m->workers * 4;
    int64_t per_task = (w->ne1 + tasks - 1) / tasks;
    per_task = (per_task + 15) / 16 * 16;
    matmul_job job = {m, w, m->s.xq, row_bytes, n, out, out_stride, per_task};
    return host->parallel_for(host, stream, (uint32_t)((w->ne1 + per_task - 1) / per_task), matmul_task, &job);
}

/* ---- the transformer ------------------------------------------------------------------------------------------- */

/* Token embeddings, scaled by the architecture's factor: x [n_tokens, n_embd]. */
static void embed(px_model *m, const llm_batch *b) {
    const llm_tensor *e = &m->token_embd;
    for (uint32_t t = 0; t < b->n_tokens; t++) {
        float *x = m->s.x + (uint64_t)t * m->hp.n_embd;
        llm_dequantize_row(e->type, llm_data(m, e) + (uint64_t)b->token[t] * e->row_bytes, x, e->ne0);
        if (m->hp.embed_scale != 1.0f) llm_scale(x, m->hp.n_embd, m->hp.embed_scale);
    }
}

/* The per-token work between the q/k/v products and attention, and the gated activation: row-independent, so a
 * prefill spreads it over the workers (a decode of a few tokens runs it inline). */
typedef struct token_job {
    px_model *m;
    const llm_batch *b;
    const llm_layer *l;
    uint32_t il;
    int table;
    const llm_tensor *norm; /* norm_task: weights, input [n, n_embd], output [n, n_embd] */
    const float *norm_in;
    float *norm_out;
} token_job;

/* [worker] Token t: per-head q/k norms, RoPE, q scaling, and its K and V into the KV pages. */
static void prepare_attention_task(void *context, uint32_t t, uint32_t worker) {
    (void)worker;
    const token_job *job = context;
    px_model *m = job->m;
    const llm_hparams *hp = &m->hp;
    const llm_layer *l = job->l;
    uint32_t q_dim = hp->n_head * hp->head_dim, kv_dim = hp->n_head_kv * hp->head_dim, half = hp->n_rot / 2;
    float *q = m->s.q + (uint64_t)t * q_dim, *k = m->s.k + (uint64_t)t * kv_dim;
    if (l->attn_q_norm.ne0 != 0) {
        llm_rmsnorm_rows(q, q, (const float *)llm_data(m, &l->attn_q_norm), hp->n_head, hp->head_dim, hp->norm_eps);
        llm_rmsnorm_rows(k, k, (const float *)llm_data(m, &l->attn_k_norm), hp->n_head_kv, hp->head_dim, hp->norm_eps);
    }
    const float *cos_t = m->s.rope_cos[job->table] + (uint64_t)t * half, *sin_t = m->s.rope_sin[job->table] + (uint64_t)t * half;
    llm_rope(q, cos_t, sin_t, 1, hp->n_head, hp->head_dim, hp->n_rot, hp->rope_neox);
    llm_rope(k, cos_t, sin_t, 1, hp->n_head_kv, hp->head_dim, hp->n_rot, hp->rope_neox);
    if (hp->scale_q) llm_scale(q, q_dim, hp->attn_scale);
    llm_kv_store(m, job->b, job->il, t, k, m->s.v + (uint64_t)t * kv_dim);
}

/* [worker] Token t: gate = act(gate) * up. */
static void glu_task(void *context, uint32_t t, uint32_t worker) {
    (void)worker;
    const token_job *job = context;
    uint64_t n_ff = job->m->hp.n_ff;
    llm_glu(job->m->s.gate + t * n_ff, job->m->s.up + t * n_ff, n_ff, job->m->hp.activation);
}

/* [worker] Token t: out[t] = rmsnorm(in[t]) * norm (the norm, input and output are in the job). */
static void norm_task(void *context, uint32_t t, uint32_t worker) {
    (void)worker;
    const token_job *job = context;
    const px_model *m = job->m;
    uint64_t n = m->hp.n_embd;
    llm_rmsnorm_rows(job->norm_out + t * n, job->norm_in + t * n, (const float *)llm_data(m, job->norm), 1, m->hp.n_embd, m->hp.norm_eps);
}

/* Runs a per-token task over the batch: on the workers for a prefill, inline for a few decode tokens. */
static px_status for_each_token(px_model *m, px_stream *stream, uint32_t n, px_task_fn task, token_job *job) {
    if (n < 4) {
        for (uint32_t t = 0; t < n; t++) task(job, t, 0);
        return PX_OK;
    }
    return m->host->parallel_for(m->host, stream, n, task, job);
}

/* out = rmsnorm(in) * w for every token of the batch, on the workers for a prefill. */
static px_status norm_tokens(px_model *m, px_stream *stream, uint32_t n, token_job *job, const llm_tensor *w, const float *in, float *out) {
    job->norm = w;
    job->norm_in = in;
    job->norm_out = out;
    return for_each_token(m, stream, n, norm_task, job);
}

/* One block: attention (with its norms, RoPE and KV store) then the gated feed-forward, each added to x. */
static px_status forward_layer(px_model *m, px_stream *stream, const llm_batch *b, uint32_t il) {
    const llm_hparams *hp = &m->hp;
    const llm_layer *l = &m->layers[il];
    llm_scratch *s = &m->s;
    uint32_t n = b->n_tokens, q_dim = hp->n_head * hp->head_dim, kv_dim = hp->n_head_kv * hp->head_dim;
    quantized_input cache = {0};
    token_job job = {m, b, l, il, l->rope_base == m->rope_base[0] ? 0 : 1, NULL, NULL, NULL};
    px_status st;

    if ((st = norm_tokens(m, stream, n, &job, &l->attn_norm, s->x, s->xb)) != PX_OK) return st;
    if ((st = project(m, stream, &cache, s->xb, n, &l->wq, s->q, q_dim)) != PX_OK) return st;
    if ((st = project(m, stream, &cache, s->xb, n, &l->wk, s->k, kv_dim)) != PX_OK) return st;
    if ((st = project(m, stream, &cache, s->xb, n, &l->wv, s->v, kv_dim)) != PX_OK) return st;
    if (l->bq.ne0 != 0) {
        llm_add_bias(s->q, (const float *)llm_data(m, &l->bq), n, q_dim);
        llm_add_bias(s->k, (const float *)llm_data(m, &l->bk), n, kv_dim);
        llm_add_bias(s->v, (const float *)llm_data(m, &l->bv), n, kv_dim);
    }
    if ((st = for_each_token(m, stream, n, prepare_attention_task, &job)) != PX_OK) return st;
    if ((st = llm_attention(m, stream, b, il, s->q, s->att)) != PX_OK) return st;
    if ((st = project(m, stream, &cache, s->att, n, &l->wo, s->proj, hp->n_embd)) != PX_OK) return st;
    if (l->attn_post_norm.ne0 != 0 && (st = norm_tokens(m, stream, n, &job, &l->attn_post_norm, s->proj, s->proj)) != PX_OK) return st;
    llm_add_rows(s->x, s->proj, n, hp->n_embd);

    if ((st = norm_tokens(m, stream, n, &job, &l->ffn_norm, s->x, s->xb)) != PX_OK) return st;
    cache.source = NULL; /* xb was rewritten */
    if ((st = project(m, stream, &cache, s->xb, n, &l->ffn_gate, s->gate, hp->n_ff)) != PX_OK) return st;
    if ((st = project(m, stream, &cache, s->xb, n, &l->ffn_up, s->up, hp->n_ff)) != PX_OK) return st;
    if ((st = for_each_token(m, stream, n, glu_task, &job)) != PX_OK) return st;
    if ((st = project(m, stream, &cache, s->gate, n, &l->ffn_down, s->proj, hp->n_embd)) != PX_OK) return st;
    if (l->ffn_post_norm.ne0 != 0 && (st = norm_tokens(m, stream, n, &job, &l->ffn_post_norm, s->proj, s->proj)) != PX_OK) return st;
    llm_add_rows(s->x, s->proj, n, hp->n_embd);
    return PX_OK;
}

/* Final norm of the wanted rows, then their logits: s.logits [n_out, n_vocab]. */
static px_status output_logits(px_model *m, px_stream *stream, const llm_batch *b) {
    if (b->n_out == 0) return PX_OK;
    const llm_hparams *hp = &m->hp;
    for (uint32_t r = 0; r < b->n_out; r++)
        memcpy(m->s.xb + (uint64_t)r * hp->n_embd, m->s.x + (uint64_t)b->out_token[r] * hp->n_embd, hp->n_embd * sizeof(float));
    llm_rmsnorm_rows(m->s.xb, m->s.xb, (const float *)llm_data(m, &m->output_norm), b->n_out, hp->n_embd, hp->norm_eps);
    quantized_input cache = {0};
    return project(m, stream, &cache, m->s.xb, b->n_out, &m->output, m->s.logits, hp->n_vocab);
}

px_status llm_forward(px_model *m, px_stream *stream, const llm_batch *b) {
    embed(m, b);
    llm_rope_tables(m->s.rope_cos[0], m->s.rope_sin[0], b->pos, b->n_tokens, m->hp.n_rot, m->rope_base[0]);
    if (m->rope_base[1] != m->rope_base[0])
        llm_rope_tables(m->s.rope_cos[1], m->s.rope_sin[1], b->pos, b->n_tokens, m->hp.n_rot, m->rope_base[1]);
    for (uint32_t il = 0; il < m->hp.n_layer; il++) {
        px_status status = forward_layer(m, stream, b, il);
        if (status != PX_OK) return status;
    }
    return output_logits(m, stream, b);
}
