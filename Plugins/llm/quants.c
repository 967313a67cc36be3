/*
 * quants.c — the public quantization API: argument checks, the dispatch table chosen once, and the tile driver
 * that every ISA's kernels share.
 */
#include "quants.h"

#include <stdatomic.h>
#include <stddef.h>

#include "quants_blocks.h"
#include "quants_kernels.h"

/* Tokens whose activations stay cache-resident while a worker's weight rows stream past them once: 64 rows of a
 * 2048-wide Q8_0 activation are 136 KiB, well inside L2. */
#define TOKEN_CHUNK 64

uint32_t llm_vec_dot_type(uint32_t weight_type) {
    switch (weight_type) {
    case GGML_TYPE_F32: return GGML_TYPE_F32;
    case GGML_TYPE_F16: return GGML_TYPE_F16;
    case GGML_TYPE_BF16: return GGML_TYPE_BF16;
    case GGML_TYPE_Q4_0:
    case GGML_TYPE_Q5_0:
    case GGML_TYPE_Q8_0: return GGML_TYPE_Q8_0;
    case GGML_TYPE_Q4_1:
    case GGML_TYPE_Q5_1: return GGML_TYPE_Q8_1;
    case GGML_TYPE_Q4_K:
    case GGML_TYPE_Q5_K:
    case GGML_TYPE_Q6_K: return GGML_TYPE_Q8_K;
    default: return GGML_TYPE_COUNT;
    }
}

static int is_weight_type(uint32_t type) {
    return llm_vec_dot_type(type) != GGML_TYPE_COUNT;
}

static int is_dot_type(uint32_t type) {
    return type == GGML_TYPE_F32 || type == GGML_TYPE_F16 || type == GGML_TYPE_BF16 || type == GGML_TYPE_Q8_0 ||
           type == GGML_TYPE_Q8_1 || type == GGML_TYPE_Q8_K;
}

uint64_t llm_quantized_row_bytes(uint32_t type, int64_t k) {
    if (k < 0 || !(is_weight_type(type) || is_dot_type(type))) return 0;
    /* ggml_types.c sizes Q8_1 as the old float-d/float-s block (40 bytes, as gguf-py still does); ggml's CPU
     * backend and these kernels use the fp16 one. Q8_1 never appears in a GGUF file, only as an activation. */
    if (type == GGML_TYPE_Q8_1) return k % 32 == 0 ? (uint64_t)k / 32 * sizeof(block_q8_1) : 0;
    return ggml_row_bytes(type, (uint64_t)k);
}

static int row_ok(uint32_t type, int64_t k) {
    return k > 0 && llm_quantized_row_bytes(type, k) != 0;
}

int llm_quantize_row(uint32_t dot_type, const float *x, void *out, int64_t k) {
    if (!is_dot_type(dot_type) || !row_ok(dot_type, k)) return -1;
    llm_quantize_scalar(dot_type, x, out, k);
    return 0;
}

int llm_dequantize_row(uint32_t type, const void *src, float *dst, int64_t k) {
    if (!row_ok(type, k)) return -1;
    llm_dequantize_scalar(type, src, dst, k);
    return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Dispatch: per ISA, each weight type takes the kernel of the highest level at or below it that has one.

static const llm_kernel_table *const tables[LLM_ISA_COUNT] = {
    [LLM_ISA_SCALAR] = &llm_kernels_scalar,
    [LLM_ISA_AVX2] = &llm_kernels_avx2,
    [LLM_ISA_AVXVNNI] = &llm_kernels_avxvnni,
    [LLM_ISA_AVX512] = &llm_kernels_avx512,
    [LLM_ISA_AVX512VNNI] = &llm_kernels_avx512vnni,
};

/* Which lower level a level's missing kernels come from: AVX-512 does not imply AVX-VNNI. */
static const llm_isa fallback[LLM_ISA_COUNT] = {
    [LLM_ISA_SCALAR] = LLM_ISA_SCALAR,
    [LLM_ISA_AVX2] = LLM_ISA_SCALAR,
    [LLM_ISA_AVXVNNI] = LLM_ISA_AVX2,
    [LLM_ISA_AVX512] = LLM_ISA_AVX2,
    [LLM_ISA_AVX512VNNI] = LLM_ISA_AVX512,
};

static const llm_tiling *tiling_for(llm_isa isa, uint32_t type) {
    for (;;) {
        const llm_tiling *t = &tables[isa]->type[type];
        if (t->vec != NULL || isa == LLM_ISA_SCALAR) return t;
        isa = fallback[isa];
    }
}

/* The default level, decided on first use. Racing first calls compute the same value, so a relaxed store of the
 * (level + 1) is enough; 0 means not yet decided. */
static atomic_int default_isa_plus_one;

static llm_isa default_isa(void) {
    int v = atomic_load_explicit(&default_isa_plus_one, memory_order_relaxed);
    if (v == 0) {
        v = (int)llm_cpu_isa() + 1;
        atomic_store_explicit(&default_isa_plus_one, v, memory_order_relaxed);
    }
    return (llm_isa)(v - 1);
}

// ---------------------------------------------------------------------------------------------------------------
// The tile driver

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

/* Rows past the end of a tile point at the last real row (and tokens likewise), so kernels never branch on a
 * partial tile; their extra sums are dropped. */
static void gemm_tiled(const llm_tiling *tl, const uint8_t *w, uint64_t w_row_bytes, int64_t n_rows, int64_t k,
                       const uint8_t *x, uint64_t x_row_bytes, int64_t n_tok, float *out, int64_t out_stride) {
    if (tl->gemm != NULL && n_tok >= tl->gemm_min_toks) {
        const int64_t done = tl->gemm(w, w_row_bytes, n_rows, k, x, x_row_bytes, n_tok, out, out_stride);
        if (done > 0) {
            /* the rest (fewer than gemm_min_toks tokens) through the tiles, as the kernels' order has it */
            llm_tiling rest = *tl;
            rest.gemm = NULL;
            if (done < n_tok)
                gemm_tiled(&rest, w, w_row_bytes, n_rows, k, x + (uint64_t)done * x_row_bytes, x_row_bytes, n_tok - done,
                           out + done * out_stride, out_stride);
            return;
        }
    }
    const int use_mat = n_tok >= (tl->mat_min_toks > tl->mat_toks ? tl->mat_min_toks : tl->mat_toks) && tl->mat_toks > 1;
    if (use_mat && tl->mat_tail_vec && n_tok % tl->mat_toks != 0) {
        /* the last n_tok % mat_toks tokens one at a time, as ggml's repacked kernels do (gemm over groups of
         * tokens, gemv for the rest) */
        const int64_t whole = n_tok - n_tok % tl->mat_toks;
        gemm_tiled(tl, w, w_row_bytes, n_rows, k, x, x_row_bytes, whole, out, out_stride);
        for (int64_t t = whole; t < n_tok; t++)
            gemm_tiled(tl, w, w_row_bytes, n_rows, k, x + (uint64_t)t * x_row_bytes, x_row_bytes, 1, out + t * out_stride,
                       out_stride);
        return;
    }
    llm_tile_fn *tile = use_mat ? tl->mat : tl->vec;
    const int R = use_mat ? tl->mat_rows : tl->vec_rows, T = use_mat ? tl->mat_toks : 1;
    const uint8_t *wr[LLM_TILE_MAX_ROWS], *wn[LLM_TILE_MAX_ROWS], *xr[LLM_TILE_MAX_TOKS];
    float sums[LLM_TILE_MAX_ROWS * LLM_TILE_MAX_TOKS];

    for (int64_t t0 = 0; t0 < n_tok; t0 += TOKEN_CHUNK) {
        const int64_t t_end = min64(t0 + TOKEN_CHUNK, n_tok);
        for (int64_t r0 = 0; r0 < n_rows; r0 += R) {
            for (int i = 0; i < R; i++) {
                wr[i] = w + (uint64_t)min64(r0 + i, n_rows - 1) * w_row_bytes;
                wn[i] = w + (uint64_t)min64(r0 + R + i, n_rows - 1) * w_row_bytes;
            }
            for (int64_t t = t0; t < t_end; t += T) {
                for (int j = 0; j < T; j++) xr[j] = x + (uint64_t)min64(t + j, n_tok - 1) * x_row_bytes;
                /* the next tile's rows are fetched once, while this tile's first tokens run */
                tile(wr, t == t0 && r0 + R < n_rows ? wn : NULL, xr, k, sums);
                for (int i = 0; i < R && r0 + i < n_rows; i++)
                    for (int j = 0; j < T && t + j < t_end; j++) out[(t + j) * out_stride + r0 + i] = sums[i * T + j];
            }
        }
    }
}

int llm_matmul_rows_isa(llm_isa isa, uint32_t weight_type, const void *w, uint64_t w_row_bytes, int64_t n_rows,
                        int64_t k, const void *x_q, uint64_t x_row_bytes, int64_t n_tokens, float *out,
                        int64_t out_stride) {
    if ((unsigned)isa >= LLM_ISA_COUNT || !llm_cpu_supports(isa)) return -1;
    if (!is_weight_type(weight_type) || !row_ok(weight_type, k) || n_rows < 0 || n_tokens < 0) return -1;
    if (w_row_bytes < llm_quantized_row_bytes(weight_type, k)) return -1;
    if (n_tokens > 1 && x_row_bytes < llm_quantized_row_bytes(llm_vec_dot_type(weight_type), k)) return -1;
    if (n_tokens > 1 && out_stride < n_rows) return -1;
    if (n_rows == 0 || n_tokens == 0) return 0;
    gemm_tiled(tiling_for(isa, weight_type), w, w_row_bytes, n_rows, k, x_q, x_row_bytes, n_tokens, out, out_stride);
    return 0;
}

int llm_matmul_rows(uint32_t weight_type, const void *w, uint64_t w_row_bytes, int64_t n_rows, int64_t k,
                    const void *x_q, uint64_t x_row_bytes, int64_t n_tokens, float *out, int64_t out_stride) {
    return llm_matmul_rows_isa(default_isa(), weight_type, w, w_row_bytes, n_rows, k, x_q, x_row_bytes, n_tokens,
                               out, out_stride);
}

int llm_matvec_rows(uint32_t weight_type, const void *w, uint64_t w_row_bytes, int64_t n_rows, int64_t k,
                    const void *x_q, float *out) {
    return llm_matmul_rows_isa(default_isa(), weight_type, w, w_row_bytes, n_rows, k, x_q, 0, 1, out, n_rows);
}
