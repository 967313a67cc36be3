/*
 * llm_model.c — loading a GGUF model: map the file through the host, parse it, let the architecture read its
 * hyperparameters and bind its tensors, allocate the step scratch from the host's pool. Plus the architecture
 * registry and the shared binding helpers.
 */
#include "llm_model.h"

#include "llm_cuda.h"

#include "ggml_types.h"
#include "llm_ops.h"
#include "llm_plugin.h"
#include "quants.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const llm_arch llm_arch_llama, llm_arch_gemma3, llm_arch_qwen2, llm_arch_qwen3;

static const llm_arch *const architectures[] = {&llm_arch_llama, &llm_arch_gemma3, &llm_arch_qwen2, &llm_arch_qwen3};

const llm_arch *llm_find_arch(const char *name, size_t length) {
    for (size_t i = 0; i < sizeof architectures / sizeof architectures[0]; i++) {
        if (strlen(architectures[i]->name) == length && memcmp(architectures[i]->name, name, length) == 0) return architectures[i];
    }
    return NULL;
}

/* ---- binding helpers ---------------------------------------------------------------------------------------- */

px_status llm_key_u32(px_model *model, const char *suffix, uint32_t *out, int optional, char *error, size_t capacity) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", model->arch_name, suffix);
    int status = gguf_get_u32(model->gguf, key, out);
    if (status == GGUF_OK || (optional && status == GGUF_ERR_NOT_FOUND)) return PX_OK;
    snprintf(error, capacity, "metadata key '%s': %s", key, gguf_status_name(status));
    return PX_ERR_FORMAT;
}

px_status llm_key_f32(px_model *model, const char *suffix, float *out, int optional, char *error, size_t capacity) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", model->arch_name, suffix);
    int status = gguf_get_f32(model->gguf, key, out);
    if (status == GGUF_OK || (optional && status == GGUF_ERR_NOT_FOUND)) return PX_OK;
    snprintf(error, capacity, "metadata key '%s': %s", key, gguf_status_name(status));
    return PX_ERR_FORMAT;
}

px_status llm_bind(px_model *model, const char *name, int64_t cols, int64_t rows, int optional, llm_tensor *out,
                   char *error, size_t capacity) {
    memset(out, 0, sizeof *out);
    const gguf_tensor *t = gguf_find_tensor(model->gguf, name);
    if (t == NULL) {
        if (optional) return PX_OK;
        snprintf(error, capacity, "tensor '%s' is missing", name);
        return PX_ERR_FORMAT;
    }
    if (t->n_dims > 2 || (int64_t)t->ne[0] != cols || (rows != 0 && (int64_t)t->ne[1] != rows)) {
        snprintf(error, capacity, "tensor '%s' has shape [%llu, %llu], expected [%lld, %lld]", name,
                 (unsigned long long)t->ne[0], (unsigned long long)t->ne[1], (long long)cols, (long long)rows);
        return PX_ERR_FORMAT;
    }
    const ggml_type_traits *traits = ggml_traits(t->type);
    if (traits == NULL || !traits->computable) {
        snprintf(error, capacity, "tensor '%s' has type %s, which this plugin cannot compute with", name,
                 traits != NULL ? traits->name : "unknown");
        return PX_ERR_UNSUPPORTED;
    }
    out->offset = (uint64_t)(t->data - model->base);
    out->type = t->type;
    out->ne0 = (int64_t)t->ne[0];
    out->ne1 = (int64_t)t->ne[1];
    out->row_bytes = ggml_row_bytes(t->type, t->ne[0]);
    return PX_OK;
}

/* Binds an [n] f32 norm vector. */
static px_status bind_norm(px_model *m, const char *name, int64_t n, int optional, llm_tensor *out, char *e, size_t c) {
    px_status status = llm_bind(m, name, n, 1, optional, out, e, c);
    if (status == PX_OK && out->ne0 != 0 && out->type != GGML_TYPE_F32) {
        snprintf(e, c, "norm '%s' must be F32", name);
        return PX_ERR_FORMAT;
    }
    return status;
}

px_status llm_bind_layer_common(px_model *m, uint32_t il, char *e, size_t c) {
    const llm_hparams *hp = &m->hp;
    llm_layer *l = &m->layers[il];
    char name[96];
    int64_t q_dim = (int64_t)hp->n_head * hp->head_dim, kv_dim = (int64_t)hp->n_head_kv * hp->head_dim;
    int64_t v_dim = (int64_t)hp->n_head_kv * hp->head_dim_v, o_dim = (int64_t)hp->n_head * hp->head_dim_v;
#define BIND(field, suffix, cols, rows, optional)                                                                 \
    do {                                                                                                          \
        snprintf(name, sizeof name, "blk.%u." suffix, il);                                                        \
        px_status st = llm_bind(m, name, cols, rows, optional, &l->field, e, c);                                  \
        if (st != PX_OK) return st;                                                                               \
    } while (0)
#define NORM(field, suffix, n, optional)                                                                          \
    do {                                                                                                          \
        snprintf(name, sizeof name, "blk.%u." suffix, il);                                                        \
        px_status st = bind_norm(m, name, n, optional, &l->field, e, c);                                          \
        if (st != PX_OK) return st;                                                                               \
    } while (0)
    NORM(attn_norm, "attn_norm.weight", hp->n_embd, 0);
    BIND(wq, "attn_q.weight", hp->n_embd, q_dim, 0);
    BIND(wk, "attn_k.weight", hp->n_embd, kv_dim, 0);
    BIND(wv, "attn_v.weight", hp->n_embd, v_dim, 0);
    NORM(bq, "attn_q.bias", q_dim, 1);
    NORM(bk, "attn_k.bias", kv_dim, 1);
    NORM(bv, "attn_v.bias", v_dim, 1);
    NORM(attn_q_norm, "attn_q_norm.weight", hp->head_dim, 1);
    NORM(attn_k_norm, "attn_k_norm.weight", hp->head_dim, 1);
    BIND(wo, "attn_output.weight", o_dim, hp->n_embd, 0);
    NORM(attn_post_norm, "post_attention_norm.weight", hp->n_embd, 1);
    NORM(ffn_norm, "ffn_norm.weight", hp->n_embd, 0);
    BIND(ffn_gate, "ffn_gate.weight", hp->n_embd, hp->n_ff, 0);
    BIND(ffn_up, "ffn_up.weight", hp->n_embd, hp->n_ff, 0);
    BIND(ffn_down, "ffn_down.weight", hp->n_ff, hp->n_embd, 0);
    NORM(ffn_post_norm, "post_ffw_norm.weight", hp->n_embd, 1);
#undef BIND
#undef NORM
    return PX_OK;
}

/* ---- loading -------------------------------------------------------------------------------------------------- */

/* Reads the shared hyperparameters every architecture has; the architecture then adjusts. */
static px_status read_common_hparams(px_model *m, char *e, size_t c) {
    llm_hparams *hp = &m->hp;
    px_status status = PX_OK;
    if (status == PX_OK) status = llm_key_u32(m, "context_length", &hp->n_ctx_train, 0, e, c);
    if (status == PX_OK) status = llm_key_u32(m, "embedding_length", &hp->n_embd, 0, e, c);
    if (status == PX_OK) status = llm_key_u32(m, "block_count", &hp->n_layer, 0, e, c);
    if (status == PX_OK) status = llm_key_u32(m, "feed_forward_length", &hp->n_ff, 0, e, c);
    if (status == PX_OK) status = llm_key_u32(m, "attention.head_count", &hp->n_head, 0, e, c);
    hp->n_head_kv = hp->n_head;
    if (status == PX_OK) status = llm_key_u32(m, "attention.head_count_kv", &hp->n_head_kv, 1, e, c);
    if (status == PX_OK) status = llm_key_f32(m, "attention.layer_norm_rms_epsilon", &hp->norm_eps, 0, e, c);
    if (status != PX_OK) return status;
    if (hp->n_embd == 0 || hp->n_layer == 0 || hp->n_layer > 1024 || hp->n_head == 0 || hp->n_head_kv == 0 ||
        hp->n_head % hp->n_head_kv != 0 || hp->n_ff == 0 || hp->n_ctx_train == 0) {
        snprintf(e, c, "implausible hyperparameters (embd %u, layers %u, heads %u/%u, ff %u, ctx %u)", hp->n_embd,
                 hp->n_layer, hp->n_head, hp->n_head_kv, hp->n_ff, hp->n_ctx_train);
        return PX_ERR_FORMAT;
    }
    hp->head_dim = hp->n_embd / hp->n_head;
    if (llm_key_u32(m, "attention.key_length", &hp->head_dim, 1, e, c) != PX_OK) return PX_ERR_FORMAT;
    hp->head_dim_v = hp->head_dim;
    if (llm_key_u32(m, "attention.value_length", &hp->head_dim_v, 1, e, c) != PX_OK) return PX_ERR_FORMAT;
    hp->n_rot = hp->head_dim;
    if (llm_key_u32(m, "rope.dimension_count", &hp->n_rot, 1, e, c) != PX_OK) return PX_ERR_FORMAT;
    float base = 10000.0f;
    if (llm_key_f32(m, "rope.freq_base", &base, 1, e, c) != PX_OK) return PX_ERR_FORMAT;
    if (hp->head_dim == 0 || hp->head_dim > 1024 || hp->head_dim_v == 0 || hp->head_dim_v > 1024 || hp->n_rot > hp->head_dim ||
        hp->n_rot % 2 != 0 || !(hp->norm_eps > 0)) {
        snprintf(e, c, "implausible head shape (head_dim %u, v %u, rot %u, eps %g)", hp->head_dim, hp->head_dim_v, hp->n_rot,
                 (double)hp->norm_eps);
        return PX_ERR_FORMAT;
    }
    hp->attn_scale = 1.0f / sqrtf((float)hp->head_dim);
    hp->embed_scale = 1.0f;
    m->layers = calloc(hp->n_layer, sizeof *m->layers);
    if (m->layers == NULL) return PX_ERR_OUT_OF_MEMORY;
    for (uint32_t il = 0; il < hp->n_layer; il++) m->layers[il].rope_base = base;
    return PX_OK;
}

/* Token embeddings, final norm and the output matrix (tied to the embeddings when absent). */
static px_status bind_globals(px_model *m, char *e, size_t c) {
    const gguf_tensor *embd = gguf_find_tensor(m->gguf, "token_embd.weight");
    if (embd == NULL) {
        snprintf(e, c, "tensor 'token_embd.weight' is missing");
        return PX_ERR_FORMAT;
    }
    m->hp.n_vocab = (uint32_t)embd->ne[1];
    if (m->hp.n_vocab == 0 || embd->ne[1] > (1u << 24)) {
        snprintf(e, c, "implausible vocabulary size %llu", (unsigned long long)embd->ne[1]);
        return PX_ERR_FORMAT;
    }
    px_status status = llm_bind(m, "token_embd.weight", m->hp.n_embd, m->hp.n_vocab, 0, &m->token_embd, e, c);
    if (status == PX_OK) status = bind_norm(m, "output_norm.weight", m->hp.n_embd, 0, &m->output_norm, e, c);
    if (status == PX_OK) status = llm_bind(m, "output.weight", m->hp.n_embd, m->hp.n_vocab, 1, &m->output, e, c);
    if (status == PX_OK && m->output.ne0 == 0) m->output = m->token_embd;
    return status;
}

/* Parses the catalog options this plugin understands. */
static px_status parse_options(px_model *m, const px_model_desc *desc, int *copy_weights, int *graphs, int *mma, char *e,
                               size_t c) {
    m->context_length = m->hp.n_ctx_train < 8192 ? m->hp.n_ctx_train : 8192;
    m->max_tokens = 512;
    m->max_items = 32;
    for (uint32_t i = 0; i < desc->n_options; i++) {
        const char *key = desc->options[i].key, *value = desc->options[i].value;
        if (strcmp(key, "weights") == 0) {
            if (strcmp(value, "map") != 0 && strcmp(value, "copy") != 0) {
                snprintf(e, c, "option weights='%s' must be map or copy", value);
                return PX_ERR_INVALID_ARGUMENT;
            }
            *copy_weights = strcmp(value, "copy") == 0;
            continue;
        }
        if (strcmp(key, "cuda_graphs") == 0 || strcmp(key, "cuda_mma") == 0) {
            if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0) {
                snprintf(e, c, "option %s='%s' must be on or off", key, value);
                return PX_ERR_INVALID_ARGUMENT;
            }
            *(strcmp(key, "cuda_graphs") == 0 ? graphs : mma) = strcmp(value, "on") == 0;
            continue;
        }
        uint32_t *target = strcmp(key, "context_length") == 0     ? &m->context_length
                           : strcmp(key, "max_batch_tokens") == 0 ? &m->max_tokens
                           : strcmp(key, "max_batch_items") == 0  ? &m->max_items
                                                                  : NULL;
        if (target == NULL) {
            snprintf(e, c, "unknown option '%s' (this plugin knows: context_length, max_batch_tokens, max_batch_items, weights, cuda_graphs, cuda_mma)", key);
            return PX_ERR_INVALID_ARGUMENT;
        }
        char *end = NULL;
        unsigned long parsed = strtoul(value, &end, 10);
        if (end == value || *end != '\0' || parsed == 0 || parsed > (1ul << 20)) {
            snprintf(e, c, "option %s='%s' must be a positive integer up to 1048576", key, value);
            return PX_ERR_INVALID_ARGUMENT;
        }
        *target = (uint32_t)parsed;
    }
    if (m->context_length > m->hp.n_ctx_train) {
        snprintf(e, c, "option context_length=%u exceeds the model's trained context of %u", m->context_length, m->hp.n_ctx_train);
        return PX_ERR_INVALID_ARGUMENT;
    }
    if (m->max_items > m->max_tokens) m->max_items = m->max_tokens;
    return PX_OK;
}

px_status llm_move_weights(px_model *m, px_stream *stream, int need_host, char *e, size_t c) {
    const px_host *host = m->host;
    uint64_t start = gguf_data_offset(m->gguf);
    if (start > m->file_bytes) {
        snprintf(e, c, "the GGUF data section starts past the end of the file");
        return PX_ERR_FORMAT;
    }
    uint64_t bytes = m->file_bytes - start;
    px_alloc_desc desc = {PX_HEADER_INIT(px_alloc_desc), bytes > 0 ? bytes : 1, 256, PX_MEMORY_DEVICE, PX_RESIDENCY_WEIGHTS, 0,
                          "llm weights"};
    px_buffer *weights = NULL;
    px_status status = host->mem_alloc(host, m->scope, &desc, &weights);
    if (status != PX_OK) return status;
    px_buffer_view view = {PX_HEADER_INIT(px_buffer_view), NULL, 0, 0, 0, 0};
    if ((status = host->mem_address(host, weights, &view)) == PX_OK && need_host && view.host == NULL) {
        snprintf(e, c, "weights=copy needs host-addressable weight memory on the CPU");
        status = PX_ERR_UNSUPPORTED;
    }
    if (status == PX_OK && bytes > 0) status = host->mem_write(host, stream, weights, 0, m->base + start, bytes);
    if (status != PX_OK) {
        host->mem_free(host, weights);
        return status;
    }
    gguf_close(m->gguf);
    m->gguf = NULL;
    host->mem_free(host, m->file);
    m->file = weights;
    m->base_offset = start;
    m->base = (const uint8_t *)view.host; /* refreshed at every call; NULL on a device, where the host reads no weight */
    return PX_OK;
}

void llm_model_free(px_model *m) {
    if (m == NULL) return;
    const px_host *host = m->host;
    llm_cuda_free(m);
    gguf_close(m->gguf);
    host->mem_free(host, m->scratch_buffer);
    host->mem_free(host, m->file);
    free(m->layers);
    free(m);
}

px_status llm_model_create(px_plugin *plugin, const px_model_desc *desc, px_model **out_model) {
    const px_host *host = plugin->host;
    char e[512] = {0};
    if (desc->n_paths != 1) return llm_fail(host, PX_ERR_INVALID_ARGUMENT, "the LLM plugin loads exactly one GGUF file");
    llm_ops_init();
    px_model *m = calloc(1, sizeof *m);
    if (m == NULL) return llm_fail(host, PX_ERR_OUT_OF_MEMORY, "out of memory");
    m->host = host;
    m->scope = desc->scope;
    px_status status = llm_map_gguf(host, desc->scope, desc->paths[0], &m->file, &m->base, &m->file_bytes, &m->gguf, e, sizeof e);
    gguf_string arch = {0};
    if (status == PX_OK && gguf_get_string(m->gguf, "general.architecture", &arch) != GGUF_OK) {
        snprintf(e, sizeof e, "'%s' has no general.architecture", desc->paths[0]);
        status = PX_ERR_FORMAT;
    }
    if (status == PX_OK && (arch.len >= sizeof m->arch_name || (m->arch = llm_find_arch(arch.ptr, arch.len)) == NULL)) {
        snprintf(e, sizeof e, "architecture '%.*s' is not supported (supported: llama, gemma3, qwen2, qwen3)",
                 (int)(arch.len > 64 ? 64 : arch.len), arch.ptr);
        status = PX_ERR_UNSUPPORTED;
    }
    if (status == PX_OK) {
        memcpy(m->arch_name, arch.ptr, arch.len);
        status = read_common_hparams(m, e, sizeof e);
    }
    if (status == PX_OK) status = bind_globals(m, e, sizeof e);
    for (uint32_t il = 0; status == PX_OK && il < m->hp.n_layer; il++) status = llm_bind_layer_common(m, il, e, sizeof e);
    if (status == PX_OK) status = m->arch->configure(m, e, sizeof e);
    int copy_weights = 0, graphs = 1, mma = 1, on_cuda = desc->device == PX_DEVICE_CUDA;
    if (status == PX_OK && desc->device != PX_DEVICE_CPU && !on_cuda) {
        snprintf(e, sizeof e, "device %u is not one this plugin runs on (CPU or CUDA)", desc->device);
        status = PX_ERR_UNSUPPORTED;
    }
    if (status == PX_OK) status = parse_options(m, desc, &copy_weights, &graphs, &mma, e, sizeof e);
    /* on CUDA the weights always move into a device buffer (llm_cuda_load) */
    if (status == PX_OK && copy_weights && !on_cuda) status = llm_move_weights(m, desc->load_stream, 1, e, sizeof e);
    if (status == PX_OK) status = llm_scratch_allocate(m, desc->load_stream, e, sizeof e);
    if (status == PX_OK && on_cuda) status = llm_cuda_load(m, desc->load_stream, graphs, mma, e, sizeof e);
    if (status != PX_OK) {
        llm_model_free(m);
        return e[0] != '\0' ? llm_fail(host, status, e) : status;
    }
    *out_model = m;
    return PX_OK;
}

px_status llm_model_info(px_model *m, px_model_info *info) {
    if (!PX_HAS_FIELD(info, px_model_info, kv_page_bytes)) return llm_fail(m->host, PX_ERR_VERSION, "px_model_info too small");
    info->kind = PX_KIND_LLM;
    info->architecture = m->arch->name;
    info->weight_bytes = m->file_bytes;
    info->vocab_size = m->hp.n_vocab;
    info->context_length = m->context_length;
    info->max_batch_tokens = m->max_tokens;
    info->max_batch_items = m->max_items;
    info->kv_page_tokens = m->page_tokens;
    info->embedding_size = m->hp.n_embd;
    info->kv_page_bytes = m->kv_token_bytes * m->hp.n_layer * m->page_tokens;
    return PX_OK;
}
