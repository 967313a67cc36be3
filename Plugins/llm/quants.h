/*
 * quants.h — CPU kernels for GGUF tensor types: dequantize a row, quantize an activation row, and multiply quantized
 * weight rows by quantized activations (matrix-vector for decode, matrix-matrix for prefill).
 *
 * Numerics follow ggml's CPU backend on x86 so that greedy tokens can match llama.cpp: weights stay in their GGUF
 * type; the activation is first quantized to the weight type's "dot type" (Q4_0/Q5_0/Q8_0 -> Q8_0, Q4_1/Q5_1 ->
 * Q8_1, Q4_K/Q5_K/Q6_K -> Q8_K, F16 -> F16, BF16 -> BF16, F32 -> F32), every block product is an exact integer sum,
 * and only the float accumulation of block results differs between ISA paths. The AVX-512 path accumulates Q4_0,
 * Q4_1, Q5_0, Q5_1, Q8_0, Q4_K and Q6_K exactly as the kernels llama.cpp runs on such a CPU (bit-identical results;
 * Specs/llm-plugin.md "Numerics" says which kernel for which batch size).
 *
 * The kernels are pure: no threads, no allocation, no global state except the dispatch table chosen once (by CPU
 * detection, or by the PLEXUS_CPU_ISA environment variable, see cpu_features.h). Callers split rows across workers.
 * Every function that takes a type returns 0, or -1 when the type has no kernel or k is not a multiple of its block.
 */
#ifndef PLEXUS_LLM_QUANTS_H
#define PLEXUS_LLM_QUANTS_H

#include <stdint.h>

#include "cpu_features.h"

/// The activation type a weight type's dot product consumes, or GGML_TYPE_COUNT when `weight_type` has no kernel.
uint32_t llm_vec_dot_type(uint32_t weight_type);

/// Bytes of one row of k elements of `type` as these kernels lay it out (Q8_1 is ggml's 36-byte block:
/// fp16 d, fp16 s, 32 x int8), or 0 when the type is unknown here or k is not a multiple of its block size.
uint64_t llm_quantized_row_bytes(uint32_t type, int64_t k);

/// Quantizes one activation row to a dot type (Q8_0, Q8_1, Q8_K, F16, BF16 or F32), bit-exact with ggml's x86 CPU
/// backend. x: [k] f32 (borrowed); out: [llm_quantized_row_bytes(dot_type, k)] bytes of `dot_type` (written).
int llm_quantize_row(uint32_t dot_type, const float *x, void *out, int64_t k);

/// Expands one row of `type` (any weight type with a kernel, or a dot type) to floats, exactly as ggml does.
/// src: [llm_quantized_row_bytes(type, k)] bytes (borrowed); dst: [k] f32 (written).
int llm_dequantize_row(uint32_t type, const void *src, float *dst, int64_t k);

/// Matrix-vector product on the default ISA path: out[r] = dot(W[r], x) for r in [0, n_rows).
/// w: [n_rows, k] of `weight_type`, row r at w + r * w_row_bytes (borrowed);
/// x_q: [k] of llm_vec_dot_type(weight_type), from llm_quantize_row (borrowed); out: [n_rows] f32 (written).
int llm_matvec_rows(uint32_t weight_type, const void *w, uint64_t w_row_bytes, int64_t n_rows, int64_t k,
                    const void *x_q, float *out);

/// Matrix-matrix product on the default ISA path, for prefill: out[t * out_stride + r] = dot(W[r], X[t]) for
/// t in [0, n_tokens), r in [0, n_rows). Each weight block is decoded once per tile of tokens (weights outer,
/// tokens inner), so a worker that owns a slice of rows streams its weights once per 64 tokens.
/// w: [n_rows, k] of `weight_type`, stride w_row_bytes (borrowed);
/// x_q: [n_tokens, k] of the dot type, row t at x_q + t * x_row_bytes (borrowed);
/// out: [n_tokens, out_stride] f32, columns [0, n_rows) written (a worker passes out + r0 for its rows).
int llm_matmul_rows(uint32_t weight_type, const void *w, uint64_t w_row_bytes, int64_t n_rows, int64_t k,
                    const void *x_q, uint64_t x_row_bytes, int64_t n_tokens, float *out, int64_t out_stride);

/// llm_matmul_rows on an explicit ISA path (tests and benchmarks compare paths with it). Returns -1 as well when
/// this CPU cannot run `isa` (see llm_cpu_supports).
int llm_matmul_rows_isa(llm_isa isa, uint32_t weight_type, const void *w, uint64_t w_row_bytes, int64_t n_rows,
                        int64_t k, const void *x_q, uint64_t x_row_bytes, int64_t n_tokens, float *out,
                        int64_t out_stride);

/// IEEE binary16 <-> binary32, round to nearest even (what F16C's vcvtps2ph does), exact for every input.
float llm_fp16_to_fp32(uint16_t h);
uint16_t llm_fp32_to_fp16(float f);

/// bfloat16 <-> binary32 as ggml converts: round to nearest even, NaN kept quiet.
float llm_bf16_to_fp32(uint16_t h);
uint16_t llm_fp32_to_bf16(float f);

#endif
