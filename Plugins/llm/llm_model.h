/*
 * llm_model.h — a loaded GGUF transformer: hyperparameters, weights (zero-copy views into the host's file
 * mapping), the scratch buffers of one step, and the registry of architectures.
 *
 * One architecture = one file (arch_llama.c, arch_gemma3.c, arch_qwen2.c, arch_qwen3.c) that reads its
 * hyperparameters and binds its tensors; the forward pass (llm_forward.c) is shared and reads the flags below.
 */
#ifndef PLEXUS_LLM_MODEL_H
#define PLEXUS_LLM_MODEL_H

#include "gguf.h"
#include "plexus_plugin.h"

#include <stddef.h>
#include <stdint.h>

/** A weight matrix or vector: rows of `ne0` elements of `type`; `offset` is relative to the file mapping. */
typedef struct llm_tensor {
    uint64_t offset;    /* bytes from the start of the file; 0 with ne0 == 0 means "absent" */
    uint32_t type;      /* ggml_type */
    int64_t ne0;        /* elements per row (the reduction dimension of a matmul) */
    int64_t ne1;        /* rows */
    uint64_t row_bytes; /* bytes of one row */
} llm_tensor;

/** The weights of one transformer block. Absent optional tensors have ne0 == 0. */
typedef struct llm_layer {
    llm_tensor attn_norm;      /* [n_embd] f32 */
    llm_tensor wq, wk, wv;     /* [n_head*head_dim, n_embd], [n_head_kv*head_dim, n_embd] x2 */
    llm_tensor bq, bk, bv;     /* optional biases (qwen2) */
    llm_tensor attn_q_norm;    /* optional [head_dim] f32 (gemma3, qwen3) */
    llm_tensor attn_k_norm;    /* optional [head_dim] f32 */
    llm_tensor wo;             /* [n_embd, n_head*head_dim] */
    llm_tensor attn_post_norm; /* optional [n_embd] f32 (gemma3) */
    llm_tensor ffn_norm;       /* [n_embd] f32 */
    llm_tensor ffn_gate;       /* [n_ff, n_embd] */
    llm_tensor ffn_up;         /* [n_ff, n_embd] */
    llm_tensor ffn_down;       /* [n_embd, n_ff] */
    llm_tensor ffn_post_norm;  /* optional [n_embd] f32 (gemma3) */
    int sliding;               /* 1: attends to the last `sliding_window` positions only */
    float rope_base;           /* RoPE frequency base of this layer */
} llm_layer;

/** Activation of the feed-forward gate. */
typedef enum llm_activation { LLM_ACT_SILU = 0, LLM_ACT_GELU_TANH = 1 } llm_activation;

/** Hyperparameters, read from `<arch>.*` keys by the architecture. */
typedef struct llm_hparams {
    uint32_t n_vocab;
    uint32_t n_ctx_train;
    uint32_t n_embd;
    uint32_t n_layer;
    uint32_t n_head;
    uint32_t n_head_kv;
    uint32_t head_dim;        /* per head, for q and k */
    uint32_t head_dim_v;      /* per head, for v */
    uint32_t n_ff;
    uint32_t n_rot;           /* rotated dimensions per head (== head_dim for these models) */
    uint32_t sliding_window;  /* positions a sliding layer sees, including its own; 0 = none */
    float norm_eps;
    float attn_scale;         /* 1/sqrt(head_dim) unless the architecture says otherwise */
    int scale_q;              /* 1: q is scaled before q.k (gemma); 0: the scores are scaled (as llama.cpp does) */
    float embed_scale;        /* multiplies token embeddings (gemma: sqrt(n_embd)), else 1 */
    int rope_neox;            /* 1: rotate pairs (i, i + n_rot/2) (NEOX); 0: adjacent pairs (2i, 2i+1) */
    llm_activation activation;
} llm_hparams;

/** One architecture: adjusts the hyperparameters the loader read and checks the tensors the loader bound (every
 *  blk.N.* tensor of llm_layer is bound before configure runs). Returns PX_OK or sets `error`. */
typedef struct llm_arch {
    const char *name; /* general.architecture */
    px_status (*configure)(px_model *model, char *error, size_t capacity);
} llm_arch;

/** The registry (llm_model.c): the architecture named `name`, or NULL. */
const llm_arch *llm_find_arch(const char *name, size_t length);

/** Scratch memory of one step, sized for max_batch_tokens / max_batch_items at load. All f32 unless noted. */
typedef struct llm_scratch {
    float *x;       /* [max_tokens, n_embd] residual stream */
    float *xb;      /* [max_tokens, n_embd] normed input of a block */
    float *q;       /* [max_tokens, n_head*head_dim] */
    float *k;       /* [max_tokens, n_head_kv*head_dim] */
    float *v;       /* [max_tokens, n_head_kv*head_dim_v] */
    float *att;     /* [max_tokens, n_head*head_dim_v] attention output */
    float *proj;    /* [max_tokens, n_embd] output of wo / ffn_down */
    float *gate;    /* [max_tokens, n_ff] */
    float *up;      /* [max_tokens, n_ff] */
    float *scores;  /* [workers, n_head / n_head_kv, scores_row] attention scores, a row per head of a KV group */
    float *slots;   /* [workers, slots_per_worker] partial sums of probabilities x V, one per lane of ggml's sum */
    uint64_t slots_per_worker; /* max(64, 16 * (n_head / n_head_kv)) * head_dim */
    uint64_t scores_row; /* n_ctx rounded up to a whole 64 positions */
    float *logits;  /* [max_items, n_vocab] */
    float *rope_cos[2], *rope_sin[2]; /* [max_tokens, n_rot/2] for the (at most two) RoPE bases */
    int32_t *token;                   /* [max_tokens] batch arrays (llm_batch) */
    uint32_t *pos, *item;             /* [max_tokens] */
    uint32_t *out_token;              /* [max_items] */
    const px_step_item **items;       /* [max_items] */
    void *xq;       /* [max_tokens, quantized row of max(n_embd, n_ff, heads*dim)] activations in a dot type */
    uint64_t xq_row_bytes;
} llm_scratch;

struct px_model {
    const px_host *host;
    px_scope *scope;
    const llm_arch *arch;
    llm_hparams hp;
    llm_layer *layers;        /* [n_layer] */
    llm_tensor token_embd;    /* [n_vocab, n_embd] */
    llm_tensor output_norm;   /* [n_embd] f32 */
    llm_tensor output;        /* [n_vocab, n_embd]; the token embeddings when the file ties them */
    gguf_file *gguf;          /* parsed view of the mapping (valid while `file` is mapped) */
    px_buffer *file;          /* the weights: the host's read-only mapping of the GGUF file, or (weights=copy) a
                                 host-allocated weights buffer holding the file's tensor data, which the host may
                                 evict to pinned memory and restore between calls */
    const uint8_t *base;      /* the address of `file`'s first byte for the current call (re-queried every call) */
    uint64_t base_offset;     /* file offset of `file`'s first byte: 0 for the mapping, the data section for a copy */
    uint64_t file_bytes;
    uint32_t context_length;  /* served context (<= n_ctx_train, option context_length) */
    uint32_t max_tokens;      /* max_batch_tokens */
    uint32_t max_items;       /* max_batch_items */
    uint32_t workers;         /* host CPU workers (scores rows) */
    uint32_t page_tokens;     /* KV page size in tokens */
    uint64_t kv_token_bytes;  /* bytes of one position's K and V in one layer, f16 */
    float rope_base[2];       /* the distinct RoPE bases of the layers (the second equals the first if only one) */
    px_buffer *scratch_buffer;
    llm_scratch s;
    struct llm_cuda *cuda;    /* the device side when the host placed the model on a CUDA device (llm_cuda.h), else NULL */
    char arch_name[64];
};

/** Address of a tensor's first byte for the current call. */
static inline const uint8_t *llm_data(const px_model *model, const llm_tensor *tensor) {
    return model->base + (tensor->offset - model->base_offset);
}

/** Moves the tensor data (the file from its data section on) out of the file mapping into one weights buffer the
 *  host owns (`PX_MEMORY_DEVICE`, `PX_RESIDENCY_WEIGHTS`: device memory where the model runs on a device, which the
 *  host may park in pinned memory while the model is idle and restore before the next call), written through
 *  `stream`; the mapping and its parsed view are released. `need_host`: fail unless the buffer is host-addressable
 *  (the CPU path reads weights in place). Used by weights=copy and by the CUDA path. */
px_status llm_move_weights(px_model *model, px_stream *stream, int need_host, char *error, size_t capacity);

/** Binds a tensor by name and checks its shape: ne0 == `cols` and ne1 == `rows` (0 = any). Optional tensors that
 *  are missing leave `out` zeroed and return PX_OK. */
px_status llm_bind(px_model *model, const char *name, int64_t cols, int64_t rows, int optional, llm_tensor *out,
                   char *error, size_t capacity);

/** Binds the per-layer tensors every architecture shares (names blk.N.*) with the shapes from `hp`. */
px_status llm_bind_layer_common(px_model *model, uint32_t layer, char *error, size_t capacity);

/** Reads `<arch>.<suffix>` as u32 / f32 (required unless `optional`). */
px_status llm_key_u32(px_model *model, const char *suffix, uint32_t *out, int optional, char *error, size_t capacity);
px_status llm_key_f32(px_model *model, const char *suffix, float *out, int optional, char *error, size_t capacity);

#endif
