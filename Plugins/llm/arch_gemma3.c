/*
 * arch_gemma3.c — Gemma 3 (text): embeddings scaled by sqrt(n_embd); per-head RMSNorm on q and k; norms after
 * attention and after the FFN as well as before (the converter already added Gemma's +1 to every norm weight);
 * GeGLU with tanh-approximated GELU; NEOX RoPE; five sliding-window layers (window from the file, RoPE base
 * 10000) for each global layer (RoPE base from the file); q scaled by 1/sqrt(key_length) (27B: by
 * 1/sqrt(n_embd / n_head)); tied embeddings; no final logit soft-capping.
 */
#include "llm_model.h"

#include <math.h>
#include <stdio.h>

enum { GEMMA3_SWA_PATTERN = 6 };
static const float GEMMA3_LOCAL_ROPE_BASE = 10000.0f;

static px_status configure(px_model *m, char *e, size_t c) {
    llm_hparams *hp = &m->hp;
    hp->rope_neox = 1;
    hp->activation = LLM_ACT_GELU_TANH;
    hp->embed_scale = sqrtf((float)hp->n_embd);
    hp->scale_q = 1;
    hp->attn_scale = hp->n_layer == 62 ? 1.0f / sqrtf((float)(hp->n_embd / hp->n_head)) : 1.0f / sqrtf((float)hp->head_dim);
    px_status status = llm_key_u32(m, "attention.sliding_window", &hp->sliding_window, 0, e, c);
    if (status != PX_OK) return status;
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        llm_layer *l = &m->layers[il];
        if (l->attn_q_norm.ne0 == 0 || l->attn_k_norm.ne0 == 0 || l->attn_post_norm.ne0 == 0 || l->ffn_post_norm.ne0 == 0) {
            snprintf(e, c, "gemma3 block %u lacks its q/k norms or post norms", il);
            return PX_ERR_FORMAT;
        }
        l->sliding = (il % GEMMA3_SWA_PATTERN) < GEMMA3_SWA_PATTERN - 1;
        if (l->sliding) l->rope_base = GEMMA3_LOCAL_ROPE_BASE;
    }
    return PX_OK;
}

const llm_arch llm_arch_gemma3 = {"gemma3", configure};
