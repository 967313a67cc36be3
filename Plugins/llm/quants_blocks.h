/*
 * quants_blocks.h — the byte layout of one block of each quantized type, as ggml-common.h defines it (the layouts
 * are part of the GGUF format; ggml_types.c holds their sizes, the asserts below tie the two together).
 * Internal to the quants_*.c files.
 *
 * A block of 32 (or 256 for K-quants) weights stores small integers q and fp16 scales; its weights are
 *   Q4_0: d * (q - 8)        q in [0, 15]    Q4_1: d * q + m     Q8_0: d * q, q in [-128, 127]
 *   Q5_0: d * (q - 16)       q in [0, 31]    Q5_1: d * q + m
 *   Q4_K: d * sc_j * q - dmin * m_j, q in [0, 15], 8 sub-blocks j of 32 with 6-bit sc_j, m_j
 *   Q5_K: as Q4_K with q in [0, 31]          Q6_K: d * sc_g * (q - 32), q in [0, 63], 16 groups g of 16, int8 sc_g
 */
#ifndef PLEXUS_LLM_QUANTS_BLOCKS_H
#define PLEXUS_LLM_QUANTS_BLOCKS_H

#include <stdint.h>
#include <string.h>

#include "ggml_types.h"

#define QK4_0 32
#define QK8_0 32
#define K_SCALE_SIZE 12

typedef struct block_q4_0 {
    uint16_t d;          /* fp16 scale */
    uint8_t qs[QK4_0 / 2]; /* element j in the low nibble of qs[j], element j + 16 in the high nibble */
} block_q4_0;

typedef struct block_q4_1 {
    uint16_t d, m;       /* fp16 scale and minimum */
    uint8_t qs[QK4_0 / 2]; /* as Q4_0 */
} block_q4_1;

typedef struct block_q5_0 {
    uint16_t d;
    uint8_t qh[4];       /* bit j of this little-endian u32 is bit 4 of element j */
    uint8_t qs[QK4_0 / 2]; /* low 4 bits, laid out as Q4_0 */
} block_q5_0;

typedef struct block_q5_1 {
    uint16_t d, m;
    uint8_t qh[4];
    uint8_t qs[QK4_0 / 2];
} block_q5_1;

typedef struct block_q8_0 {
    uint16_t d;
    int8_t qs[QK8_0];
} block_q8_0;

/* Activation block for Q4_1/Q5_1: s caches d * sum(qs) so the weight minimum m costs one product per block. */
typedef struct block_q8_1 {
    uint16_t d, s;
    int8_t qs[QK8_0];
} block_q8_1;

typedef struct block_q4_K {
    uint16_t d, dmin;
    uint8_t scales[K_SCALE_SIZE]; /* 8 x (6-bit scale, 6-bit min), unpacked by get_scale_min_k4 */
    uint8_t qs[QK_K / 2];         /* 64-element chunk c: elements 0..31 in the low nibbles of qs[32c..], 32..63 high */
} block_q4_K;

typedef struct block_q5_K {
    uint16_t d, dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qh[QK_K / 8];  /* bit 2c (low nibbles) / 2c + 1 (high nibbles) of qh[l] is bit 4 of chunk c's element l */
    uint8_t qs[QK_K / 2];  /* as Q4_K */
} block_q5_K;

typedef struct block_q6_K {
    uint8_t ql[QK_K / 2];  /* low 4 bits; see dequantize_q6_K for the interleave */
    uint8_t qh[QK_K / 4];  /* high 2 bits */
    int8_t scales[QK_K / 16];
    uint16_t d;
} block_q6_K;

/* Activation block for K-quants: a float scale and per-16 sums of qs, so weight minimums need no second pass. */
typedef struct block_q8_K {
    float d;
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16];
} block_q8_K;

_Static_assert(sizeof(block_q4_0) == 18, "Q4_0 block");
_Static_assert(sizeof(block_q4_1) == 20, "Q4_1 block");
_Static_assert(sizeof(block_q5_0) == 22, "Q5_0 block");
_Static_assert(sizeof(block_q5_1) == 24, "Q5_1 block");
_Static_assert(sizeof(block_q8_0) == 34, "Q8_0 block");
_Static_assert(sizeof(block_q8_1) == 36, "Q8_1 block (ggml's current fp16 d and s)");
_Static_assert(sizeof(block_q4_K) == 144, "Q4_K block");
_Static_assert(sizeof(block_q5_K) == 176, "Q5_K block");
_Static_assert(sizeof(block_q6_K) == 210, "Q6_K block");
_Static_assert(sizeof(block_q8_K) == 292, "Q8_K block");

/* Unpacks sub-block j's 6-bit scale and min from a K-quant's 12 scale bytes: j < 4 keep them in the low 6 bits of
 * bytes j and j + 4; j >= 4 split them into a nibble of byte j + 4 and the top 2 bits of bytes j - 4 and j. */
static inline void get_scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* All 8 scales then all 8 mins of a K-quant block at once, the same unpacking done on 32-bit words:
 * out[0..7] = sc_0..7, out[8..15] = m_0..7. */
static inline void unpack_scales_mins_k4(const uint8_t *q, uint8_t out[16]) {
    uint32_t a, b, c;
    memcpy(&a, q, 4);
    memcpy(&b, q + 4, 4);
    memcpy(&c, q + 8, 4);
    const uint32_t w[4] = {
        a & 0x3f3f3f3fu,                                     /* sc 0..3 */
        (c & 0x0f0f0f0fu) | ((a >> 2) & 0x30303030u),        /* sc 4..7 */
        b & 0x3f3f3f3fu,                                     /* m 0..3 */
        ((c >> 4) & 0x0f0f0f0fu) | ((b >> 2) & 0x30303030u), /* m 4..7 */
    };
    memcpy(out, w, 16);
}

/* Round to nearest, ties to even, without depending on the FP environment: adding 1.5 * 2^23 leaves the integer in
 * the low mantissa bits. ggml's nearest_int; valid for |v| <= 2^22. */
static inline int nearest_int(float v) {
    float t = v + 12582912.f;
    int32_t i;
    memcpy(&i, &t, 4);
    return (i & 0x007fffff) - 0x00400000;
}

#endif
