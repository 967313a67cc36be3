/*
 * arch_llama.c — Llama 2/3, TinyLlama, SmolLM, Mistral: pre-norm blocks, RMSNorm, SwiGLU, grouped-query
 * attention, RoPE on adjacent pairs (the GGUF converter permutes Q and K rows for it).
 */
#include "llm_model.h"


static px_status configure(px_model *m, char *e, size_t c) {
    (void)e;
    (void)c;
    m->hp.rope_neox = 0;
    m->hp.activation = LLM_ACT_SILU;
    return PX_OK;
}

const llm_arch llm_arch_llama = {"llama", configure};
