/*
 * quants_avx2.c — 256-bit x86 kernels (AVX2, FMA, F16C) for every weight type. quants_avxvnni.c compiles this file
 * a second time with QX_VNNI = 1, where the int8 products of the 32-weight block types use AVX-VNNI's vpdpbusd.
 *
 * Each function carries a target attribute rather than the file being built with -mavx2, so the plugin builds with
 * plain flags and these instructions run only after the dispatcher has seen the CPU support them.
 *
 * Tiles are written once, generic in the weight type and the tile shape (R rows x T tokens), and instantiated with
 * constants: the compiler unrolls the r/t loops and keeps acc[r][t] in registers.
 */
#include "quants_kernels.h"

#ifndef QX_VNNI
#define QX_VNNI 0
#define QX_TARGET "avx2,fma,f16c"
#define QX_TABLE llm_kernels_avx2
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

INLINE float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

INLINE float fp16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

INLINE __m256i load256(const uint8_t *p) {
    return _mm256_loadu_si256((const __m256i *)(const void *)p);
}

/* acc + the sum of 4 adjacent u8 * s8 products in each i32 lane. Without VNNI the pairs pass through i16 with
 * saturation, so callers keep u <= 128 (|s| <= 127 from the quantizer): 2 * 128 * 127 < 32768. */
INLINE __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s) {
#if QX_VNNI
    return _mm256_dpbusd_avx_epi32(acc, u, s);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

/* acc + sum of adjacent i16 pair products per i32 lane. */
INLINE __m256i madd_acc(__m256i acc, __m256i a, __m256i b) {
#if QX_VNNI
    return _mm256_dpwssd_avx_epi32(acc, a, b);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
}

/* An fp16 field broadcast to 8 f32 lanes (vpbroadcastw + vcvtph2ps). */
INLINE __m256 bcast_fp16(const uint8_t *p) {
    short h;
    memcpy(&h, p, 2);
    return _mm256_cvtph_ps(_mm_set1_epi16(h));
}

// ---------------------------------------------------------------------------------------------------------------
// F32, F16, BF16: convert 8 elements to f32 and FMA; a scalar tail for k % 8.

INLINE __m256 load_f8(uint32_t type, const uint8_t *row, int64_t i) {
    if (type == GGML_TYPE_F32) return _mm256_loadu_ps((const float *)(const void *)row + i);
    const __m128i h = _mm_loadu_si128((const __m128i *)(const void *)(row + 2 * i));
    if (type == GGML_TYPE_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)); /* bf16 is the top half of f32 */
}

INLINE float load_f1(uint32_t type, const uint8_t *row, int64_t i) {
    float f;
    if (type == GGML_TYPE_F32) {
        memcpy(&f, row + 4 * i, 4);
        return f;
    }
    if (type == GGML_TYPE_F16) return fp16(row + 2 * i);
    uint32_t u = 0;
    memcpy((uint8_t *)&u + 2, row + 2 * i, 2);
    memcpy(&f, &u, 4);
    return f;
}

INLINE void tile_float(uint32_t type, const int R, const int T, const uint8_t *const *w, const uint8_t *const *wn,
                       const uint8_t *const *x, int64_t k, float *sums) {
    __m256 acc[4][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= k; i += 8) {
        __m256 wv[4];
        UNROLL for (int r = 0; r < R; r++) {
            wv[r] = load_f8(type, w[r], i);
            if (i % 32 == 0) prefetch_next(wn, r, i * (type == GGML_TYPE_F32 ? 4 : 2));
        }
        UNROLL for (int t = 0; t < T; t++) {
            const __m256 xv = load_f8(type, x[t], i);
            UNROLL for (int r = 0; r < R; r++) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int t = 0; t < T; t++) {
        float s = hsum(acc[r][t]);
        for (int64_t j = i; j < k; j++) s += load_f1(type, w[r], j) * load_f1(type, x[t], j);
        sums[r * T + t] = s;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 32-weight blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) against Q8_0 / Q8_1 activations. A weight block decodes to
// unsigned bytes u with w = d * (u - ofs) + m, so per block
//     sum_i w_i x_i = d * dx * (sum_i u_i q_i - ofs * sum_i q_i) + m * s       (s = dx * sum q_i, from Q8_1)
// The -ofs * sum q term is per token: it seeds the integer accumulator once and is shared by all rows of the tile.

/* 32 nibbles in element order: the low nibbles of qs[0..15] are elements 0..15, the high ones 16..31. */
INLINE __m256i nibbles32(const uint8_t *qs) {
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)qs);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(v, 4), v), _mm256_set1_epi8(0x0F));
}

/* 0x10 in byte j where bit j of the block's qh is set: bit 4 of a Q5 element. */
INLINE __m256i q5_high_bits(const uint8_t *qh_bytes) {
    uint32_t qh;
    memcpy(&qh, qh_bytes, 4);
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), /* byte j <- qh byte j / 8 */
                                               _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                                                 0x0101010101010101, 0));
    const __m256i all_but_bit = _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe); /* byte j: every bit except j % 8 */
    const __m256i set = _mm256_cmpeq_epi8(_mm256_or_si256(spread, all_but_bit), _mm256_set1_epi64x(-1));
    return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

INLINE int q32_weight_bytes(uint32_t type) {
    switch (type) {
    case GGML_TYPE_Q4_0: return sizeof(block_q4_0);
    case GGML_TYPE_Q4_1: return sizeof(block_q4_1);
    case GGML_TYPE_Q5_0: return sizeof(block_q5_0);
    case GGML_TYPE_Q5_1: return sizeof(block_q5_1);
    default: return sizeof(block_q8_0);
    }
}

/* Bytes u of one weight block (Q8_0 without VNNI: |w|, with the sign moved onto the activation instead, since
 * w + 128 would overflow vpmaddubsw's i16 pairs). */
INLINE __m256i q32_decode(uint32_t type, const uint8_t *blk) {
    switch (type) {
    case GGML_TYPE_Q4_0: return nibbles32(blk + 2);
    case GGML_TYPE_Q4_1: return nibbles32(blk + 4);
    case GGML_TYPE_Q5_0: return _mm256_or_si256(nibbles32(blk + 6), q5_high_bits(blk + 2));
    case GGML_TYPE_Q5_1: return _mm256_or_si256(nibbles32(blk + 8), q5_high_bits(blk + 4));
    default: return QX_VNNI ? _mm256_xor_si256(load256(blk + 2), _mm256_set1_epi8(-128)) /* w + 128 */
                            : _mm256_sign_epi8(load256(blk + 2), load256(blk + 2));
    }
}

INLINE int q32_offset(uint32_t type) {
    return type == GGML_TYPE_Q4_0 ? 8 : type == GGML_TYPE_Q5_0 ? 16 : (type == GGML_TYPE_Q8_0 && QX_VNNI) ? 128 : 0;
}

INLINE void tile_q32(uint32_t type, const int R, const int T, const uint8_t *const *w, const uint8_t *const *wn,
                     const uint8_t *const *x, int64_t k, float *sums) {
    const int has_min = type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1;
    const int sign_trick = type == GGML_TYPE_Q8_0 && !QX_VNNI;
    const int wb = q32_weight_bytes(type), xb = has_min ? sizeof(block_q8_1) : sizeof(block_q8_0);
    const int ofs = q32_offset(type);
    __m256 acc[4][4];
    float accm[4][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int t = 0; t < T; t++) {
        acc[r][t] = _mm256_setzero_ps();
        accm[r][t] = 0;
    }
    for (int64_t b = 0; b < k / 32; b++) {
        __m256i u[4], raw[4];
        __m256 dw[4];
        float mw[4];
        UNROLL for (int r = 0; r < R; r++) {
            const uint8_t *blk = w[r] + b * wb;
            prefetch_next(wn, r, b * wb);
            u[r] = q32_decode(type, blk);
            if (sign_trick) raw[r] = load256(blk + 2);
            dw[r] = bcast_fp16(blk);
            mw[r] = has_min ? fp16(blk + 2) : 0;
        }
        UNROLL for (int t = 0; t < T; t++) {
            const uint8_t *xblk = x[t] + b * xb;
            const __m256i xq = load256(xblk + xb - 32);
            const __m256 dx = bcast_fp16(xblk);
            const float sx = has_min ? fp16(xblk + 2) : 0;
            __m256i base = _mm256_setzero_si256();
            if (ofs) /* -ofs * sum q in each lane */
                base = _mm256_sub_epi32(base, dot_u8s8(base, _mm256_set1_epi8((char)(ofs == 128 ? -128 : ofs)), xq));
            UNROLL for (int r = 0; r < R; r++) {
                const __m256i i = sign_trick ? dot_u8s8(base, u[r], _mm256_sign_epi8(xq, raw[r]))
                                             : dot_u8s8(base, u[r], xq);
                acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), _mm256_mul_ps(dw[r], dx), acc[r][t]);
                if (has_min) accm[r][t] += mw[r] * sx;
            }
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int t = 0; t < T; t++)
        sums[r * T + t] = hsum(acc[r][t]) + accm[r][t];
}

// ---------------------------------------------------------------------------------------------------------------
// K-quants against Q8_K, one 32-element sub-block per vector. vpmaddubsw gives i16 pairs and vpmaddwd with the
// sub-block's 6- or 8-bit scale folds the pairs and the scale in one step, so a super-block sums exactly in i32
// and costs one float FMA per token; minimums use the activation's bsums.

/* Bytes [2j, 2j + 1] of each 128-bit lane repeated: picks i16 scale j from a vector holding scales 0..7 per lane. */
INLINE __m256i word_picker(int j) {
    return _mm256_set1_epi16((short)(2 * j | (2 * j + 1) << 8));
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

INLINE void tile_q45_K(uint32_t type, const int R, const int T, const uint8_t *const *w, const uint8_t *const *wn,
                       const uint8_t *const *x, int64_t k, float *sums) {
    const int five = type == GGML_TYPE_Q5_K;
    const int wb = five ? sizeof(block_q5_K) : sizeof(block_q4_K);
    __m256 acc[4][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / QK_K; i++) {
        float dx[4];
        __m128i bsum8[4]; /* per token: sums of the 8 sub-blocks of 32 */
        UNROLL for (int t = 0; t < T; t++) {
            const block_q8_K *y = (const block_q8_K *)(const void *)(x[t]) + i;
            dx[t] = y->d;
            bsum8[t] = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)(const void *)y->bsums),
                                      _mm_loadu_si128((const __m128i *)(const void *)(y->bsums + 8)));
        }
        UNROLL for (int r = 0; r < R; r++) {
            const uint8_t *blk = w[r] + i * wb;
            const uint8_t *qs = blk + (five ? 48 : 16), *qh = blk + 16;
            for (int o = 0; o < wb; o += 64) prefetch_next(wn, r, i * wb + o);
            const __m128i sm16 = unpack_scales_k4(blk + 4);
            const __m256i scales = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm16));
            const __m128i mins = _mm_cvtepu8_epi16(_mm_srli_si128(sm16, 8));
            const __m256i hbits = five ? load256(qh) : _mm256_setzero_si256();
            __m256i isum[4];
            UNROLL for (int t = 0; t < T; t++) isum[t] = _mm256_setzero_si256();
            UNROLL for (int j = 0; j < 8; j++) { /* sub-block j: nibble j % 2 of qs[32 * (j / 2) ...] */
                const __m256i q = load256(qs + 32 * (j / 2));
                __m256i u = _mm256_and_si256(j % 2 ? _mm256_srli_epi16(q, 4) : q, _mm256_set1_epi8(0x0F));
                if (five) {
                    const __m256i bit = _mm256_set1_epi8((char)(1 << j));
                    const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(hbits, bit), bit);
                    u = _mm256_or_si256(u, _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
                }
                const __m256i sc = _mm256_shuffle_epi8(scales, word_picker(j));
                UNROLL for (int t = 0; t < T; t++) {
                    const __m256i xq = load256(x[t] + i * sizeof(block_q8_K) + 4 + 32 * j);
                    isum[t] = madd_acc(isum[t], _mm256_maddubs_epi16(u, xq), sc);
                }
            }
            const float d = fp16(blk), dmin = fp16(blk + 2);
            UNROLL for (int t = 0; t < T; t++) {
                const __m256i imin = _mm256_set_m128i(_mm_setzero_si128(), _mm_madd_epi16(bsum8[t], mins));
                acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_set1_ps(d * dx[t]), acc[r][t]);
                acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(imin), _mm256_set1_ps(-dmin * dx[t]), acc[r][t]);
            }
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int t = 0; t < T; t++) sums[r * T + t] = hsum(acc[r][t]);
}

/* Q6_K: q = u - 32 with u in [0, 63]; the -32 becomes -32 * sum_g sc_g * bsum_g from the activation's bsums. */
INLINE void tile_q6_K(uint32_t type, const int R, const int T, const uint8_t *const *w, const uint8_t *const *wn,
                      const uint8_t *const *x, int64_t k, float *sums) {
    (void)type; /* Q6_K only; the parameter keeps every tile's signature alike */
    __m256 acc[4][4];
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < k / QK_K; i++) {
        UNROLL for (int r = 0; r < R; r++) {
            const block_q6_K *blk = (const block_q6_K *)(const void *)w[r] + i;
            for (int o = 0; o < (int)sizeof(block_q6_K); o += 64)
                prefetch_next(wn, r, i * (int64_t)sizeof(block_q6_K) + o);
            const __m128i sc8 = _mm_loadu_si128((const __m128i *)(const void *)blk->scales);
            __m256i isum[4];
            UNROLL for (int t = 0; t < T; t++) isum[t] = _mm256_setzero_si256();
            UNROLL for (int half = 0; half < 2; half++) {
                const __m256i ql0 = load256(blk->ql + 64 * half), ql1 = load256(blk->ql + 64 * half + 32);
                const __m256i qh = load256(blk->qh + 32 * half);
                UNROLL for (int s = 0; s < 4; s++) { /* elements 128 * half + 32 * s ... + 31 */
                    const __m256i lo4 = s == 0 ? ql0 : s == 1 ? ql1 : _mm256_srli_epi16(s == 2 ? ql0 : ql1, 4);
                    const __m256i hi2 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * s), _mm256_set1_epi8(3));
                    const __m256i u = _mm256_or_si256(_mm256_and_si256(lo4, _mm256_set1_epi8(0x0F)),
                                                      _mm256_slli_epi16(hi2, 4));
                    const int g = 8 * half + 2 * s; /* the two 16-element groups of this vector */
                    const __m128i pick = _mm_set_epi64x((long long)(0x0101010101010101ull * (uint64_t)(g + 1)),
                                                        (long long)(0x0101010101010101ull * (uint64_t)g));
                    const __m256i sc = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, pick));
                    UNROLL for (int t = 0; t < T; t++) {
                        const __m256i xq = load256(x[t] + i * sizeof(block_q8_K) + 4 + 128 * half + 32 * s);
                        isum[t] = madd_acc(isum[t], _mm256_maddubs_epi16(u, xq), sc);
                    }
                }
            }
            const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
            const float d = fp16((const uint8_t *)&blk->d);
            UNROLL for (int t = 0; t < T; t++) {
                const block_q8_K *y = (const block_q8_K *)(const void *)(x[t]) + i;
                const __m256i bs = _mm256_loadu_si256((const __m256i *)(const void *)y->bsums);
                const __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(bs, sc16), 5);
                acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(isum[t], off)),
                                            _mm256_set1_ps(d * y->d), acc[r][t]);
            }
        }
    }
    UNROLL for (int r = 0; r < R; r++) UNROLL for (int t = 0; t < T; t++) sums[r * T + t] = hsum(acc[r][t]);
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
#define ENTRY(name)                                                                                              \
    {.vec = name##_vec, .vec_rows = name##_vr, .mat = name##_mat, .mat_rows = name##_mr, .mat_toks = name##_mt}

TILES(f32, tile_float, GGML_TYPE_F32, 4, 2, 4)
TILES(f16, tile_float, GGML_TYPE_F16, 4, 2, 4)
TILES(bf16, tile_float, GGML_TYPE_BF16, 4, 2, 4)
TILES(q4_0, tile_q32, GGML_TYPE_Q4_0, 4, 2, 4)
TILES(q4_1, tile_q32, GGML_TYPE_Q4_1, 4, 2, 4)
TILES(q5_0, tile_q32, GGML_TYPE_Q5_0, 4, 2, 4)
TILES(q5_1, tile_q32, GGML_TYPE_Q5_1, 4, 2, 4)
TILES(q8_0, tile_q32, GGML_TYPE_Q8_0, 4, 2, 4)
TILES(q4_K, tile_q45_K, GGML_TYPE_Q4_K, 2, 2, 2)
TILES(q5_K, tile_q45_K, GGML_TYPE_Q5_K, 2, 2, 2)
TILES(q6_K, tile_q6_K, GGML_TYPE_Q6_K, 2, 2, 2)

const llm_kernel_table QX_TABLE = {.type = {
    [GGML_TYPE_F32] = ENTRY(f32),
    [GGML_TYPE_F16] = ENTRY(f16),
    [GGML_TYPE_BF16] = ENTRY(bf16),
    [GGML_TYPE_Q4_0] = ENTRY(q4_0),
    [GGML_TYPE_Q4_1] = ENTRY(q4_1),
    [GGML_TYPE_Q5_0] = ENTRY(q5_0),
    [GGML_TYPE_Q5_1] = ENTRY(q5_1),
    [GGML_TYPE_Q8_0] = ENTRY(q8_0),
    [GGML_TYPE_Q4_K] = ENTRY(q4_K),
    [GGML_TYPE_Q5_K] = ENTRY(q5_K),
    [GGML_TYPE_Q6_K] = ENTRY(q6_K),
}};

#else
const llm_kernel_table QX_TABLE = {0}; /* not x86: every type falls back to scalar */
#endif
