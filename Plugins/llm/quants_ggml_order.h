/*
 * quants_ggml_order.h — single-token dot products in ggml's x86 order of float additions (see the .c file).
 */
#ifndef PLEXUS_LLM_QUANTS_GGML_ORDER_H
#define PLEXUS_LLM_QUANTS_GGML_ORDER_H

#include <stdint.h>

/** out[r] = dot(W row r, x) for a single activation row, adding in ggml's x86 order. Returns 0, or -1 when the type
 *  has no such kernel here or the CPU lacks AVX2/FMA (the caller then uses llm_matmul_rows).
 *  w: [n_rows, k] of `weight_type`, stride w_row_bytes; x_q: [k] in the dot type; out: [n_rows] f32. */
int llm_ggml_order_matvec(uint32_t weight_type, const void *w, uint64_t w_row_bytes, int64_t n_rows, int64_t k,
                          const void *x_q, float *out);

#endif
