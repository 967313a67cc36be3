/*
 * arch_llama.c — Llama 2/3, TinyLlama, SmolLM, Mistral: pre-norm blocks, RMSNorm, SwiGLU, grouped-query
 * attention, RoPE on adjacent pairs (the GGUF converter permutes Q and K rows for it).
 */
#include "llm_model.h"

#include <stdio.h>

static px_status configure(px_model *m, char *e, size_t c) {
    m->hp.rope_neox = 0;
    m->hp.activation = LLM_ACT_SILU;
    for (uint32_t il = 0; il < m->hp.n_layer; il++) {
        px_status status = llm_bind_layer_common(m, il, e, c);
        if (status != PX_OK) return status;
    }
    return PX_OK;
}

const llm_arch llm_arch_llama = {"llama", configure};
