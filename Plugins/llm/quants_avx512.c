/*
 * quants_avx512.c — 512-bit x86 kernels (AVX-512 F/BW/VL) for every weight type. quants_avx512vnni.c compiles
 * this file a second time with QX_VNNI = 1: int8 products through vpdpbusd and scaled i16 sums through vpdpwssd.
 *
 * A vector holds 64 int8 lanes: two 32-weight blocks, or a 64-weight chunk of a K-quant super-block laid out in
 * element order so that activations load contiguously. Each function carries a target attribute so the plugin
 * builds with plain flags; the dispatcher runs them only on CPUs that have the instructions.
 */
#include "quants_kernels.h"

#ifndef QX_VNNI
#define QX_VNNI 0
#define QX_TARGET "avx512f,avx512bw,avx512vl,avx2,fma,f16c"
#define QX_TABLE llm_kernels_avx512
#endif

#if defined(__x86_64__)

#include <immintrin.h>

#include "quants_blocks.h"

#define KERNEL static __attribute__((target(QX_TARGET)))
#define INLINE static inline __attribute__((always_inline, target(QX_TARGET)))
#define UNROLL _Pragma("GCC unroll 8")

/* Starts pulling the next tile's row r at byte `offset` into the cache (see llm_tile_fn). */
INLINE void prefetch_next(const uint8_t *const *wn, int r, int64_t offset) {
    if (wn != NULL) __builtin_prefetch(wn[r] + offset, 0, 3);
}

INLINE float fp16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

INLINE __m256i load256(const uint8_t *p) {
    return _mm256_loadu_si256((const __m256i *)(const void *)p);
}

INLINE __m512i load512(const uint8_t *p) {
    return _mm512_loadu_si512((const void *)p);
}

/* [lo | hi] */
INLINE __m512i join_i(__m256i lo, __m256i hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* ggml's hsum_float_8: (l0+l4, l1+l5, l2+l6, l3+l7), then (0+2, 1+3), then 0+1. The order of these additions is
 * part of every dot product's result, so it is ggml's exactly. */
INLINE __m256 hi256(__m512 v) {
    return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
}

INLINE float hsum8(__m256 v) {
    __m128 r = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

/* acc + the sum of 4 adjacent u8 * s8 products per i32 lane (without VNNI: u <= 128 keeps i16 pairs exact). */
INLINE __m512i dot_u8s8(__m512i acc, __m512i u, __m512i s) {
#if QX_VNNI
    return _mm512_dpbusd_epi32(acc, u, s);
#else
    return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(u, s), _mm512_set1_epi16(1)));
#endif
}

/* acc + sum of adjacent i16 pair products per i32 lane. */
INLINE __m512i madd_acc(__m512i acc, __m512i a, __m512i b) {
#if QX_VNNI
    return _mm512_dpwssd_epi32(acc, a, b);
#else
    return _mm512_add_epi32(acc, _mm512_madd_epi16(a, b));
#endif
}

// ---------------------------------------------------------------------------------------------------------------
// F32, F16, BF16: 16 elements per step, the tail through masked loads.

INLINE __m512 load_f16x(uint32_t type, const uint8_t *row, int64_t i, __mmask16 m) {
    if (type == GGML_TYPE_F32) return _mm512_maskz_loadu_ps(m, (const float *)(const void *)row + i);
    const __m256i h = _mm256_maskz_loadu_epi16(m, row + 2 * i);
    if (type == GGML_TYPE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); /* bf16 is the top half of f32 */
}

INLINE void tile_float(uint32_t type, const int R, const int T, const uint8_t *const *w, const uint8_t *const *wn,
                       const uint8_t *const *x, int64_t k, float *sums) {
    __m512 acc[8][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_ps();
    for (int64_t i = 0; i < k; i += 16) {
        const __mmask16 m = k - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (k - i)) - 1);
        __m512 wv[8];
        UNROLL for (int r = 0; r < R; r++) {
            wv[r] = load_f16x(type, w[r], i, m);
            prefetch_next(wn, r, i * (type == GGML_TYPE_F32 ? 4 : 2));
        }
        UNROLL for (int t = 0; t < T; t++) {
            const __m512 xv = load_f16x(type, x[t], i, m);
            UNROLL for (int r = 0; r < R; r++) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int t = 0; t < T; t++)
        sums[r * T + t] = _mm512_reduce_add_ps(acc[r][t]);
}

// ---------------------------------------------------------------------------------------------------------------
// 32-weight blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) against Q8_0 / Q8_1, two blocks per vector. As in the 256-bit
// kernels a block decodes to bytes u with w = d * (u - ofs) + m, and
//     sum_i w_i x_i = d * dx * (sum_i u_i q_i - ofs * sum_i q_i) + m * s
// An odd last block runs with the second half of the activation zeroed, which zeroes its half of every product.

INLINE int q32_weight_bytes(uint32_t type) {
    switch (type) {
    case GGML_TYPE_Q4_0: return sizeof(block_q4_0);
    case GGML_TYPE_Q4_1: return sizeof(block_q4_1);
    case GGML_TYPE_Q5_0: return sizeof(block_q5_0);
    case GGML_TYPE_Q5_1: return sizeof(block_q5_1);
    default: return sizeof(block_q8_0);
    }
}

/* 64 nibbles of two blocks in element order: [lo(qs0) hi(qs0) lo(qs1) hi(qs1)], 16 bytes each. */
INLINE __m512i nibbles64(const uint8_t *qs0, const uint8_t *qs1) {
    __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)qs0));
    v = _mm512_mask_broadcast_i32x4(v, 0xFF00, _mm_loadu_si128((const __m128i *)(const void *)qs1));
    v = _mm512_srlv_epi64(v, _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0));
    return _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
}

/* Adds 16 to the bytes whose bit is set in the blocks' qh words (bit j of block b is element 32 b + j). */
INLINE __m512i add_q5_high(__m512i u, const uint8_t *qh0, const uint8_t *qh1) {
    uint32_t a, b;
    memcpy(&a, qh0, 4);
    memcpy(&b, qh1, 4);
    return _mm512_mask_add_epi8(u, _cvtu64_mask64((uint64_t)a | (uint64_t)b << 32), u, _mm512_set1_epi8(16));
}

/* The fp16 at p as f32 in the 8 lanes of the low half, the fp16 at q in the high half. */
INLINE __m512 halves_fp16(const uint8_t *p, const uint8_t *q) {
    uint16_t a, b;
    memcpy(&a, p, 2);
    memcpy(&b, q, 2);
    return _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi16((short)a)), _mm_set1_epi16((short)b), 1));
}

INLINE __m512i q32_decode(uint32_t type, const uint8_t *b0, const uint8_t *b1) {
    switch (type) {
    case GGML_TYPE_Q4_0: return nibbles64(b0 + 2, b1 + 2);
    case GGML_TYPE_Q4_1: return nibbles64(b0 + 4, b1 + 4);
    case GGML_TYPE_Q5_0: return add_q5_high(nibbles64(b0 + 6, b1 + 6), b0 + 2, b1 + 2);
    case GGML_TYPE_Q5_1: return add_q5_high(nibbles64(b0 + 8, b1 + 8), b0 + 4, b1 + 4);
    default: {
        const __m512i v = join_i(load256(b0 + 2), load256(b1 + 2));
        return QX_VNNI ? _mm512_xor_si512(v, _mm512_set1_epi8(-128)) : _mm512_abs_epi8(v); /* w + 128, or |w| */
    }
    }
}

INLINE int q32_offset(uint32_t type) {
    return type == GGML_TYPE_Q4_0 ? 8 : type == GGML_TYPE_Q5_0 ? 16 : (type == GGML_TYPE_Q8_0 && QX_VNNI) ? 128 : 0;
}

/* ggml's order for these types (vec_dot and tinyBLAS alike): per dot, each block's 8 exact integer lane sums are
 * fused, block after block, into 8 float lanes (d_w * d_x rounded first), which are summed at the end as
 * hsum_float_8; Q4_1/Q5_1 add their m * s terms, rounded, into a float sum of their own. So one vector holds two dots,
 * one per half: a single token pairs rows (2i, 2i + 1), several tokens pair tokens (2j, 2j + 1) of a row. */
INLINE void q32_step(uint32_t type, const int R, const int T, const uint8_t *const *w, const uint8_t *const *wn,
                     const uint8_t *const *x, int64_t b, __m512 acc[8], __m512 mins[8]) {
    const int has_min = type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1;
    const int sign_trick = type == GGML_TYPE_Q8_0 && !QX_VNNI; /* no vpsignb at 512 bits: negate x under a mask */
    const int wb = q32_weight_bytes(type), xb = has_min ? sizeof(block_q8_1) : sizeof(block_q8_0);
    const int ofs = q32_offset(type);
    const __m512i ofs_bytes = _mm512_set1_epi8((char)(ofs == 128 ? -128 : ofs));
    if (b % 2 == 0) UNROLL for (int r = 0; r < R; r++) {
        prefetch_next(wn, r, b * wb);
        if (2 * wb > 64) prefetch_next(wn, r, b * wb + 64);
    }
    if (T == 1) { /* rows 2i and 2i + 1 against the one token */
        const uint8_t *xblk = x[0] + b * xb;
        const __m512i xq = _mm512_broadcast_i64x4(load256(xblk + xb - 32));
        const __m512 dx = _mm512_set1_ps(fp16(xblk)), sx = has_min ? _mm512_set1_ps(fp16(xblk + 2)) : dx;
        /* -ofs * sum q in each lane */
        const __m512i base = ofs ? _mm512_sub_epi32(_mm512_setzero_si512(), dot_u8s8(_mm512_setzero_si512(), ofs_bytes, xq))
                                 : _mm512_setzero_si512();
        UNROLL for (int i = 0; i < R / 2; i++) {
            const uint8_t *b0 = w[2 * i] + b * wb, *b1 = w[2 * i + 1] + b * wb;
            const __m512i u = q32_decode(type, b0, b1);
            const __m512i s = sign_trick ? _mm512_mask_sub_epi8(xq, _mm512_movepi8_mask(join_i(load256(b0 + 2), load256(b1 + 2))),
                                                                _mm512_setzero_si512(), xq)
                                         : xq;
            const __m512 d = _mm512_mul_ps(halves_fp16(b0, b1), dx);
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot_u8s8(base, u, s)), d, acc[i]);
            if (has_min) mins[i] = _mm512_add_ps(mins[i], _mm512_mul_ps(halves_fp16(b0 + 2, b1 + 2), sx));
        }
        return;
    }
    __m512i xq[2], base[2];
    __m512 dx[2], sx[2];
    UNROLL for (int j = 0; j < T / 2; j++) { /* tokens 2j and 2j + 1 */
        const uint8_t *x0 = x[2 * j] + b * xb, *x1 = x[2 * j + 1] + b * xb;
        xq[j] = join_i(load256(x0 + xb - 32), load256(x1 + xb - 32));
        dx[j] = halves_fp16(x0, x1);
        sx[j] = has_min ? halves_fp16(x0 + 2, x1 + 2) : dx[j];
        base[j] = ofs ? _mm512_sub_epi32(_mm512_setzero_si512(), dot_u8s8(_mm512_setzero_si512(), ofs_bytes, xq[j]))
                      : _mm512_setzero_si512();
    }
    UNROLL for (int r = 0; r < R; r++) {
        const uint8_t *blk = w[r] + b * wb;
        const __m512i u = q32_decode(type, blk, blk);
        const __mmask64 neg = sign_trick ? _mm512_movepi8_mask(_mm512_broadcast_i64x4(load256(blk + 2))) : 0;
        const __m512 dw = _mm512_set1_ps(fp16(blk));
        UNROLL for (int j = 0; j < T / 2; j++) {
            const __m512i s = sign_trick ? _mm512_mask_sub_epi8(xq[j], neg, _mm512_setzero_si512(), xq[j]) : xq[j];
            const __m512 q = _mm512_cvtepi32_ps(dot_u8s8(base[j], u, s));
            acc[r * 2 + j] = _mm512_fmadd_ps(q, _mm512_mul_ps(dw, dx[j]), acc[r * 2 + j]);
            if (has_min) mins[r * 2 + j] = _mm512_add_ps(mins[r * 2 + j], _mm512_mul_ps(_mm512_set1_ps(fp16(blk + 2)), sx[j]));
        }
    }
}

INLINE void tile_q32(uint32_t type, const int R, const int T, const uint8_t *const *w, const uint8_t *const *wn,
                     const uint8_t *const *x, int64_t k, float *sums) {
    /* accumulator pairs: T == 1: rows (2i, 2i + 1); else: [r * 2 + j] = row r, tokens (2j, 2j + 1) (T <= 4) */
    const int pairs = T == 1 ? R / 2 : R * T / 2;
    __m512 acc[8], mins[8];
    UNROLL for (int i = 0; i < pairs; i++) acc[i] = mins[i] = _mm512_setzero_ps();
    for (int64_t b = 0; b < k / 32; b++) q32_step(type, R, T, w, wn, x, b, acc, mins);
    UNROLL for (int i = 0; i < pairs; i++) {
        const int lo = T == 1 ? 2 * i : (i / 2) * T + 2 * (i % 2); /* the dot in the low half; the high one is lo + 1 */
        sums[lo] = hsum8(_mm512_castps512_ps256(acc[i])) + _mm512_cvtss_f32(mins[i]);
        sums[lo + 1] = hsum8(hi256(acc[i])) + _mm_cvtss_f32(_mm512_extractf32x4_ps(mins[i], 2));
    }
}

/* One block decoded into both halves of a vector (the several-token layout of q32_step), for the types without a
 * minimum: fewer operations than q32_decode(type, blk, blk), the same bytes. */
INLINE __m512i q32_decode1(uint32_t type, const uint8_t *blk) {
    if (type == GGML_TYPE_Q8_0) {
        const __m512i v = _mm512_broadcast_i64x4(load256(blk + 2));
        return QX_VNNI ? _mm512_xor_si512(v, _mm512_set1_epi8(-128)) : _mm512_abs_epi8(v);
    }
    const uint8_t *qs = blk + (type == GGML_TYPE_Q5_0 ? 6 : 2);
    __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)qs));
    v = _mm512_and_si512(_mm512_srlv_epi64(v, _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0)), _mm512_set1_epi8(0x0F));
    if (type == GGML_TYPE_Q5_0) {
        uint32_t h;
        memcpy(&h, blk + 2, 4);
        const __mmask32 m = _cvtu32_mask32(h);
        v = _mm512_mask_add_epi8(v, _mm512_kunpackd(m, m), v, _mm512_set1_epi8(16));
    }
    return v;
}

/* Several tokens for Q4_0, Q5_0, Q8_0: the dots and their order of q32_step (each dot: per block one fused step of
 * its 8 float lanes; hsum_float_8 at the end), R rows by T tokens (T even, R * T / 2 <= 16 accumulators). Each
 * block's R rows are decoded once and used by all T / 2 token pairs, which is where the time goes at 4 tokens. */
INLINE void tile_q32_wide(uint32_t type, const int R, const int T, const uint8_t *const *w, const uint8_t *const *wn,
                          const uint8_t *const *x, int64_t k, float *sums) {
    const int P = T / 2;
    const int sign_trick = type == GGML_TYPE_Q8_0 && !QX_VNNI;
    const int wb = q32_weight_bytes(type), xb = sizeof(block_q8_0);
    const int ofs = q32_offset(type);
    const __m512i ofs_bytes = _mm512_set1_epi8((char)(ofs == 128 ? -128 : ofs));
    __m512 acc[16];
    UNROLL for (int i = 0; i < R * P; i++) acc[i] = _mm512_setzero_ps();
    for (int64_t b = 0; b < k / 32; b++) {
        if (b % 2 == 0) UNROLL for (int r = 0; r < R; r++) {
            prefetch_next(wn, r, b * wb);
            if (2 * wb > 64) prefetch_next(wn, r, b * wb + 64);
        }
        __m512i u[8];
        __m512 dw[8];
        __mmask64 neg[8];
        UNROLL for (int r = 0; r < R; r++) {
            const uint8_t *blk = w[r] + b * wb;
            u[r] = q32_decode1(type, blk);
            neg[r] = sign_trick ? _mm512_movepi8_mask(_mm512_broadcast_i64x4(load256(blk + 2))) : 0;
            dw[r] = _mm512_set1_ps(fp16(blk));
        }
        UNROLL for (int j = 0; j < P; j++) { /* tokens 2j and 2j + 1 */
            const uint8_t *x0 = x[2 * j] + b * xb, *x1 = x[2 * j + 1] + b * xb;
            const __m512i xq = join_i(load256(x0 + 2), load256(x1 + 2));
            const __m512 dx = halves_fp16(x0, x1);
            const __m512i base = ofs ? _mm512_sub_epi32(_mm512_setzero_si512(), dot_u8s8(_mm512_setzero_si512(), ofs_bytes, xq))
                                     : _mm512_setzero_si512();
            UNROLL for (int r = 0; r < R; r++) {
                const __m512i s = sign_trick ? _mm512_mask_sub_epi8(xq, neg[r], _mm512_setzero_si512(), xq) : xq;
                const __m512 q = _mm512_cvtepi32_ps(dot_u8s8(base, u[r], s));
                acc[r * P + j] = _mm512_fmadd_ps(q, _mm512_mul_ps(dw[r], dx), acc[r * P + j]);
            }
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int j = 0; j < P; j++) {
        const __m512 a = acc[r * P + j];
        sums[r * T + 2 * j] = hsum8(_mm512_castps512_ps256(a));
        sums[r * T + 2 * j + 1] = hsum8(hi256(a));
    }
}

#if QX_VNNI
/* Several tokens for Q4_0, Q5_0, Q8_0 with VNNI, as a panel: the adds of q32_step (per dot, per block one fused
 * step of its 8 float lanes with d_w * d_x rounded first; hsum_float_8 at the end), with the work per block cut
 * to four vector operations per two dots. A vector holds two rows (halves) against one token. The rows of a tile
 * are decoded once per chunk of tokens into `panel` (signed weights w in [-128, 127], the exact correction
 * -128 * (sum of each lane's 4 weights), and the scales d_w of the two rows as halves), the chunk's activation
 * scales once into floats; vpdpbusd then takes the activation as unsigned bytes x + 128 and the weights signed:
 *     corr + sum (x + 128) * w = sum x * w,  per lane, exactly. */
#define Q32P_SEG 32  /* blocks of a panel segment (1024 weights) */
#define Q32P_CHUNK 64 /* tokens per chunk */
#define Q32P_PAIRS 4  /* row pairs of a tile: 8 rows */
#define Q32P_TOKS 4   /* tokens of a register tile */

typedef struct q32_pair_block {
    __m512i w;    /* bytes 0..31: row 2p, 32..63: row 2p + 1; signed weights */
    __m512i corr; /* i32 lanes: -128 * sum of the lane's 4 weights */
    __m512 d;     /* d_w of row 2p in lanes 0..7, of row 2p + 1 in lanes 8..15 */
} q32_pair_block;

/* [lo | hi] */
INLINE __m256i join_lo_hi128(__m128i lo, __m128i hi) {
    return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}

/* Signed weights of one block in the 32 bytes of the half `hi`. */
INLINE __m256i q32_signed(uint32_t type, const uint8_t *blk) {
    if (type == GGML_TYPE_Q8_0) return load256(blk + 2);
    const uint8_t *qs = blk + (type == GGML_TYPE_Q5_0 ? 6 : 2);
    const __m128i q = _mm_loadu_si128((const __m128i *)(const void *)qs);
    __m256i v = _mm256_and_si256(join_lo_hi128(q, _mm_srli_epi64(q, 4)), _mm256_set1_epi8(0x0F));
    if (type == GGML_TYPE_Q5_0) {
        uint32_t h;
        memcpy(&h, blk + 2, 4);
        v = _mm256_mask_add_epi8(v, _cvtu32_mask32(h), v, _mm256_set1_epi8(16));
        return _mm256_sub_epi8(v, _mm256_set1_epi8(16));
    }
    return _mm256_sub_epi8(v, _mm256_set1_epi8(8));
}

KERNEL void q32_pack_panel(uint32_t type, const uint8_t *const *w, int64_t b0, int64_t nb, q32_pair_block *panel) {
    const int wb = q32_weight_bytes(type);
    for (int64_t b = 0; b < nb; b++)
        for (int p = 0; p < Q32P_PAIRS; p++) {
            const uint8_t *r0 = w[2 * p] + (b0 + b) * wb, *r1 = w[2 * p + 1] + (b0 + b) * wb;
            q32_pair_block *o = panel + b * Q32P_PAIRS + p;
            const __m512i ws = join_i(q32_signed(type, r0), q32_signed(type, r1));
            o->w = ws;
            o->corr = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8((char)0x80), ws));
            o->d = halves_fp16(r0, r1);
        }
}

/* acc[p * T + t] += the blocks [0, nb) of the panel against tokens x[t] (block pointers at their first block),
 * whose scales as floats are dx[t * dx_stride + b]. */
INLINE void q32_panel_run(const q32_pair_block *panel, int64_t nb, const uint8_t *const *x, const float *dx,
                          int64_t dx_stride, __m512 acc[Q32P_PAIRS * Q32P_TOKS]) {
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    for (int64_t b = 0; b < nb; b++) {
        const q32_pair_block *pb = panel + b * Q32P_PAIRS;
        UNROLL for (int t = 0; t < Q32P_TOKS; t++) {
            const __m512i xu = _mm512_xor_si512(_mm512_broadcast_i64x4(load256(x[t] + b * (int64_t)sizeof(block_q8_0) + 2)), flip);
            const __m512 dxt = _mm512_set1_ps(dx[t * dx_stride + b]);
            UNROLL for (int p = 0; p < Q32P_PAIRS; p++) {
                const __m512 q = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(pb[p].corr, xu, pb[p].w));
                acc[p * Q32P_TOKS + t] = _mm512_fmadd_ps(q, _mm512_mul_ps(pb[p].d, dxt), acc[p * Q32P_TOKS + t]);
            }
        }
    }
}

INLINE int64_t q32_panel_gemm(uint32_t type, const uint8_t *w, uint64_t w_row_bytes, int64_t n_rows, int64_t k,
                          const uint8_t *x, uint64_t x_row_bytes, int64_t n_tok, float *out, int64_t out_stride) {
    const int64_t nb = k / 32;
    if (nb * Q32P_TOKS > 4096) return -1; /* k > 32768: the tiles serve it */
    /* the chunk's activation scales as floats: at most 4096 (16 KiB) */
    int64_t chunk = Q32P_CHUNK;
    while (chunk > Q32P_TOKS && chunk * nb > 4096) chunk /= 2;
    float dx[4096];
    q32_pair_block panel[Q32P_SEG * Q32P_PAIRS];
    __m512 spill[Q32P_CHUNK / Q32P_TOKS][Q32P_PAIRS * Q32P_TOKS];
    for (int64_t t0 = 0; t0 < n_tok; t0 += chunk) {
        const int64_t t_end = t0 + chunk < n_tok ? t0 + chunk : n_tok, n_ct = t_end - t0;
        for (int64_t t = 0; t < n_ct; t++) {
            const uint8_t *xr = x + (uint64_t)(t0 + t) * x_row_bytes;
            for (int64_t b = 0; b < nb; b++) dx[t * nb + b] = fp16(xr + b * (int64_t)sizeof(block_q8_0));
        }
        for (int64_t r0 = 0; r0 < n_rows; r0 += 2 * Q32P_PAIRS) {
            const uint8_t *wr[2 * Q32P_PAIRS];
            for (int i = 0; i < 2 * Q32P_PAIRS; i++)
                wr[i] = w + (uint64_t)(r0 + i < n_rows ? r0 + i : n_rows - 1) * w_row_bytes;
            for (int64_t s0 = 0; s0 < nb; s0 += Q32P_SEG) {
                const int64_t ns = nb - s0 < Q32P_SEG ? nb - s0 : Q32P_SEG;
                q32_pack_panel(type, wr, s0, ns, panel);
                for (int64_t tt = 0; tt < n_ct; tt += Q32P_TOKS) {
                    const uint8_t *xr[Q32P_TOKS];
                    const float *dxr = dx + tt * nb + s0;
                    int64_t tok[Q32P_TOKS];
                    for (int j = 0; j < Q32P_TOKS; j++) {
                        tok[j] = tt + j < n_ct ? tt + j : n_ct - 1;
                        xr[j] = x + (uint64_t)(t0 + tok[j]) * x_row_bytes + (uint64_t)s0 * sizeof(block_q8_0);
                    }
                    __m512 acc[Q32P_PAIRS * Q32P_TOKS];
                    if (s0 == 0) {
                        UNROLL for (int i = 0; i < Q32P_PAIRS * Q32P_TOKS; i++) acc[i] = _mm512_setzero_ps();
                    } else {
                        UNROLL for (int i = 0; i < Q32P_PAIRS * Q32P_TOKS; i++) acc[i] = spill[tt / Q32P_TOKS][i];
                    }
                    /* tokens past the chunk's end repeat its last; dx rows follow tok[] */
                    if (tt + Q32P_TOKS <= n_ct) {
                        q32_panel_run(panel, ns, xr, dxr, nb, acc);
                    } else {
                        /* a partial token tile: gather its dx rows so that row j is token tok[j] */
                        float dxp[Q32P_TOKS * Q32P_SEG];
                        for (int j = 0; j < Q32P_TOKS; j++)
                            for (int64_t b = 0; b < ns; b++) dxp[j * Q32P_SEG + b] = dx[tok[j] * nb + s0 + b];
                        q32_panel_run(panel, ns, xr, dxp, Q32P_SEG, acc);
                    }
                    if (s0 + Q32P_SEG < nb) {
                        UNROLL for (int i = 0; i < Q32P_PAIRS * Q32P_TOKS; i++) spill[tt / Q32P_TOKS][i] = acc[i];
                        continue;
                    }
                    for (int p = 0; p < Q32P_PAIRS; p++)
                        for (int j = 0; j < Q32P_TOKS && tt + j < n_ct; j++) {
                            const __m512 a = acc[p * Q32P_TOKS + j];
                            float *o = out + (t0 + tt + j) * out_stride + r0 + 2 * p;
                            if (r0 + 2 * p < n_rows) o[0] = hsum8(_mm512_castps512_ps256(a));
                            if (r0 + 2 * p + 1 < n_rows) o[1] = hsum8(hi256(a));
                        }
                }
            }
        }
    }
    return n_tok;
}
#endif

// ---------------------------------------------------------------------------------------------------------------
// K-quants against Q8_K, 64 weights per vector. vpmaddubsw gives i16 pairs, vpmaddwd (or vpdpwssd) applies the
// sub-block scale while widening, so a super-block sums exactly in i32 and costs one float FMA per token; the
// minimums (Q4_K, Q5_K) or the -32 offset (Q6_K) come from the activation's bsums.

/* i16 lane i of the result = lane idx(i) of v, where idx(i) = first + i / per: spreads one scale over its lanes. */
INLINE __m512i spread_i16(__m512i v, int first, int per) {
    short idx[32];
    for (int i = 0; i < 32; i++) idx[i] = (short)(first + i / per);
    return _mm512_permutexvar_epi16(_mm512_loadu_si512((const void *)idx), v);
}

/* The 8 scales and 8 mins of a Q4_K/Q5_K block as bytes [sc0..7, m0..7], from its 12 packed bytes: the
 * get_scale_min_k4 unpacking done on the three 32-bit words a, b, c at once. Reads 16 bytes (the block goes on). */
INLINE __m128i unpack_scales_k4(const uint8_t *q) {
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);                      /* a b c . */
    const __m128i lo = _mm_and_si128(v, _mm_set1_epi8(0x3F));                                  /* sc0-3 m0-3 */
    const __m128i c = _mm_srlv_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(2, 2, 2, 2)), _mm_set_epi32(0, 0, 4, 0));
    const __m128i top = _mm_and_si128(_mm_srli_epi32(v, 2), _mm_set1_epi8(0x30));               /* bits 4-5 */
    const __m128i hi = _mm_or_si128(_mm_and_si128(c, _mm_set1_epi8(0x0F)), top);               /* sc4-7 m4-7 */
    return _mm_unpacklo_epi32(lo, hi);
}

/* Chunk c of a Q4_K/Q5_K super-block: bytes 0..31 are sub-block 2c (low nibbles of qs[32c..]), 32..63 are 2c+1. */
INLINE __m512i q4_K_chunk(const uint8_t *qs, int c) {
    const __m512i q = _mm512_broadcast_i64x4(load256(qs + 32 * c));
    return _mm512_and_si512(_mm512_mask_srli_epi16(q, 0xFFFF0000u, q, 4), _mm512_set1_epi8(0x0F));
}

INLINE void tile_q45_K(uint32_t type, const int R, const int T, const uint8_t *const *w, const uint8_t *const *wn,
                       const uint8_t *const *x, int64_t k, float *sums) {
    const int five = type == GGML_TYPE_Q5_K;
    const int wb = five ? sizeof(block_q5_K) : sizeof(block_q4_K);
    __m512 acc[8][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_ps();
    for (int64_t i = 0; i < k / QK_K; i++) {
        float dx[4];
        __m128i bsum8[4]; /* per token: the activation sums of the 8 sub-blocks */
        UNROLL for (int t = 0; t < T; t++) {
            const block_q8_K *y = (const block_q8_K *)(const void *)(x[t]) + i;
            dx[t] = y->d;
            bsum8[t] = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)(const void *)y->bsums),
                                      _mm_loadu_si128((const __m128i *)(const void *)(y->bsums + 8)));
        }
        UNROLL for (int r = 0; r < R; r++) {
            const uint8_t *blk = w[r] + i * wb;
            const uint8_t *qs = blk + (five ? 48 : 16);
            for (int o = 0; o < wb; o += 64) prefetch_next(wn, r, i * wb + o);
            const __m128i sm8 = unpack_scales_k4(blk + 4);
            const __m512i sm16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(sm8)); /* sc 0..7, m 0..7 */
            const __m128i mins = _mm_cvtepu8_epi16(_mm_srli_si128(sm8, 8));
            const __m512i qh = five ? _mm512_broadcast_i64x4(load256(blk + 16)) : _mm512_setzero_si512();
            __m512i isum[4];
            UNROLL for (int t = 0; t < T; t++) isum[t] = _mm512_setzero_si512();
            UNROLL for (int c = 0; c < 4; c++) {
                __m512i u = q4_K_chunk(qs, c);
                if (five) { /* bit 2c of qh[l] for the low half, bit 2c + 1 for the high half */
                    const __m512i bits = join_i(_mm256_set1_epi8((char)(1 << (2 * c))),
                                                _mm256_set1_epi8((char)(2 << (2 * c))));
                    u = _mm512_mask_add_epi8(u, _mm512_test_epi8_mask(qh, bits), u, _mm512_set1_epi8(16));
                }
                const __m512i sc = spread_i16(sm16, 2 * c, 16);
                UNROLL for (int t = 0; t < T; t++) {
                    const __m512i xq = load512(x[t] + i * sizeof(block_q8_K) + 4 + 64 * c);
                    isum[t] = madd_acc(isum[t], _mm512_maddubs_epi16(u, xq), sc);
                }
            }
            const float d = fp16(blk), dmin = fp16(blk + 2);
            UNROLL for (int t = 0; t < T; t++) {
                const __m512i imin = _mm512_zextsi128_si512(_mm_madd_epi16(bsum8[t], mins));
                acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_set1_ps(d * dx[t]), acc[r][t]);
                acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(imin), _mm512_set1_ps(-dmin * dx[t]), acc[r][t]);
            }
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int t = 0; t < T; t++)
        sums[r * T + t] = _mm512_reduce_add_ps(acc[r][t]);
}

/* Lane r * T + t of the result = the sum of the 16 lanes of v[r * T + t] (n = R * T vectors, at most 16): a
 * transposing tree, three operations per vector instead of a full reduction each. Integer sums, so exact. */
INLINE __m512i sum_lanes16(__m512i v[16], const int n) {
    __m512i w[8], x[4], y[2];
    UNROLL for (int i = 0; i < 8; i++) {
        const __m512i a = 2 * i < n ? v[2 * i] : _mm512_setzero_si512(), b = 2 * i + 1 < n ? v[2 * i + 1] : _mm512_setzero_si512();
        w[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
    }
    UNROLL for (int j = 0; j < 4; j++)
        x[j] = _mm512_add_epi32(_mm512_unpacklo_epi64(w[2 * j], w[2 * j + 1]), _mm512_unpackhi_epi64(w[2 * j], w[2 * j + 1]));
    UNROLL for (int j = 0; j < 2; j++)
        y[j] = _mm512_add_epi32(_mm512_shuffle_i32x4(x[2 * j], x[2 * j + 1], 0x88), _mm512_shuffle_i32x4(x[2 * j], x[2 * j + 1], 0xDD));
    return _mm512_add_epi32(_mm512_shuffle_i32x4(y[0], y[1], 0x88), _mm512_shuffle_i32x4(y[0], y[1], 0xDD));
}

/* Q4_K in the order of ggml's repacked kernels (ggml_gemv/gemm_q4_K_8x8_q8_K), which llama.cpp runs for Q4_K
 * weights on AVX2 CPUs. Per dot, the scaled integer sums and the minimum terms each go into a float sum of their
 * own, subtracted at the end; a single token (gemv) adds once per 256-weight block, a group of 4 tokens (gemm)
 * once per 64 weights. Lane r * T + t of acc and acc_min holds the dot of row r and token t. */
INLINE void tile_q4_K(uint32_t type, const int R, const int T, const uint8_t *const *w, const uint8_t *const *wn,
                      const uint8_t *const *x, int64_t k, float *sums) {
    (void)type;
    const int n = R * T, per64 = T > 1;
    __m512 acc = _mm512_setzero_ps(), acc_min = _mm512_setzero_ps();
    /* lane r * T + t of the token-side vectors reads token t; of the row-side ones, row r */
    int tok_idx[16], row_idx[16];
    for (int l = 0; l < 16; l++) tok_idx[l] = l < n ? l % T : 0, row_idx[l] = l < n ? l / T : 0;
    const __m512i tok = _mm512_loadu_si512((const void *)tok_idx), row = _mm512_loadu_si512((const void *)row_idx);
    for (int64_t i = 0; i < k / QK_K; i++) {
        float dx[4] = {0}, d[16] = {0}, dmin[16] = {0};
        __m128i bsum8[4], mins[8];
        UNROLL for (int t = 0; t < T; t++) {
            const block_q8_K *y = (const block_q8_K *)(const void *)(x[t]) + i;
            dx[t] = y->d;
            bsum8[t] = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)(const void *)y->bsums),
                                      _mm_loadu_si128((const __m128i *)(const void *)(y->bsums + 8)));
        }
        __m512i sm16[8];
        UNROLL for (int r = 0; r < R; r++) {
            const uint8_t *blk = w[r] + i * sizeof(block_q4_K);
            for (int o = 0; o < (int)sizeof(block_q4_K); o += 64) prefetch_next(wn, r, i * (int64_t)sizeof(block_q4_K) + o);
            const __m128i sm8 = unpack_scales_k4(blk + 4);
            sm16[r] = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(sm8)); /* sc 0..7, m 0..7 */
            mins[r] = _mm_cvtepu8_epi16(_mm_srli_si128(sm8, 8));
            d[r] = fp16(blk);
            dmin[r] = fp16(blk + 2);
        }
        /* d_row * d_token and dmin_row * d_token per lane, rounded as ggml's vmulps rounds them */
        const __m512 dxv = _mm512_permutexvar_ps(tok, _mm512_castps128_ps512(_mm_loadu_ps(dx)));
        const __m512 scale = _mm512_mul_ps(_mm512_permutexvar_ps(row, _mm512_loadu_ps(d)), dxv);
        const __m512 scale_min = _mm512_mul_ps(_mm512_permutexvar_ps(row, _mm512_loadu_ps(dmin)), dxv);
        if (!per64) { /* gemv: one step per block, with the block's exact integer sums */
            __m512i isum[16];
            int imin[16];
            UNROLL for (int r = 0; r < R; r++) {
                isum[r] = _mm512_setzero_si512();
                const __m128i m4 = _mm_madd_epi16(bsum8[0], mins[r]), m2 = _mm_add_epi32(m4, _mm_unpackhi_epi64(m4, m4));
                imin[r] = _mm_cvtsi128_si32(_mm_add_epi32(m2, _mm_srli_epi64(m2, 32)));
            }
            UNROLL for (int c = 0; c < 4; c++) {
                const __m512i xq = load512(x[0] + i * sizeof(block_q8_K) + 4 + 64 * c);
                UNROLL for (int r = 0; r < R; r++) {
                    const __m512i u = q4_K_chunk(w[r] + i * sizeof(block_q4_K) + 16, c);
                    isum[r] = madd_acc(isum[r], _mm512_maddubs_epi16(u, xq), spread_i16(sm16[r], 2 * c, 16));
                }
            }
            int imin16[16] = {0};
            UNROLL for (int r = 0; r < R; r++) imin16[r] = imin[r];
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum_lanes16(isum, n)), scale, acc);
            acc_min = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512((const void *)imin16)), scale_min, acc_min);
            continue;
        }
        /* gemm: one step per 64 weights (two sub-blocks). The minimum terms of chunk c are the i32 pair c of
         * (mins of row r) x (sub-block sums of token t): gathered per lane, then one vpmaddwd. */
        __m128i mm4[4] = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()};
        __m128i bb4[4] = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()};
        UNROLL for (int r = 0; r < R && r < 4; r++) mm4[r] = mins[r];
        UNROLL for (int t = 0; t < T; t++) bb4[t] = bsum8[t];
        const __m512i mm = _mm512_loadu_si512((const void *)mm4), bb = _mm512_loadu_si512((const void *)bb4);
        UNROLL for (int c = 0; c < 4; c++) {
            __m512i isum[16];
            __m512i xq[4];
            UNROLL for (int t = 0; t < T; t++) xq[t] = load512(x[t] + i * sizeof(block_q8_K) + 4 + 64 * c);
            UNROLL for (int r = 0; r < R; r++) {
                const __m512i u = q4_K_chunk(w[r] + i * sizeof(block_q4_K) + 16, c);
                const __m512i sc = spread_i16(sm16[r], 2 * c, 16);
                UNROLL for (int t = 0; t < T; t++) isum[r * T + t] = madd_acc(_mm512_setzero_si512(), _mm512_maddubs_epi16(u, xq[t]), sc);
            }
            const __m512i m_c = _mm512_permutexvar_epi32(_mm512_add_epi32(_mm512_slli_epi32(row, 2), _mm512_set1_epi32(c)), mm);
            const __m512i b_c = _mm512_permutexvar_epi32(_mm512_add_epi32(_mm512_slli_epi32(tok, 2), _mm512_set1_epi32(c)), bb);
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum_lanes16(isum, n)), scale, acc);
            acc_min = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_madd_epi16(m_c, b_c)), scale_min, acc_min);
        }
    }
    float out[16];
    _mm512_storeu_ps(out, _mm512_sub_ps(acc, acc_min));
    for (int l = 0; l < n; l++) sums[l] = out[l];
}

#if QX_VNNI
/* Q4_K for groups of 4 tokens, as a panel: the order of tile_q4_K's gemm (per dot, per 64 weights: the exact
 * integer sum, fused into a float sum with d_w * d_x rounded first, the minimum terms into a second float sum,
 * subtracted at the end), with one dot per lane: 16 rows in the 16 lanes of every vector. The rows' weights are
 * decoded once per chunk of tokens and transposed (vector g of chunk c: lane r = row r's weights 4g..4g+3 of the
 * chunk), so one vpdpbusd against the token's 4 bytes broadcast adds 4 weights of 16 dots, and no sum needs a
 * horizontal reduction. The integer sums are exact whatever their order, so the bits are tile_q4_K's. */
#define Q4KP_ROWS 16
#define Q4KP_SEG 8    /* super-blocks per panel segment */
#define Q4KP_CHUNK 64 /* tokens per chunk */
#define Q4KP_TOKS 4   /* tokens of a group (ggml's gemm groups) */

typedef struct q4k_panel_block {
    __m512i u[4][16]; /* [chunk][group]: lane r = row r's weights 4g..4g+3 of the chunk, bytes in [0, 15] */
    __m512i sc[8];    /* [sub-block]: lane r = row r's 6-bit scale */
    __m512i mins[4];  /* [chunk c]: lane r = row r's (m_2c, m_2c+1) as an i16 pair */
    __m512 d, dmin;   /* lane r = row r's d and dmin */
} q4k_panel_block;

/* r[g] lane l = dword g of in[l], for 16 vectors of 16 dwords. */
INLINE void transpose16x16(__m512i r[16]) {
    __m512i t[16], s[16];
    UNROLL for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    UNROLL for (int i = 0; i < 4; i++) {
        s[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
        s[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
        s[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
        s[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    /* s[4i + j], 128-bit lane L: dword 4L + j of rows 4i..4i+3 */
    UNROLL for (int j = 0; j < 4; j++) {
        const __m512i x0 = _mm512_shuffle_i32x4(s[j], s[4 + j], 0x44), x1 = _mm512_shuffle_i32x4(s[j], s[4 + j], 0xEE);
        const __m512i x2 = _mm512_shuffle_i32x4(s[8 + j], s[12 + j], 0x44), x3 = _mm512_shuffle_i32x4(s[8 + j], s[12 + j], 0xEE);
        r[0 + j] = _mm512_shuffle_i32x4(x0, x2, 0x88);
        r[4 + j] = _mm512_shuffle_i32x4(x0, x2, 0xDD);
        r[8 + j] = _mm512_shuffle_i32x4(x1, x3, 0x88);
        r[12 + j] = _mm512_shuffle_i32x4(x1, x3, 0xDD);
    }
}

KERNEL void q4k_pack_panel(const uint8_t *const *w, int64_t i0, int64_t n, q4k_panel_block *panel) {
    for (int64_t i = 0; i < n; i++) {
        q4k_panel_block *o = panel + i;
        int32_t sc[8][16], mn[4][16];
        float d[16], dmin[16];
        for (int r = 0; r < Q4KP_ROWS; r++) {
            const uint8_t *blk = w[r] + (i0 + i) * (int64_t)sizeof(block_q4_K);
            uint8_t sm[16];
            _mm_storeu_si128((__m128i *)(void *)sm, unpack_scales_k4(blk + 4));
            for (int s = 0; s < 8; s++) sc[s][r] = sm[s];
            for (int c = 0; c < 4; c++) mn[c][r] = (int32_t)((uint32_t)sm[8 + 2 * c] | (uint32_t)sm[9 + 2 * c] << 16);
            d[r] = fp16(blk);
            dmin[r] = fp16(blk + 2);
        }
        for (int s = 0; s < 8; s++) o->sc[s] = _mm512_loadu_si512((const void *)sc[s]);
        for (int c = 0; c < 4; c++) o->mins[c] = _mm512_loadu_si512((const void *)mn[c]);
        o->d = _mm512_loadu_ps(d);
        o->dmin = _mm512_loadu_ps(dmin);
        for (int c = 0; c < 4; c++) {
            __m512i v[16];
            UNROLL for (int r = 0; r < Q4KP_ROWS; r++) v[r] = q4_K_chunk(w[r] + (i0 + i) * (int64_t)sizeof(block_q4_K) + 16, c);
            transpose16x16(v);
            UNROLL for (int g = 0; g < 16; g++) o->u[c][g] = v[g];
        }
    }
}

INLINE int32_t load_i32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* acc[t], acc_min[t] (lane r: row r, token t) += super-blocks [0, n) of the panel against x[t] (at the first). */
INLINE void q4k_panel_run(const q4k_panel_block *panel, int64_t n, const uint8_t *const *x, __m512 acc[Q4KP_TOKS],
                          __m512 acc_min[Q4KP_TOKS]) {
    for (int64_t i = 0; i < n; i++) {
        const q4k_panel_block *pb = panel + i;
        __m512 scale[Q4KP_TOKS], scale_min[Q4KP_TOKS];
        int32_t bpair[Q4KP_TOKS][4];
        const uint8_t *xq[Q4KP_TOKS];
        UNROLL for (int t = 0; t < Q4KP_TOKS; t++) {
            const block_q8_K *y = (const block_q8_K *)(const void *)(x[t]) + i;
            const __m512 dx = _mm512_set1_ps(y->d);
            scale[t] = _mm512_mul_ps(pb->d, dx);
            scale_min[t] = _mm512_mul_ps(pb->dmin, dx);
            const __m128i b8 = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)(const void *)y->bsums),
                                              _mm_loadu_si128((const __m128i *)(const void *)(y->bsums + 8)));
            _mm_storeu_si128((__m128i *)(void *)bpair[t], b8);
            xq[t] = (const uint8_t *)(const void *)y + 4;
        }
        UNROLL for (int c = 0; c < 4; c++) {
            __m512i s0[Q4KP_TOKS], s1[Q4KP_TOKS];
            UNROLL for (int t = 0; t < Q4KP_TOKS; t++) s0[t] = s1[t] = _mm512_setzero_si512();
            UNROLL for (int g = 0; g < 8; g++) {
                const __m512i u = pb->u[c][g];
                UNROLL for (int t = 0; t < Q4KP_TOKS; t++) s0[t] = _mm512_dpbusd_epi32(s0[t], u, _mm512_set1_epi32(load_i32(xq[t] + 64 * c + 4 * g)));
            }
            UNROLL for (int g = 8; g < 16; g++) {
                const __m512i u = pb->u[c][g];
                UNROLL for (int t = 0; t < Q4KP_TOKS; t++) s1[t] = _mm512_dpbusd_epi32(s1[t], u, _mm512_set1_epi32(load_i32(xq[t] + 64 * c + 4 * g)));
            }
            UNROLL for (int t = 0; t < Q4KP_TOKS; t++) {
                const __m512i isum = _mm512_add_epi32(_mm512_mullo_epi32(s0[t], pb->sc[2 * c]), _mm512_mullo_epi32(s1[t], pb->sc[2 * c + 1]));
                acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), scale[t], acc[t]);
                const __m512i imin = _mm512_madd_epi16(pb->mins[c], _mm512_set1_epi32(bpair[t][c]));
                acc_min[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(imin), scale_min[t], acc_min[t]);
            }
        }
    }
}

/* Serves the whole groups of 4 tokens; returns how many tokens it did (the rest go one by one, as ggml's gemv). */
INLINE int64_t q4k_panel_gemm(const uint8_t *w, uint64_t w_row_bytes, int64_t n_rows, int64_t k, const uint8_t *x,
                              uint64_t x_row_bytes, int64_t n_tok, float *out, int64_t out_stride) {
    const int64_t nb = k / QK_K, whole = n_tok - n_tok % Q4KP_TOKS;
    q4k_panel_block panel[Q4KP_SEG];
    __m512 spill[Q4KP_CHUNK / Q4KP_TOKS][2 * Q4KP_TOKS];
    for (int64_t t0 = 0; t0 < whole; t0 += Q4KP_CHUNK) {
        const int64_t n_ct = whole - t0 < Q4KP_CHUNK ? whole - t0 : Q4KP_CHUNK;
        for (int64_t r0 = 0; r0 < n_rows; r0 += Q4KP_ROWS) {
            const uint8_t *wr[Q4KP_ROWS];
            for (int i = 0; i < Q4KP_ROWS; i++) wr[i] = w + (uint64_t)(r0 + i < n_rows ? r0 + i : n_rows - 1) * w_row_bytes;
            for (int64_t s0 = 0; s0 < nb; s0 += Q4KP_SEG) {
                const int64_t ns = nb - s0 < Q4KP_SEG ? nb - s0 : Q4KP_SEG;
                q4k_pack_panel(wr, s0, ns, panel);
                for (int64_t tt = 0; tt < n_ct; tt += Q4KP_TOKS) {
                    const uint8_t *xr[Q4KP_TOKS];
                    for (int j = 0; j < Q4KP_TOKS; j++) xr[j] = x + (uint64_t)(t0 + tt + j) * x_row_bytes + (uint64_t)s0 * sizeof(block_q8_K);
                    __m512 acc[Q4KP_TOKS], acc_min[Q4KP_TOKS];
                    UNROLL for (int j = 0; j < Q4KP_TOKS; j++) {
                        acc[j] = s0 == 0 ? _mm512_setzero_ps() : spill[tt / Q4KP_TOKS][j];
                        acc_min[j] = s0 == 0 ? _mm512_setzero_ps() : spill[tt / Q4KP_TOKS][Q4KP_TOKS + j];
                    }
                    q4k_panel_run(panel, ns, xr, acc, acc_min);
                    if (s0 + Q4KP_SEG < nb) {
                        UNROLL for (int j = 0; j < Q4KP_TOKS; j++) {
                            spill[tt / Q4KP_TOKS][j] = acc[j];
                            spill[tt / Q4KP_TOKS][Q4KP_TOKS + j] = acc_min[j];
                        }
                        continue;
                    }
                    for (int j = 0; j < Q4KP_TOKS; j++) {
                        float o[16];
                        _mm512_storeu_ps(o, _mm512_sub_ps(acc[j], acc_min[j]));
                        float *dst = out + (t0 + tt + j) * out_stride + r0;
                        for (int r = 0; r < Q4KP_ROWS && r0 + r < n_rows; r++) dst[r] = o[r];
                    }
                }
            }
        }
    }
    return whole;
}
#endif

/* Chunk c of a Q6_K super-block as u = q + 32 in [0, 63]. Half h = c / 2 has ql[64h..64h+63] and qh[32h..+31];
 * chunk 2h is the low nibbles with qh bits 0-1 (first 32) and 2-3 (next 32), chunk 2h+1 the high nibbles with
 * bits 4-5 and 6-7. Shifting 16-bit lanes moves each pair of bits to bits 4-5; the bytes a shift drags across are
 * masked off. */
INLINE __m512i q6_K_chunk(const block_q6_K *blk, int c) {
    const __m512i ql = load512(blk->ql + 64 * (c / 2));
    const __m512i qh = _mm512_broadcast_i64x4(load256(blk->qh + 32 * (c / 2)));
    const __m512i lo = c % 2 ? _mm512_srli_epi16(ql, 4) : ql;
    const __m512i hi = c % 2 ? _mm512_srlv_epi16(qh, join_i(_mm256_set1_epi16(0), _mm256_set1_epi16(2)))
                             : _mm512_sllv_epi16(qh, join_i(_mm256_set1_epi16(4), _mm256_set1_epi16(2)));
    const __m512i merged = _mm512_ternarylogic_epi32(lo, hi, _mm512_set1_epi8(0x0F), 0xE4); /* mask ? lo : hi */
    return _mm512_and_si512(merged, _mm512_set1_epi8(0x3F));
}

INLINE void tile_q6_K(uint32_t type, const int R, const int T, const uint8_t *const *w, const uint8_t *const *wn,
                      const uint8_t *const *x, int64_t k, float *sums) {
    (void)type; /* Q6_K only; the parameter keeps every tile's signature alike */
    /* One token: ggml_vec_dot_q6_K_q8_K's order (8 float lanes, one fused step per block). Several: the order of
     * ggml's tiled K-quant matmul, which llama.cpp runs from 8 tokens on (the driver keeps smaller batches on the
     * single-token tile): one float sum per dot, one step per block, lane r * T + t of acc_tiled. */
    const int tiled = T > 1;
    __m256 acc[8][4];
    __m512 acc_tiled = _mm512_setzero_ps();
    __m512i block_sum[16];
    float dw[16] = {0};
    int tok_idx[16], row_idx[16];
    for (int l = 0; l < 16; l++) tok_idx[l] = l < R * T ? l % T : 0, row_idx[l] = l < R * T ? l / T : 0;
    const __m512i tok = _mm512_loadu_si512((const void *)tok_idx), row = _mm512_loadu_si512((const void *)row_idx);
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / QK_K; i++) {
        UNROLL for (int r = 0; r < R; r++) {
            const block_q6_K *blk = (const block_q6_K *)(const void *)w[r] + i;
            for (int o = 0; o < (int)sizeof(block_q6_K); o += 64)
                prefetch_next(wn, r, i * (int64_t)sizeof(block_q6_K) + o);
            const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)blk->scales));
            __m512i isum[4];
            UNROLL for (int t = 0; t < T; t++) isum[t] = _mm512_setzero_si512();
            UNROLL for (int c = 0; c < 4; c++) {
                const __m512i u = q6_K_chunk(blk, c);
                const __m512i sc = spread_i16(_mm512_castsi256_si512(sc16), 4 * c, 8); /* groups 4c..4c+3 */
                UNROLL for (int t = 0; t < T; t++) {
                    const __m512i xq = load512(x[t] + i * sizeof(block_q8_K) + 4 + 64 * c);
                    isum[t] = madd_acc(isum[t], _mm512_maddubs_epi16(u, xq), sc);
                }
            }
            const float d = fp16((const uint8_t *)&blk->d);
            dw[r] = d;
            UNROLL for (int t = 0; t < T; t++) {
                const block_q8_K *y = (const block_q8_K *)(const void *)(x[t]) + i;
                const __m256i bs = _mm256_loadu_si256((const __m256i *)(const void *)y->bsums);
                const __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(bs, sc16), 5); /* 32 * sum sc_g * bsum_g */
                if (tiled) { /* the whole block's integer sum, reduced below with the tile's others */
                    block_sum[r * T + t] = _mm512_sub_epi32(isum[t], _mm512_zextsi256_si512(off));
                    continue;
                }
                /* ggml's 8 lanes: lane j holds elements 4j..4j+3 of every 32, i.e. our lanes j and j + 8 */
                const __m256i lanes = _mm256_add_epi32(_mm512_castsi512_si256(isum[t]), _mm512_extracti64x4_epi64(isum[t], 1));
                const __m256 q = _mm256_cvtepi32_ps(_mm256_sub_epi32(lanes, off));
                acc[r][t] = _mm256_fmadd_ps(_mm256_set1_ps(y->d * d), q, acc[r][t]);
            }
        }
        if (tiled) { /* ggml's tiled K-quant matmul: (block sum * d_row) rounded, then fused with d_token */
            float dx[4] = {0};
            UNROLL for (int t = 0; t < T; t++) dx[t] = ((const block_q8_K *)(const void *)(x[t]) + i)->d;
            const __m512 scaled = _mm512_mul_ps(_mm512_cvtepi32_ps(sum_lanes16(block_sum, R * T)), _mm512_permutexvar_ps(row, _mm512_loadu_ps(dw)));
            acc_tiled = _mm512_fmadd_ps(scaled, _mm512_permutexvar_ps(tok, _mm512_castps128_ps512(_mm_loadu_ps(dx))), acc_tiled);
        }
    }
    if (tiled) {
        float out[16];
        _mm512_storeu_ps(out, acc_tiled);
        for (int l = 0; l < R * T; l++) sums[l] = out[l];
        return;
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int t = 0; t < T; t++)
        sums[r * T + t] = hsum8(acc[r][t]);
}

// ---------------------------------------------------------------------------------------------------------------
// Instantiations. TILES(name, tile, type, VR, MR, MT) defines name_vec, a VR-row matvec tile, and name_mat, an
// MR x MT matmul tile, and ENTRY(name) publishes them with the same shape constants, so the two cannot disagree.

#define TILES(name, tile, type, VR, MR, MT)                                                                      \
    KERNEL void name##_vec(const uint8_t *const *w, const uint8_t *const *wn, const uint8_t *const *x,         \
                           int64_t k, float *s) {                                                              \
        tile(type, VR, 1, w, wn, x, k, s);                                                                     \
    }                                                                                                          \
    KERNEL void name##_mat(const uint8_t *const *w, const uint8_t *const *wn, const uint8_t *const *x,         \
                           int64_t k, float *s) {                                                              \
        tile(type, MR, MT, w, wn, x, k, s);                                                                    \
    }                                                                                                          \
    enum { name##_vr = VR, name##_mr = MR, name##_mt = MT };
#define ENTRY_FIELDS(name)                                                                                       \
    .vec = name##_vec, .vec_rows = name##_vr, .mat = name##_mat, .mat_rows = name##_mr, .mat_toks = name##_mt
#define ENTRY(name) {ENTRY_FIELDS(name)}

TILES(f32, tile_float, GGML_TYPE_F32, 4, 4, 4)
TILES(f16, tile_float, GGML_TYPE_F16, 4, 4, 4)
TILES(bf16, tile_float, GGML_TYPE_BF16, 4, 4, 4)
/* The T == 1 tile of tile_q32 for a single token, tile_q32_wide for several. */
#define TILES_Q32(name, type, VR, MR, MT)                                                                        \
    KERNEL void name##_vec(const uint8_t *const *w, const uint8_t *const *wn, const uint8_t *const *x,         \
                           int64_t k, float *s) {                                                              \
        tile_q32(type, VR, 1, w, wn, x, k, s);                                                                 \
    }                                                                                                          \
    KERNEL void name##_mat(const uint8_t *const *w, const uint8_t *const *wn, const uint8_t *const *x,         \
                           int64_t k, float *s) {                                                              \
        tile_q32_wide(type, MR, MT, w, wn, x, k, s);                                                           \
    }                                                                                                          \
    enum { name##_vr = VR, name##_mr = MR, name##_mt = MT };

TILES_Q32(q4_0, GGML_TYPE_Q4_0, 8, 4, 8)
#if QX_VNNI
#define PANEL_Q32(name, type)                                                                                    \
    KERNEL int64_t name##_gemm(const uint8_t *w, uint64_t w_row_bytes, int64_t n_rows, int64_t k,                \
                               const uint8_t *x, uint64_t x_row_bytes, int64_t n_tok, float *out, int64_t out_stride) { \
        return q32_panel_gemm(type, w, w_row_bytes, n_rows, k, x, x_row_bytes, n_tok, out, out_stride);        \
    }
PANEL_Q32(q4_0, GGML_TYPE_Q4_0)
PANEL_Q32(q5_0, GGML_TYPE_Q5_0)
PANEL_Q32(q8_0, GGML_TYPE_Q8_0)
#define PANEL_ENTRY(name) .gemm = name##_gemm, .gemm_min_toks = 8
KERNEL int64_t q4_K_gemm(const uint8_t *w, uint64_t w_row_bytes, int64_t n_rows, int64_t k, const uint8_t *x,
                         uint64_t x_row_bytes, int64_t n_tok, float *out, int64_t out_stride) {
    return q4k_panel_gemm(w, w_row_bytes, n_rows, k, x, x_row_bytes, n_tok, out, out_stride);
}
#define Q4_K_PANEL .gemm = q4_K_gemm, .gemm_min_toks = 4
#else
#define Q4_K_PANEL .gemm = NULL
#define PANEL_ENTRY(name) .gemm = NULL
#endif
TILES(q4_1, tile_q32, GGML_TYPE_Q4_1, 8, 4, 4)
TILES_Q32(q5_0, GGML_TYPE_Q5_0, 8, 4, 8)
TILES(q5_1, tile_q32, GGML_TYPE_Q5_1, 8, 4, 4)
TILES_Q32(q8_0, GGML_TYPE_Q8_0, 8, 4, 8)
TILES(q4_K, tile_q4_K, GGML_TYPE_Q4_K, 8, 4, 4)
TILES(q5_K, tile_q45_K, GGML_TYPE_Q5_K, 4, 2, 4)
TILES(q6_K, tile_q6_K, GGML_TYPE_Q6_K, 4, 4, 4)

const llm_kernel_table QX_TABLE = {.type = {
    [GGML_TYPE_F32] = ENTRY(f32),
    [GGML_TYPE_F16] = ENTRY(f16),
    [GGML_TYPE_BF16] = ENTRY(bf16),
    [GGML_TYPE_Q4_0] = {ENTRY_FIELDS(q4_0), PANEL_ENTRY(q4_0)},
    [GGML_TYPE_Q4_1] = ENTRY(q4_1),
    [GGML_TYPE_Q5_0] = {ENTRY_FIELDS(q5_0), PANEL_ENTRY(q5_0)},
    [GGML_TYPE_Q5_1] = ENTRY(q5_1),
    [GGML_TYPE_Q8_0] = {ENTRY_FIELDS(q8_0), PANEL_ENTRY(q8_0)},
    [GGML_TYPE_Q4_K] = {.vec = q4_K_vec, .vec_rows = q4_K_vr, .mat = q4_K_mat, .mat_rows = q4_K_mr, .mat_toks = q4_K_mt,
                        .mat_tail_vec = 1, Q4_K_PANEL},
    [GGML_TYPE_Q5_K] = ENTRY(q5_K),
    [GGML_TYPE_Q6_K] = {.vec = q6_K_vec, .vec_rows = q6_K_vr, .mat = q6_K_mat, .mat_rows = q6_K_mr, .mat_toks = q6_K_mt,
                        .mat_min_toks = 8},
}};

#else
const llm_kernel_table QX_TABLE = {0}; /* not x86: every type falls back to scalar */
#endif
