/*
 * llm_cuda.c — the LLM plugin on a CUDA device: loading (kernels, weights, activations) and the step around the
 * device forward pass (upload the batch, replay or record the decode graph, read back, emit in step_finish).
 */
#include "llm_cuda.h"

#include "ggml_types.h"
#include "llm_ops.h"
#include "llm_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char llm_kernels_cu[]; /* llm_kernels_source.c */

/* ---- loading --------------------------------------------------------------------------------------------------- */

static int kernel_type(uint32_t type) {
    switch (type) {
    case GGML_TYPE_F32: case GGML_TYPE_F16: case GGML_TYPE_BF16: case GGML_TYPE_Q4_0: case GGML_TYPE_Q4_1:
    case GGML_TYPE_Q5_0: case GGML_TYPE_Q5_1: case GGML_TYPE_Q8_0: case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K:
    case GGML_TYPE_Q6_K:
        return 1;
    default:
        return 0;
    }
}

/* A matrix the kernels can multiply: a type they dequantize, rows a whole number of 8-element groups. */
static px_status check_matrix(const llm_tensor *t, const char *name, uint32_t layer, char *e, size_t c) {
    if (t->ne0 == 0) return PX_OK;
    const ggml_type_traits *traits = ggml_traits(t->type);
    if (!kernel_type(t->type)) {
        snprintf(e, c, "on CUDA: tensor %s (layer %u) has type %s, which has no CUDA kernel yet (supported: F32, F16, BF16, "
                 "Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K)", name, layer, traits ? traits->name : "unknown");
        return PX_ERR_UNSUPPORTED;
    }
    if (t->ne0 % 8 != 0) {
        snprintf(e, c, "on CUDA: tensor %s (layer %u) has rows of %lld elements, not a multiple of 8", name, layer, (long long)t->ne0);
        return PX_ERR_UNSUPPORTED;
    }
    return PX_OK;
}

static px_status check_model(const px_model *m, char *e, size_t c) {
    const llm_hparams *hp = &m->hp;
    if (hp->head_dim % 32 != 0 || hp->head_dim > 256 || hp->head_dim_v != hp->head_dim || hp->n_head_kv == 0 ||
        hp->n_head % hp->n_head_kv != 0 || hp->n_embd % 8 != 0 || hp->n_ff % 8 != 0) {
        snprintf(e, c, "on CUDA: the kernels need head_dim a multiple of 32 up to 256 (equal for K and V), heads a multiple of "
                 "KV heads and widths a multiple of 8 (head_dim %u/%u, heads %u/%u, n_embd %u, n_ff %u)",
                 hp->head_dim, hp->head_dim_v, hp->n_head, hp->n_head_kv, hp->n_embd, hp->n_ff);
        return PX_ERR_UNSUPPORTED;
    }
    px_status s = check_matrix(&m->token_embd, "token_embd", 0, e, c);
    if (s == PX_OK) s = check_matrix(&m->output, "output", 0, e, c);
    for (uint32_t il = 0; s == PX_OK && il < hp->n_layer; il++) {
        const llm_layer *l = &m->layers[il];
        const llm_tensor *matrices[] = {&l->wq, &l->wk, &l->wv, &l->wo, &l->ffn_gate, &l->ffn_up, &l->ffn_down};
        const char *names[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
        for (int i = 0; s == PX_OK && i < 7; i++) s = check_matrix(matrices[i], names[i], il, e, c);
    }
    return s;
}

static px_status compile_kernels(px_model *m, px_stream *stream, char *e, size_t c) {
    const px_host *host = m->host;
    llm_cuda *cuda = m->cuda;
    px_kernel_source source = {PX_HEADER_INIT(px_kernel_source), "llm_kernels.cu", llm_kernels_cu, NULL, 0, 0};
    px_status status = host->module_compile(host, m->scope, stream, &source, &cuda->module);
    if (status != PX_OK) {
        snprintf(e, c, "on CUDA: compiling llm_kernels.cu failed (status %d; the host's log has NVRTC's message)", status);
        return status;
    }
    struct { const char *name; px_function **slot; } kernels[] = {
        {"matmul", &cuda->k.matmul}, {"matmul_multi", &cuda->k.matmul_multi}, {"matmul_mma", &cuda->k.matmul_mma}, {"embed", &cuda->k.embed},
        {"rmsnorm", &cuda->k.rmsnorm}, {"residual_norm", &cuda->k.residual_norm}, {"add_bias", &cuda->k.add_bias},
        {"prepare_qkv", &cuda->k.prepare_qkv}, {"attention", &cuda->k.attention}, {"glu", &cuda->k.glu},
        {"argmax_chunks", &cuda->k.argmax_chunks}, {"argmax_rows", &cuda->k.argmax_rows},
    };
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++) {
        if ((status = host->module_function(host, cuda->module, kernels[i].name, kernels[i].slot)) != PX_OK) {
            snprintf(e, c, "on CUDA: kernel '%s' missing from the compiled module", kernels[i].name);
            return status;
        }
    }
    return PX_OK;
}

static uint64_t take(uint64_t *cursor, uint64_t bytes) {
    uint64_t at = *cursor;
    *cursor += (bytes + 255) / 256 * 256;
    return at;
}

static px_status allocate_buffers(px_model *m) {
    const px_host *host = m->host;
    const llm_hparams *hp = &m->hp;
    llm_cuda *c = m->cuda;
    uint64_t T = m->max_tokens, I = m->max_items, f = sizeof(float);
    uint64_t q_dim = (uint64_t)hp->n_head * hp->head_dim, kv_dim = (uint64_t)hp->n_head_kv * hp->head_dim, half = hp->n_rot / 2;
    uint64_t at = 0;
    llm_cuda_activations *a = &c->a;
    a->x = take(&at, T * hp->n_embd * f);
    a->xb = take(&at, T * hp->n_embd * f);
    a->q = take(&at, T * q_dim * f);
    a->k = take(&at, T * kv_dim * f);
    a->v = take(&at, T * kv_dim * f);
    a->att = take(&at, T * q_dim * f);
    a->proj = take(&at, T * hp->n_embd * f);
    a->gate = take(&at, T * hp->n_ff * f);
    a->up = take(&at, T * hp->n_ff * f);
    a->logits = take(&at, I * hp->n_vocab * f);
    a->argmax = take(&at, I * sizeof(int32_t));
    a->part_v = take(&at, I * LLM_CUDA_ARGMAX_CHUNKS * sizeof(float));
    a->part_i = take(&at, I * LLM_CUDA_ARGMAX_CHUNKS * sizeof(int32_t));
    px_alloc_desc desc = {PX_HEADER_INIT(px_alloc_desc), at, 256, PX_MEMORY_DEVICE, PX_RESIDENCY_ACTIVATIONS, 0, "llm activations"};
    px_status status = host->mem_alloc(host, m->scope, &desc, &c->activations);
    if (status != PX_OK) return status;

    c->max_pages = (m->context_length + m->page_tokens - 1) / m->page_tokens;
    llm_cuda_io_layout *l = &c->layout;
    at = 0;
    l->token = take(&at, T * sizeof(int32_t));
    l->pos = take(&at, T * sizeof(uint32_t));
    l->item = take(&at, T * sizeof(uint32_t));
    l->out_rows = take(&at, I * sizeof(uint32_t));
    l->pages = take(&at, I * c->max_pages * sizeof(uint32_t));
    for (int t = 0; t < 2; t++) {
        l->cos[t] = take(&at, T * half * f);
        l->sin[t] = take(&at, T * half * f);
    }
    l->bytes = at;
    desc.bytes = at;
    desc.label = "llm batch";
    if ((status = host->mem_alloc(host, m->scope, &desc, &c->io)) != PX_OK) return status;
    c->staging = calloc(1, at);
    c->want_logits = calloc(I, 1);
    c->greedy = calloc(I, sizeof(int32_t));
    return c->staging && c->want_logits && c->greedy ? PX_OK : PX_ERR_OUT_OF_MEMORY;
}

px_status llm_cuda_load(px_model *m, px_stream *stream, int use_graphs, int use_mma, char *e, size_t c) {
    const px_host *host = m->host;
    px_status status = check_model(m, e, c);
    if (status != PX_OK) return status;
    if ((m->cuda = calloc(1, sizeof *m->cuda)) == NULL) return PX_ERR_OUT_OF_MEMORY;
    if ((status = compile_kernels(m, stream, e, c)) != PX_OK) return status;
    if ((status = llm_move_weights(m, stream, 0, e, c)) != PX_OK) return status;
    if ((status = allocate_buffers(m)) != PX_OK) return status;
    int graphs_available = host->abi_minor >= 1 && PX_HAS_FIELD(host, px_host, graph_free) && host->graph_begin != NULL &&
                           host->graph_end != NULL && host->graph_launch != NULL && host->graph_free != NULL;
    if (use_graphs && graphs_available && (m->cuda->graphs = calloc(m->max_items, sizeof(llm_cuda_graph))) == NULL)
        return PX_ERR_OUT_OF_MEMORY;
    m->cuda->use_graphs = m->cuda->graphs != NULL;
    m->cuda->use_mma = use_mma;
    return host->stream_synchronize(host, stream);
}

void llm_cuda_free(px_model *m) {
    llm_cuda *c = m->cuda;
    if (c == NULL) return;
    const px_host *host = m->host;
    for (uint32_t i = 0; c->graphs != NULL && i < m->max_items; i++) host->graph_free(host, c->graphs[i].graph);
    free(c->graphs);
    host->mem_free(host, c->activations);
    host->mem_free(host, c->io);
    host->module_free(host, c->module);
    free(c->staging);
    free(c->want_logits);
    free(c->greedy);
    free(c);
    m->cuda = NULL;
}

/* ---- a step ---------------------------------------------------------------------------------------------------- */

static px_status device_address(const px_host *host, px_buffer *buffer, uint64_t *out) {
    px_buffer_view view = {PX_HEADER_INIT(px_buffer_view), NULL, 0, 0, 0, 0};
    px_status status = host->mem_address(host, buffer, &view);
    if (status != PX_OK) return status;
    if (view.memory != PX_MEMORY_DEVICE || view.device == 0) return llm_fail(host, PX_ERR_INTERNAL, "a buffer of the CUDA path is not in device memory");
    *out = view.device;
    return PX_OK;
}

/* The addresses of this call (the host may move the weights between calls). */
static px_status refresh(px_model *m, const px_step *step) {
    const px_host *host = m->host;
    llm_cuda *c = m->cuda;
    if (step->kv == NULL) return llm_fail(host, PX_ERR_INVALID_ARGUMENT, "the LLM plugin needs a KV arena in every step");
    px_status status = device_address(host, m->file, &c->weights);
    if (status == PX_OK) status = device_address(host, step->kv, &c->kv);
    if (status == PX_OK) status = device_address(host, c->activations, &c->activations_base);
    if (status == PX_OK) status = device_address(host, c->io, &c->io_base);
    if (status == PX_OK) status = llm_scratch_refresh(m);
    c->page_bytes = m->kv_token_bytes * m->hp.n_layer * m->page_tokens;
    return status;
}

/* Enqueues the copy of `count` elements of `size` bytes from staging to the device array at `offset`. */
static px_status upload(px_model *m, px_stream *stream, uint64_t offset, uint64_t count, uint64_t size) {
    llm_cuda *c = m->cuda;
    return count == 0 ? PX_OK : m->host->mem_write(m->host, stream, c->io, offset, c->staging + offset, count * size);
}

/* The batch arrays into staging and then onto the device: tokens, positions, items, output rows, page lists,
 * RoPE tables. */
static px_status upload_batch(px_model *m, px_stream *stream, const llm_batch *b) {
    llm_cuda *c = m->cuda;
    const llm_cuda_io_layout *l = &c->layout;
    uint8_t *s = c->staging;
    uint32_t half = m->hp.n_rot / 2, n = b->n_tokens;
    memcpy(s + l->token, b->token, n * sizeof(int32_t));
    memcpy(s + l->pos, b->pos, n * sizeof(uint32_t));
    memcpy(s + l->item, b->item, n * sizeof(uint32_t));
    memcpy(s + l->out_rows, b->out_token, b->n_out * sizeof(uint32_t));
    uint32_t *pages = (uint32_t *)(void *)(s + l->pages);
    for (uint32_t i = 0; i < b->n_items; i++) {
        const px_step_item *item = b->items[i];
        uint32_t count = item->n_kv_pages < c->max_pages ? item->n_kv_pages : c->max_pages;
        memcpy(pages + (uint64_t)i * c->max_pages, item->kv_pages, count * sizeof(uint32_t));
    }
    int tables = m->rope_base[1] != m->rope_base[0] ? 2 : 1;
    for (int t = 0; t < tables; t++)
        llm_rope_tables((float *)(void *)(s + l->cos[t]), (float *)(void *)(s + l->sin[t]), b->pos, n, m->hp.n_rot, m->rope_base[t]);
    px_status st = upload(m, stream, l->token, n, sizeof(int32_t));
    if (st == PX_OK) st = upload(m, stream, l->pos, n, sizeof(uint32_t));
    if (st == PX_OK) st = upload(m, stream, l->item, n, sizeof(uint32_t));
    if (st == PX_OK) st = upload(m, stream, l->out_rows, b->n_out, sizeof(uint32_t));
    if (st == PX_OK) st = upload(m, stream, l->pages, (uint64_t)b->n_items * c->max_pages, sizeof(uint32_t));
    for (int t = 0; st == PX_OK && t < tables; t++) {
        if ((st = upload(m, stream, l->cos[t], (uint64_t)n * half, sizeof(float))) == PX_OK)
            st = upload(m, stream, l->sin[t], (uint64_t)n * half, sizeof(float));
    }
    return st;
}

/* A decode step (every token sampled, at most max_items of them) replays the graph recorded for its size, recording
 * it first; anything else launches directly. */
static px_status run_forward(px_model *m, px_stream *stream, uint32_t n, uint32_t n_out) {
    const px_host *host = m->host;
    llm_cuda *c = m->cuda;
    if (!c->use_graphs || n != n_out || n > m->max_items) return llm_cuda_forward(m, stream, n, n_out);
    llm_cuda_graph *g = &c->graphs[n - 1];
    if (g->graph != NULL && (g->weights != c->weights || g->kv != c->kv || g->activations != c->activations_base || g->io != c->io_base)) {
        host->graph_free(host, g->graph);
        g->graph = NULL;
    }
    if (g->graph == NULL) {
        px_status status = host->graph_begin(host, stream);
        if (status != PX_OK) {
            c->use_graphs = 0; /* the host cannot record this stream: launch directly from now on */
            return llm_cuda_forward(m, stream, n, n_out);
        }
        status = llm_cuda_forward(m, stream, n, n_out);
        px_status ended = host->graph_end(host, m->scope, stream, &g->graph);
        if (status != PX_OK || ended != PX_OK) { /* a partial recording is never replayed */
            host->graph_free(host, g->graph);
            g->graph = NULL;
            return status != PX_OK ? status : ended;
        }
        *g = (llm_cuda_graph){g->graph, n_out, c->weights, c->kv, c->activations_base, c->io_base};
    }
    return host->graph_launch(host, g->graph, stream);
}

px_status llm_cuda_step(px_model *m, const px_step *step, llm_batch *b) {
    const px_host *host = m->host;
    llm_cuda *c = m->cuda;
    px_status status = refresh(m, step);
    if (status == PX_OK) status = upload_batch(m, step->stream, b);
    if (status == PX_OK) status = run_forward(m, step->stream, b->n_tokens, b->n_out);
    if (status != PX_OK) return status;
    uint64_t row_bytes = (uint64_t)m->hp.n_vocab * sizeof(float);
    if (b->n_out > 0 && (status = host->mem_read(host, step->stream, c->greedy, c->activations, c->a.argmax, b->n_out * sizeof(int32_t))) != PX_OK)
        return status;
    for (uint32_t r = 0; r < b->n_out; r++) {
        const px_step_item *item = b->items[b->item[b->out_token[r]]];
        c->want_logits[r] = (uint8_t)llm_item_wants_logits(item);
        if (c->want_logits[r] &&
            (status = host->mem_read(host, step->stream, m->s.logits + (uint64_t)r * m->hp.n_vocab, c->activations, c->a.logits + r * row_bytes, row_bytes)) != PX_OK)
            return status;
    }
    c->pending = *b;
    return PX_OK;
}

px_status llm_cuda_step_finish(px_model *m, const px_step *step) {
    (void)step;
    llm_cuda *c = m->cuda;
    const llm_batch *b = &c->pending;
    for (uint32_t r = 0; r < b->n_out; r++) {
        const px_step_item *item = b->items[b->item[b->out_token[r]]];
        px_status status = llm_emit_row(m, item, m->s.logits + (uint64_t)r * m->hp.n_vocab, c->want_logits[r] ? -1 : c->greedy[r]);
        if (status != PX_OK) return status;
    }
    c->pending.n_out = 0;
    return PX_OK;
}
