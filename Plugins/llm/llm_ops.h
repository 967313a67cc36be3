/*
 * llm_ops.h — the element-wise and row-wise operations of the forward pass (everything but matmuls and
 * attention). All f32, row-major; shapes in the comments.
 */
#ifndef PLEXUS_LLM_OPS_H
#define PLEXUS_LLM_OPS_H

#include "llm_model.h"

#include <stdint.h>

/** out[r] = x[r] / rms(x[r]) * w for each of `rows` rows of `n`. x, out: [rows, n]; w: [n]. In place allowed. */
void llm_rmsnorm_rows(float *out, const float *x, const float *w, uint32_t rows, uint32_t n, float eps);

/** x[r] += y[r]. x, y: [rows, n]. */
void llm_add_rows(float *x, const float *y, uint32_t rows, uint32_t n);

/** x[r] += b for each row. x: [rows, n]; b: [n]. */
void llm_add_bias(float *x, const float *b, uint32_t rows, uint32_t n);

/** Builds the GELU table once (call before the first llm_glu; idempotent). */
void llm_ops_init(void);

/** gate = act(gate) * up. gate, up: [n]. GELU is the f16-rounded table form llama.cpp's CPU backend uses. */
void llm_glu(float *gate, const float *up, uint64_t n, llm_activation activation);

/** Fills cos/sin tables for positions `pos` and a RoPE base: cos, sin: [n_tokens, n_rot/2]. */
void llm_rope_tables(float *cos_table, float *sin_table, const uint32_t *pos, uint32_t n_tokens, uint32_t n_rot, float base);

/** Rotates the first n_rot dims of every head of every token. x: [n_tokens, n_heads, head_dim]. */
void llm_rope(float *x, const float *cos_table, const float *sin_table, uint32_t n_tokens, uint32_t n_heads,
              uint32_t head_dim, uint32_t n_rot, int neox);

/** Multiplies every element. x: [n]. */
void llm_scale(float *x, uint64_t n, float factor);

/** IEEE half <-> float for the KV cache (F16C when the CPU has it). */
void llm_f32_to_f16_row(uint16_t *out, const float *x, uint32_t n);
/** dot(q, k) with q in f32 (already holding f16-representable values) and k in f16. */
float llm_dot_f32_f16(const float *q, const uint16_t *k, uint32_t n);
/** Four llm_dot_f32_f16 at once (identical results, independent chains). k: four [n] f16 rows; out: [4]. */
void llm_dot4_f32_f16(const float *q, const uint16_t *const k[4], uint32_t n, float out[4]);
/** Rounds every value to the nearest f16 (kept as f32). x: [n]. */
void llm_round_f16(float *x, uint32_t n);
/** out += a * v with v in f16. out: [n] f32; v: [n] f16. */
void llm_axpy_f16(float *out, float a, const uint16_t *v, uint32_t n);

#endif
