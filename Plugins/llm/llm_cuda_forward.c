/*
 * llm_cuda_forward.c — the transformer on the device, read top to bottom in llm_cuda_forward and forward_layer
 * (the same steps as llm_forward.c). Every call is one kernel launch on the step's stream; the batch arrays are
 * already on the device (llm_cuda.c uploads them), so the launches of a decode step depend only on its size.
 */
#include "llm_cuda.h"

#include "llm_plugin.h"

/* ---- launching ------------------------------------------------------------------------------------------------- */

typedef struct launch_shape {
    uint32_t grid_x, grid_y, block, shared;
} launch_shape;

static px_status launch(px_model *m, px_stream *stream, px_function *kernel, launch_shape shape, void **args) {
    px_launch config = {PX_HEADER_INIT(px_launch), {shape.grid_x, shape.grid_y, 1}, {shape.block, 1, 1}, shape.shared, 0};
    return m->host->launch(m->host, stream, kernel, &config, args);
}

static uint32_t blocks(uint64_t total, uint32_t per_block) { return (uint32_t)((total + per_block - 1) / per_block); }

/* Device address of a tensor's first byte in the weights buffer (0 for an absent tensor). */
static uint64_t weight(const px_model *m, const llm_tensor *t) {
    return t->ne0 == 0 ? 0 : m->cuda->weights + (t->offset - m->base_offset);
}

/* ---- the operations -------------------------------------------------------------------------------------------- */

/* Products of LLM_CUDA_MMA_TOKENS tokens and more go to the tensor cores (a 64 x 64 tile per block), when k allows
 * and the option is on. Measured on an H100 (BENCHMARKS.md): at 512 tokens (a prefill chunk) they take half the
 * time of the f32 kernel; at a 64-sequence decode step the f32 kernel is 5% faster. */
#define LLM_CUDA_MMA_TOKENS 128

static int uses_mma(const px_model *m, const llm_tensor *w, uint32_t n) {
    return m->cuda->use_mma && n >= LLM_CUDA_MMA_TOKENS && w->ne0 % 32 == 0;
}

/* out[t] = W . x[t] for t in [0, n): x [n, w->ne0], out [n, out_stride]. */
static px_status project(px_model *m, px_stream *s, const llm_tensor *w, uint64_t x, uint32_t n, uint64_t out, uint32_t out_stride) {
    int type = (int)w->type;
    uint64_t data = weight(m, w), row_bytes = w->row_bytes;
    uint32_t rows = (uint32_t)w->ne1, k = (uint32_t)w->ne0;
    void *args[] = {&type, &data, &row_bytes, &rows, &k, &x, &n, &out, &out_stride};
    if (uses_mma(m, w, n)) return launch(m, s, m->cuda->k.matmul_mma, (launch_shape){blocks(rows, 64), blocks(n, 64), 128, 0}, args);
    return launch(m, s, m->cuda->k.matmul, (launch_shape){blocks(rows, 4), blocks(n, 8), 128, 0}, args);
}

/* out[r] = rmsnorm(in[rows ? rows[r] : r]) * norm over `n_rows` rows of n_embd. */
static px_status norm(px_model *m, px_stream *s, uint64_t in, uint64_t rows, const llm_tensor *w, uint32_t n_rows, uint64_t out) {
    uint64_t weights = weight(m, w);
    uint32_t n = m->hp.n_embd;
    float eps = m->hp.norm_eps;
    void *args[] = {&in, &rows, &weights, &n, &eps, &out};
    return launch(m, s, m->cuda->k.rmsnorm, (launch_shape){n_rows, 1, 256, 0}, args);
}

/* x += y (through rmsnorm * post_norm when the layer has one: gemma3), then xb = rmsnorm(x) * next_norm when one is
 * given: the residual of one block and the input norm of the next in one launch. */
static px_status residual(px_model *m, px_stream *s, uint32_t n_tokens, uint64_t y, const llm_tensor *post_norm,
                          const llm_tensor *next_norm) {
    uint64_t A = m->cuda->activations_base, x = A + m->cuda->a.x, xb = A + m->cuda->a.xb;
    uint64_t post = weight(m, post_norm), next = next_norm ? weight(m, next_norm) : 0;
    uint32_t n = m->hp.n_embd;
    float eps = m->hp.norm_eps;
    void *args[] = {&x, &y, &post, &next, &n, &eps, &xb};
    return launch(m, s, m->cuda->k.residual_norm, (launch_shape){n_tokens, 1, 256, 0}, args);
}

/* Same layout as matmul_parts in llm_kernels.cu (passed by value to matmul_multi). */
typedef struct matmul_parts {
    uint64_t w[3];
    uint64_t out[3];
    uint64_t row_bytes[3];
    uint32_t rows[3];
    uint32_t out_stride[3];
    int32_t type[3];
    uint32_t n_parts;
} matmul_parts;

/* Products of the same input x [n, k] by up to three matrices in one launch: out[i] [n, out_stride = rows of w[i]]. */
static px_status project_multi(px_model *m, px_stream *s, const llm_tensor *const *w, const uint64_t *out, uint32_t count,
                               uint64_t x, uint32_t n) {
    int separate = 0;
    for (uint32_t i = 0; i < count; i++) separate |= uses_mma(m, w[i], n);
    if (separate) { /* the tensor-core kernel takes one matrix: its tiles fill the device at this size anyway */
        px_status st = PX_OK;
        for (uint32_t i = 0; st == PX_OK && i < count; i++) st = project(m, s, w[i], x, n, out[i], (uint32_t)w[i]->ne1);
        return st;
    }
    matmul_parts parts = {0};
    uint32_t rows = 0, k = (uint32_t)w[0]->ne0;
    for (uint32_t i = 0; i < count; i++) {
        parts.w[i] = weight(m, w[i]);
        parts.out[i] = out[i];
        parts.row_bytes[i] = w[i]->row_bytes;
        parts.rows[i] = parts.out_stride[i] = (uint32_t)w[i]->ne1;
        parts.type[i] = (int32_t)w[i]->type;
        rows += parts.rows[i];
    }
    parts.n_parts = count;
    void *args[] = {&parts, &k, &x, &n};
    return launch(m, s, m->cuda->k.matmul_multi, (launch_shape){blocks(rows, 4), blocks(n, 8), 128, 0}, args);
}

static px_status bias(px_model *m, px_stream *s, uint64_t x, const llm_tensor *b, uint32_t n_tokens, uint32_t dim) {
    uint64_t data = weight(m, b);
    uint32_t total = n_tokens * dim;
    void *args[] = {&x, &data, &dim, &total};
    return launch(m, s, m->cuda->k.add_bias, (launch_shape){blocks(total, 256), 1, 256, 0}, args);
}

/* Per-head q/k norms, RoPE, q scaling, and K and V into the KV pages of layer il. */
static px_status prepare_qkv(px_model *m, px_stream *s, const llm_layer *l, uint32_t il, uint32_t n_tokens) {
    llm_cuda *c = m->cuda;
    const llm_hparams *hp = &m->hp;
    uint64_t A = c->activations_base, IO = c->io_base;
    uint64_t q = A + c->a.q, k = A + c->a.k, v = A + c->a.v, q_norm = weight(m, &l->attn_q_norm), k_norm = weight(m, &l->attn_k_norm);
    uint32_t n_head = hp->n_head, n_head_kv = hp->n_head_kv, head_dim = hp->head_dim, n_rot = hp->n_rot, max_pages = c->max_pages;
    uint32_t page_tokens = m->page_tokens, layer = il;
    int neox = hp->rope_neox, table = l->rope_base == m->rope_base[0] ? 0 : 1;
    float eps = hp->norm_eps, q_scale = hp->scale_q ? hp->attn_scale : 1.0f;
    uint64_t cos = IO + c->layout.cos[table], sin = IO + c->layout.sin[table], pos = IO + c->layout.pos, item = IO + c->layout.item;
    uint64_t pages = IO + c->layout.pages, kv = c->kv, page_bytes = c->page_bytes;
    void *args[] = {&q, &k, &v, &q_norm, &k_norm, &n_head, &n_head_kv, &head_dim, &n_rot, &neox, &eps, &q_scale, &cos, &sin,
                    &pos, &item, &pages, &max_pages, &kv, &page_bytes, &page_tokens, &layer};
    launch_shape shape = {n_tokens, n_head + 2 * n_head_kv, 128, head_dim * (uint32_t)sizeof(float)};
    return launch(m, s, c->k.prepare_qkv, shape, args);
}

/* att = softmax(q . K) . V per (token, head) over the token's visible positions of layer il. */
static px_status attention(px_model *m, px_stream *s, const llm_layer *l, uint32_t il, uint32_t n_tokens) {
    llm_cuda *c = m->cuda;
    const llm_hparams *hp = &m->hp;
    uint64_t q = c->activations_base + c->a.q, out = c->activations_base + c->a.att, IO = c->io_base;
    uint64_t pos = IO + c->layout.pos, item = IO + c->layout.item, pages = IO + c->layout.pages, kv = c->kv, page_bytes = c->page_bytes;
    uint32_t n_head = hp->n_head, n_head_kv = hp->n_head_kv, head_dim = hp->head_dim, max_pages = c->max_pages;
    uint32_t window = l->sliding ? hp->sliding_window : 0, page_tokens = m->page_tokens, layer = il;
    float scale = hp->scale_q ? 1.0f : hp->attn_scale;
    void *args[] = {&q, &out, &n_head, &n_head_kv, &head_dim, &scale, &window, &pos, &item, &pages, &max_pages, &kv, &page_bytes,
                    &page_tokens, &layer};
    /* 16 warps share a (token, head)'s positions: a decode step has few blocks, so each must be wide */
    return launch(m, s, c->k.attention, (launch_shape){n_tokens, n_head, 512, 0}, args);
}

/* gate = act(gate) * up. */
static px_status glu(px_model *m, px_stream *s, uint32_t n_tokens) {
    uint64_t gate = m->cuda->activations_base + m->cuda->a.gate, up = m->cuda->activations_base + m->cuda->a.up;
    uint64_t total = (uint64_t)n_tokens * m->hp.n_ff;
    int act = m->hp.activation == LLM_ACT_SILU ? 0 : 1;
    void *args[] = {&gate, &up, &total, &act};
    return launch(m, s, m->cuda->k.glu, (launch_shape){blocks(total, 256), 1, 256, 0}, args);
}

/* ---- the transformer ------------------------------------------------------------------------------------------- */

static px_status embed(px_model *m, px_stream *s, uint32_t n_tokens) {
    llm_cuda *c = m->cuda;
    const llm_tensor *e = &m->token_embd;
    int type = (int)e->type;
    uint64_t table = weight(m, e), row_bytes = e->row_bytes, token = c->io_base + c->layout.token, x = c->activations_base + c->a.x;
    uint32_t n_embd = m->hp.n_embd;
    float scale = m->hp.embed_scale;
    void *args[] = {&type, &table, &row_bytes, &n_embd, &token, &scale, &x};
    return launch(m, s, c->k.embed, (launch_shape){n_tokens, 1, 128, 0}, args);
}

/* One block: attention (q/k norms, RoPE, KV store) then the gated feed-forward, each added to x. xb holds the
 * block's normed input on entry (the previous block's last launch made it) and the next block's on exit. */
static px_status forward_layer(px_model *m, px_stream *s, uint32_t n, uint32_t il) {
    const llm_hparams *hp = &m->hp;
    const llm_layer *l = &m->layers[il];
    const llm_cuda_activations *a = &m->cuda->a;
    uint64_t A = m->cuda->activations_base;
    uint32_t q_dim = hp->n_head * hp->head_dim, kv_dim = hp->n_head_kv * hp->head_dim;
    const llm_tensor *next_norm = il + 1 < hp->n_layer ? &m->layers[il + 1].attn_norm : NULL;
    px_status st;

    const llm_tensor *qkv[] = {&l->wq, &l->wk, &l->wv};
    const uint64_t qkv_out[] = {A + a->q, A + a->k, A + a->v};
    if ((st = project_multi(m, s, qkv, qkv_out, 3, A + a->xb, n)) != PX_OK) return st;
    if (l->bq.ne0 != 0) {
        if ((st = bias(m, s, A + a->q, &l->bq, n, q_dim)) != PX_OK) return st;
        if ((st = bias(m, s, A + a->k, &l->bk, n, kv_dim)) != PX_OK) return st;
        if ((st = bias(m, s, A + a->v, &l->bv, n, kv_dim)) != PX_OK) return st;
    }
    if ((st = prepare_qkv(m, s, l, il, n)) != PX_OK) return st;
    if ((st = attention(m, s, l, il, n)) != PX_OK) return st;
    if ((st = project(m, s, &l->wo, A + a->att, n, A + a->proj, hp->n_embd)) != PX_OK) return st;
    if ((st = residual(m, s, n, A + a->proj, &l->attn_post_norm, &l->ffn_norm)) != PX_OK) return st;

    const llm_tensor *gate_up[] = {&l->ffn_gate, &l->ffn_up};
    const uint64_t gate_up_out[] = {A + a->gate, A + a->up};
    if ((st = project_multi(m, s, gate_up, gate_up_out, 2, A + a->xb, n)) != PX_OK) return st;
    if ((st = glu(m, s, n)) != PX_OK) return st;
    if ((st = project(m, s, &l->ffn_down, A + a->gate, n, A + a->proj, hp->n_embd)) != PX_OK) return st;
    return residual(m, s, n, A + a->proj, &l->ffn_post_norm, next_norm);
}

/* Final norm of the wanted rows, their logits, and each row's greedy token. */
static px_status output_logits(px_model *m, px_stream *s, uint32_t n_out) {
    if (n_out == 0) return PX_OK;
    llm_cuda *c = m->cuda;
    uint64_t A = c->activations_base, logits = A + c->a.logits, greedy = A + c->a.argmax;
    px_status st = norm(m, s, A + c->a.x, c->io_base + c->layout.out_rows, &m->output_norm, n_out, A + c->a.xb);
    if (st == PX_OK) st = project(m, s, &m->output, A + c->a.xb, n_out, logits, m->hp.n_vocab);
    if (st != PX_OK) return st;
    uint64_t part_v = A + c->a.part_v, part_i = A + c->a.part_i;
    uint32_t n_vocab = m->hp.n_vocab;
    void *chunk_args[] = {&logits, &n_vocab, &part_v, &part_i};
    if ((st = launch(m, s, c->k.argmax_chunks, (launch_shape){n_out, LLM_CUDA_ARGMAX_CHUNKS, 256, 0}, chunk_args)) != PX_OK) return st;
    void *row_args[] = {&part_v, &part_i, &greedy};
    return launch(m, s, c->k.argmax_rows, (launch_shape){n_out, 1, 32, 0}, row_args);
}

px_status llm_cuda_forward(px_model *m, px_stream *stream, uint32_t n_tokens, uint32_t n_out) {
    const llm_cuda_activations *a = &m->cuda->a;
    uint64_t A = m->cuda->activations_base;
    px_status status = embed(m, stream, n_tokens);
    if (status == PX_OK) status = norm(m, stream, A + a->x, 0, &m->layers[0].attn_norm, n_tokens, A + a->xb);
    for (uint32_t il = 0; status == PX_OK && il < m->hp.n_layer; il++) status = forward_layer(m, stream, n_tokens, il);
    return status == PX_OK ? output_logits(m, stream, n_out) : status;
}
