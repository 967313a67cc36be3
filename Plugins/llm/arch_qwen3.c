/*
 * arch_qwen3.c — Qwen3 (dense): the llama block with per-head RMSNorm on q and k, no biases, NEOX RoPE, and a
 * head size (key_length) that need not equal n_embd / n_head.
 */
#include "llm_model.h"

#include <stdio.h>

static px_status configure(px_model *m, char *e, size_t c) {
    m->hp.rope_neox = 1;
    m->hp.activation = LLM_ACT_SILU;
    for (uint32_t il = 0; il < m->hp.n_layer; il++) {
        const llm_layer *l = &m->layers[il];
        if (l->attn_q_norm.ne0 == 0 || l->attn_k_norm.ne0 == 0) {
            snprintf(e, c, "qwen3 block %u lacks its q/k norms", il);
            return PX_ERR_FORMAT;
        }
    }
    return PX_OK;
}

const llm_arch llm_arch_qwen3 = {"qwen3", configure};
