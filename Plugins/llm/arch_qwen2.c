/*
 * arch_qwen2.c — Qwen2 / Qwen2.5: the llama block with biases on q, k and v, and NEOX RoPE.
 */
#include "llm_model.h"

#include <stdio.h>

static px_status configure(px_model *m, char *e, size_t c) {
    m->hp.rope_neox = 1;
    m->hp.activation = LLM_ACT_SILU;
    for (uint32_t il = 0; il < m->hp.n_layer; il++) {
        const llm_layer *l = &m->layers[il];
        if (l->bq.ne0 == 0 || l->bk.ne0 == 0 || l->bv.ne0 == 0) {
            snprintf(e, c, "qwen2 block %u lacks its q/k/v biases", il);
            return PX_ERR_FORMAT;
        }
    }
    return PX_OK;
}

const llm_arch llm_arch_qwen2 = {"qwen2", configure};
