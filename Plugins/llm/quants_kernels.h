/*
 * quants_kernels.h — what each ISA file (quants_scalar.c, quants_avx2.c, ...) hands the dispatcher in quants.c.
 * Internal to the quants_*.c files.
 *
 * A kernel is a tile: the dot products of a few weight rows with a few activation rows, over the whole of k. The
 * driver (llm_gemm_tiled) walks the [n_tokens, n_rows] output in tiles, weights outer and tokens inner, so a tile's
 * decoded weight blocks are reused by every token in it while the tokens of a 64-token chunk stay in L2.
 */
#ifndef PLEXUS_LLM_QUANTS_KERNELS_H
#define PLEXUS_LLM_QUANTS_KERNELS_H

#include <stdint.h>

#include "cpu_features.h"
#include "ggml_types.h"

/* Largest tile any kernel uses, in weight rows and in tokens. */
#define LLM_TILE_MAX_ROWS 8
#define LLM_TILE_MAX_TOKS 8

/* sums[i * n_toks + j] = dot(w[i], x[j]) for the tile's rows i and tokens j.
 * w: [rows] pointers to weight rows of k elements; x: [toks] pointers to activation rows in the dot type;
 * w_next: [rows] pointers to the rows of the tile that comes next, or NULL. Kernels prefetch w_next (prefetcht0) at
 * the pace they consume w, so a matvec streaming weights from DRAM always has the next tile in flight (the
 * hardware prefetchers alone leave the several interleaved row streams of a tile short of bandwidth). */
typedef void llm_tile_fn(const uint8_t *const *w, const uint8_t *const *w_next, const uint8_t *const *x, int64_t k,
                         float *sums);

/* A product over the first tokens, out[t * out_stride + r] = dot(w[r], x[t]) for r < n_rows, t < done (quants.h's
 * llm_matmul_rows), for kernels that organise their own loops; returns done (the tiles serve the tokens after it),
 * or -1 when it does not serve the shape. */
typedef int64_t llm_gemm_fn(const uint8_t *w, uint64_t w_row_bytes, int64_t n_rows, int64_t k, const uint8_t *x,
                        uint64_t x_row_bytes, int64_t n_tok, float *out, int64_t out_stride);

/* The tiles of one weight type on one ISA. `vec` serves a single token (decode), `mat` several (prefill).
 * Where the two add in different orders (as ggml's kernels for the type do), two fields say which tokens get which:
 * mat_min_toks, the fewest tokens that use `mat` (0: mat_toks); mat_tail_vec, 1 when only whole groups of mat_toks
 * tokens use `mat` and the remaining ones `vec`. */
typedef struct llm_tiling {
    llm_tile_fn *vec;
    int vec_rows;
    llm_tile_fn *mat;
    int mat_rows, mat_toks;
    int mat_min_toks, mat_tail_vec;
    /* optional: serves batches of at least gemm_min_toks tokens instead of the tiles, in the same order */
    llm_gemm_fn *gemm;
    int gemm_min_toks;
} llm_tiling;

/* One ISA's kernels by weight type; an entry with vec == NULL falls back to the next lower level. */
typedef struct llm_kernel_table {
    llm_tiling type[GGML_TYPE_COUNT];
} llm_kernel_table;

extern const llm_kernel_table llm_kernels_scalar;
extern const llm_kernel_table llm_kernels_avx2;
extern const llm_kernel_table llm_kernels_avxvnni;
extern const llm_kernel_table llm_kernels_avx512;
extern const llm_kernel_table llm_kernels_avx512vnni;

/* Reference conversions in quants_scalar.c, used by the public API in quants.c. Arguments are already validated. */
void llm_dequantize_scalar(uint32_t type, const void *src, float *dst, int64_t k);
void llm_quantize_scalar(uint32_t dot_type, const float *x, void *out, int64_t k);

#endif
