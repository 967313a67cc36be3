/*
 * quants_scalar.c — the reference: portable C for every conversion and dot product, written to be read next to
 * ggml's generic code. Dequantization multiplies in the same order as ggml (and the gguf Python package), so its
 * floats are bit-identical; dot products sum each block exactly in integers and only round when scaling to float.
 */
#include <math.h>
#include <string.h>

#include "quants.h"
#include "quants_blocks.h"
#include "quants_kernels.h"

// ---------------------------------------------------------------------------------------------------------------
// Half-precision conversions

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float llm_fp16_to_fp32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    const uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    if (exp == 0x1f) return f32_from_bits(sign | 0x7f800000 | (man << 13)); /* inf, nan */
    if (exp != 0) return f32_from_bits(sign | ((exp + 112) << 23) | (man << 13));
    if (man == 0) return f32_from_bits(sign);
    /* Subnormal man * 2^-24: shift the leading one up to the implicit bit. */
    uint32_t e = 113;
    while (!(man & 0x400)) {
        man <<= 1;
        e--;
    }
    return f32_from_bits(sign | (e << 23) | ((man & 0x3ff) << 13));
}

uint16_t llm_fp32_to_fp16(float f) {
    const uint32_t x = f32_bits(f);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    const uint32_t ax = x & 0x7fffffff;
    if (ax > 0x7f800000) return (uint16_t)(sign | 0x7e00 | ((ax >> 13) & 0x3ff)); /* nan: quiet, as F16C */
    if (ax >= 0x477ff000) return sign | 0x7c00; /* >= 65520 rounds to infinity */
    if (ax >= 0x38800000) {                     /* normal half: round the mantissa at bit 13, carry may bump exp */
        const uint32_t r = ax + 0x0fff + ((ax >> 13) & 1);
        return (uint16_t)(sign | ((r - 0x38000000) >> 13));
    }
    if (ax < 0x33000000) return sign; /* below 2^-25 (a tie at 2^-25 goes to the even 0) */
    /* Subnormal half: result = round(value * 2^24) = round(mantissa >> shift), ties to even. */
    const uint32_t man = (ax & 0x7fffff) | 0x800000;
    const int shift = 126 - (int)(ax >> 23);
    uint32_t q = man >> shift;
    const uint32_t rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    return (uint16_t)(sign | q);
}

float llm_bf16_to_fp32(uint16_t h) {
    return f32_from_bits((uint32_t)h << 16);
}

uint16_t llm_fp32_to_bf16(float f) {
    const uint32_t u = f32_bits(f);
    if ((u & 0x7fffffff) > 0x7f800000) return (uint16_t)((u >> 16) | 64); /* quiet the nan */
    return (uint16_t)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

#define FP16(h) llm_fp16_to_fp32(h)

// ---------------------------------------------------------------------------------------------------------------
// Dequantization: dst [k] f32 from k / block_size blocks

static void dequantize_q4_0(const block_q4_0 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = FP16(x[i].d);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)((x[i].qs[j] & 0x0F) - 8) * d;
            y[j + 16] = (float)((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

static void dequantize_q4_1(const block_q4_1 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = FP16(x[i].d), m = FP16(x[i].m);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)(x[i].qs[j] & 0x0F) * d + m;
            y[j + 16] = (float)(x[i].qs[j] >> 4) * d + m;
        }
    }
}

static uint32_t load_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void dequantize_q5_0(const block_q5_0 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = FP16(x[i].d);
        const uint32_t qh = load_u32(x[i].qh);
        for (int j = 0; j < 16; j++) {
            const int hi0 = (qh >> j) & 1, hi1 = (qh >> (j + 16)) & 1;
            y[j] = (float)(((x[i].qs[j] & 0x0F) | (hi0 << 4)) - 16) * d;
            y[j + 16] = (float)(((x[i].qs[j] >> 4) | (hi1 << 4)) - 16) * d;
        }
    }
}

static void dequantize_q5_1(const block_q5_1 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = FP16(x[i].d), m = FP16(x[i].m);
        const uint32_t qh = load_u32(x[i].qh);
        for (int j = 0; j < 16; j++) {
            const int hi0 = (qh >> j) & 1, hi1 = (qh >> (j + 16)) & 1;
            y[j] = (float)((x[i].qs[j] & 0x0F) | (hi0 << 4)) * d + m;
            y[j + 16] = (float)((x[i].qs[j] >> 4) | (hi1 << 4)) * d + m;
        }
    }
}

static void dequantize_q8_0(const block_q8_0 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = FP16(x[i].d);
        for (int j = 0; j < 32; j++) y[j] = (float)x[i].qs[j] * d;
    }
}

static void dequantize_q8_1(const block_q8_1 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = FP16(x[i].d);
        for (int j = 0; j < 32; j++) y[j] = (float)x[i].qs[j] * d;
    }
}

static void dequantize_q4_K(const block_q4_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = FP16(x[i].d), dmin = FP16(x[i].dmin);
        const uint8_t *q = x[i].qs;
        for (int c = 0; c < 4; c++, q += 32) { /* 64-element chunk: sub-blocks 2c (low nibbles), 2c+1 (high) */
            uint8_t sc, m;
            get_scale_min_k4(2 * c, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            get_scale_min_k4(2 * c + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (float)(q[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (float)(q[l] >> 4) - m2;
        }
    }
}

static void dequantize_q5_K(const block_q5_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = FP16(x[i].d), dmin = FP16(x[i].dmin);
        const uint8_t *q = x[i].qs, *qh = x[i].qh;
        for (int c = 0; c < 4; c++, q += 32) {
            uint8_t sc, m;
            get_scale_min_k4(2 * c, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            get_scale_min_k4(2 * c + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            const uint8_t b1 = (uint8_t)(1u << (2 * c)), b2 = (uint8_t)(2u << (2 * c));
            for (int l = 0; l < 32; l++) *y++ = d1 * (float)((q[l] & 0xF) + (qh[l] & b1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (float)((q[l] >> 4) + (qh[l] & b2 ? 16 : 0)) - m2;
        }
    }
}

/* Q6_K's interleave, per 128-element half: for l in [0, 32) the byte pair ql[l], ql[l + 32] holds the low 4 bits
 * of elements l, l + 32 (low nibbles) and l + 64, l + 96 (high nibbles); qh[l] holds their top 2 bits, in that
 * order from bit 0. q[s] = element 32 s + l, as a signed value in [-32, 31]. */
static void q6_K_quad(const uint8_t *ql, const uint8_t *qh, int l, int q[4]) {
    q[0] = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
    q[1] = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
    q[2] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
    q[3] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
}

static void dequantize_q6_K(const block_q6_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = FP16(x[i].d);
        for (int half = 0; half < 2; half++, y += 128) {
            const uint8_t *ql = x[i].ql + 64 * half, *qh = x[i].qh + 32 * half;
            const int8_t *sc = x[i].scales + 8 * half; /* one scale per 16 elements */
            for (int l = 0; l < 32; l++) {
                int q[4];
                q6_K_quad(ql, qh, l, q);
                for (int s = 0; s < 4; s++) y[32 * s + l] = d * (float)sc[2 * s + l / 16] * (float)q[s];
            }
        }
    }
}

static void dequantize_q8_K(const block_q8_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++)
        for (int j = 0; j < QK_K; j++) *y++ = x[i].d * (float)x[i].qs[j];
}

void llm_dequantize_scalar(uint32_t type, const void *src, float *dst, int64_t k) {
    const uint16_t *h = src;
    switch (type) {
    case GGML_TYPE_F32: memcpy(dst, src, (size_t)k * sizeof(float)); break;
    case GGML_TYPE_F16:
        for (int64_t i = 0; i < k; i++) dst[i] = llm_fp16_to_fp32(h[i]);
        break;
    case GGML_TYPE_BF16:
        for (int64_t i = 0; i < k; i++) dst[i] = llm_bf16_to_fp32(h[i]);
        break;
    case GGML_TYPE_Q4_0: dequantize_q4_0(src, dst, k / 32); break;
    case GGML_TYPE_Q4_1: dequantize_q4_1(src, dst, k / 32); break;
    case GGML_TYPE_Q5_0: dequantize_q5_0(src, dst, k / 32); break;
    case GGML_TYPE_Q5_1: dequantize_q5_1(src, dst, k / 32); break;
    case GGML_TYPE_Q8_0: dequantize_q8_0(src, dst, k / 32); break;
    case GGML_TYPE_Q8_1: dequantize_q8_1(src, dst, k / 32); break;
    case GGML_TYPE_Q4_K: dequantize_q4_K(src, dst, k / QK_K); break;
    case GGML_TYPE_Q5_K: dequantize_q5_K(src, dst, k / QK_K); break;
    case GGML_TYPE_Q6_K: dequantize_q6_K(src, dst, k / QK_K); break;
    case GGML_TYPE_Q8_K: dequantize_q8_K(src, dst, k / QK_K); break;
    default: break;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Activation quantization. Q8_0 and Q8_1 follow ggml's x86 path (the one llama.cpp runs on this hardware):
// id = 127 / amax and round half to even; ggml's portable reference instead uses 1 / (amax / 127) and roundf,
// which can differ by one step on values within an ulp of a half. Q8_K has one implementation in ggml.

static float block_amax(const float *x, int n) {
    float amax = 0.0f;
    for (int j = 0; j < n; j++) amax = fmaxf(amax, fabsf(x[j]));
    return amax;
}

/* One block of 32 to int8 steps of amax / 127; returns the step (before its fp16 rounding). */
static float quantize_block_32(const float *x, int8_t *qs) {
    const float amax = block_amax(x, 32);
    const float d = amax / 127.f, id = amax != 0.0f ? 127.f / amax : 0.0f;
    for (int j = 0; j < 32; j++) qs[j] = (int8_t)nearest_int(x[j] * id);
    return d;
}

static void quantize_q8_0(const float *x, block_q8_0 *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) y[i].d = llm_fp32_to_fp16(quantize_block_32(x + 32 * i, y[i].qs));
}

static void quantize_q8_1(const float *x, block_q8_1 *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = quantize_block_32(x + 32 * i, y[i].qs);
        int sum = 0;
        for (int j = 0; j < 32; j++) sum += y[i].qs[j];
        y[i].d = llm_fp32_to_fp16(d);
        y[i].s = llm_fp32_to_fp16(d * (float)sum);
    }
}

/* Scales by -127 / (the element of largest magnitude), so that element maps to -127 exactly and d may be negative. */
static void quantize_q8_K(const float *x, block_q8_K *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK_K) {
        float max = 0.0f, amax = 0.0f;
        for (int j = 0; j < QK_K; j++) {
            const float ax = fabsf(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        memset(&y[i], 0, sizeof y[i]); /* ggml leaves bsums unwritten for an all-zero block; we zero them */
        if (amax == 0.0f) continue;
        const float iscale = -127.f / max;
        for (int j = 0; j < QK_K; j++) {
            const int v = nearest_int(iscale * x[j]);
            y[i].qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int g = 0; g < QK_K / 16; g++) {
            int sum = 0;
            for (int j = 0; j < 16; j++) sum += y[i].qs[16 * g + j];
            y[i].bsums[g] = (int16_t)sum;
        }
        y[i].d = 1 / iscale;
    }
}

void llm_quantize_scalar(uint32_t dot_type, const float *x, void *out, int64_t k) {
    uint16_t *h = out;
    switch (dot_type) {
    case GGML_TYPE_F32: memcpy(out, x, (size_t)k * sizeof(float)); break;
    case GGML_TYPE_F16:
        for (int64_t i = 0; i < k; i++) h[i] = llm_fp32_to_fp16(x[i]);
        break;
    case GGML_TYPE_BF16:
        for (int64_t i = 0; i < k; i++) h[i] = llm_fp32_to_bf16(x[i]);
        break;
    case GGML_TYPE_Q8_0: quantize_q8_0(x, out, k / 32); break;
    case GGML_TYPE_Q8_1: quantize_q8_1(x, out, k / 32); break;
    case GGML_TYPE_Q8_K: quantize_q8_K(x, out, k / QK_K); break;
    default: break;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Dot products, one weight row with one activation row (1 x 1 tiles). Float types accumulate in double (as ggml's
// scalar code does); quantized types sum each block exactly in int and scale it by d_w * d_x in float.

static void dot_f32(const uint8_t *const *w, const uint8_t *const *w_next, const uint8_t *const *x, int64_t k,
                    float *sums) {
    (void)w_next;
    const float *a = (const float *)w[0], *b = (const float *)x[0];
    double s = 0;
    for (int64_t i = 0; i < k; i++) s += (double)(a[i] * b[i]);
    sums[0] = (float)s;
}

static void dot_f16(const uint8_t *const *w, const uint8_t *const *w_next, const uint8_t *const *x, int64_t k,
                    float *sums) {
    (void)w_next;
    const uint16_t *a = (const uint16_t *)w[0], *b = (const uint16_t *)x[0];
    double s = 0;
    for (int64_t i = 0; i < k; i++) s += (double)(FP16(a[i]) * FP16(b[i]));
    sums[0] = (float)s;
}

static void dot_bf16(const uint8_t *const *w, const uint8_t *const *w_next, const uint8_t *const *x, int64_t k,
                     float *sums) {
    (void)w_next;
    const uint16_t *a = (const uint16_t *)w[0], *b = (const uint16_t *)x[0];
    double s = 0;
    for (int64_t i = 0; i < k; i++) s += (double)(llm_bf16_to_fp32(a[i]) * llm_bf16_to_fp32(b[i]));
    sums[0] = (float)s;
}

/* One 32-element block: low nibbles meet y[0..15], high nibbles y[16..31]; bit j of qh is bit 4 of element j
 * (0 for the 4-bit types), and `offset` is subtracted from every value. */
static int dot_nibbles(const uint8_t *qs, uint32_t qh, int offset, const int8_t *y) {
    int sum = 0;
    for (int j = 0; j < 16; j++) {
        const int v0 = ((qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4)) - offset;
        const int v1 = ((qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4)) - offset;
        sum += v0 * y[j] + v1 * y[j + 16];
    }
    return sum;
}

static void dot_q4_0(const uint8_t *const *w, const uint8_t *const *w_next, const uint8_t *const *x, int64_t k,
                     float *sums) {
    (void)w_next;
    const block_q4_0 *a = (const block_q4_0 *)w[0];
    const block_q8_0 *b = (const block_q8_0 *)x[0];
    float s = 0;
    for (int64_t i = 0; i < k / 32; i++)
        s += (float)dot_nibbles(a[i].qs, 0, 8, b[i].qs) * (FP16(a[i].d) * FP16(b[i].d));
    sums[0] = s;
}

static void dot_q4_1(const uint8_t *const *w, const uint8_t *const *w_next, const uint8_t *const *x, int64_t k,
                     float *sums) {
    (void)w_next;
    const block_q4_1 *a = (const block_q4_1 *)w[0];
    const block_q8_1 *b = (const block_q8_1 *)x[0];
    float s = 0;
    for (int64_t i = 0; i < k / 32; i++) {
        s += (float)dot_nibbles(a[i].qs, 0, 0, b[i].qs) * (FP16(a[i].d) * FP16(b[i].d));
        s += FP16(a[i].m) * FP16(b[i].s); /* the minimum times the block sum, which Q8_1 carries in s */
    }
    sums[0] = s;
}

static void dot_q5_0(const uint8_t *const *w, const uint8_t *const *w_next, const uint8_t *const *x, int64_t k,
                     float *sums) {
    (void)w_next;
    const block_q5_0 *a = (const block_q5_0 *)w[0];
    const block_q8_0 *b = (const block_q8_0 *)x[0];
    float s = 0;
    for (int64_t i = 0; i < k / 32; i++)
        s += (float)dot_nibbles(a[i].qs, load_u32(a[i].qh), 16, b[i].qs) * (FP16(a[i].d) * FP16(b[i].d));
    sums[0] = s;
}

static void dot_q5_1(const uint8_t *const *w, const uint8_t *const *w_next, const uint8_t *const *x, int64_t k,
                     float *sums) {
    (void)w_next;
    const block_q5_1 *a = (const block_q5_1 *)w[0];
    const block_q8_1 *b = (const block_q8_1 *)x[0];
    float s = 0;
    for (int64_t i = 0; i < k / 32; i++) {
        s += (float)dot_nibbles(a[i].qs, load_u32(a[i].qh), 0, b[i].qs) * (FP16(a[i].d) * FP16(b[i].d));
        s += FP16(a[i].m) * FP16(b[i].s);
    }
    sums[0] = s;
}

static void dot_q8_0(const uint8_t *const *w, const uint8_t *const *w_next, const uint8_t *const *x, int64_t k,
                     float *sums) {
    (void)w_next;
    const block_q8_0 *a = (const block_q8_0 *)w[0];
    const block_q8_0 *b = (const block_q8_0 *)x[0];
    float s = 0;
    for (int64_t i = 0; i < k / 32; i++) {
        int sum = 0;
        for (int j = 0; j < 32; j++) sum += a[i].qs[j] * b[i].qs[j];
        s += (float)sum * (FP16(a[i].d) * FP16(b[i].d));
    }
    sums[0] = s;
}

/* K-quants: per super-block, sum(q * y) per sub-block times its integer scale, and the minimums against the
 * activation's per-16 sums: d_x * (d * sum_j sc_j * dot_j - dmin * sum_j m_j * bsum_j). */
static void dot_q4_K(const uint8_t *const *w, const uint8_t *const *w_next, const uint8_t *const *x, int64_t k,
                     float *sums) {
    (void)w_next;
    const block_q4_K *a = (const block_q4_K *)w[0];
    const block_q8_K *b = (const block_q8_K *)x[0];
    float s = 0;
    for (int64_t i = 0; i < k / QK_K; i++) {
        uint8_t sm[16];
        unpack_scales_mins_k4(a[i].scales, sm);
        int sumq = 0, summ = 0;
        for (int c = 0; c < 4; c++) {
            const uint8_t *q = a[i].qs + 32 * c;
            const int8_t *y = b[i].qs + 64 * c;
            int lo = 0, hi = 0;
            for (int l = 0; l < 32; l++) {
                lo += (q[l] & 0xF) * y[l];
                hi += (q[l] >> 4) * y[l + 32];
            }
            sumq += sm[2 * c] * lo + sm[2 * c + 1] * hi;
        }
        for (int j = 0; j < 8; j++) summ += sm[8 + j] * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
        s += b[i].d * FP16(a[i].d) * (float)sumq - b[i].d * FP16(a[i].dmin) * (float)summ;
    }
    sums[0] = s;
}

static void dot_q5_K(const uint8_t *const *w, const uint8_t *const *w_next, const uint8_t *const *x, int64_t k,
                     float *sums) {
    (void)w_next;
    const block_q5_K *a = (const block_q5_K *)w[0];
    const block_q8_K *b = (const block_q8_K *)x[0];
    float s = 0;
    for (int64_t i = 0; i < k / QK_K; i++) {
        uint8_t sm[16];
        unpack_scales_mins_k4(a[i].scales, sm);
        int sumq = 0, summ = 0;
        for (int c = 0; c < 4; c++) {
            const uint8_t *q = a[i].qs + 32 * c, *qh = a[i].qh;
            const int8_t *y = b[i].qs + 64 * c;
            int lo = 0, hi = 0;
            for (int l = 0; l < 32; l++) {
                lo += ((q[l] & 0xF) | (((qh[l] >> (2 * c)) & 1) << 4)) * y[l];
                hi += ((q[l] >> 4) | (((qh[l] >> (2 * c + 1)) & 1) << 4)) * y[l + 32];
            }
            sumq += sm[2 * c] * lo + sm[2 * c + 1] * hi;
        }
        for (int j = 0; j < 8; j++) summ += sm[8 + j] * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
        s += b[i].d * FP16(a[i].d) * (float)sumq - b[i].d * FP16(a[i].dmin) * (float)summ;
    }
    sums[0] = s;
}

static void dot_q6_K(const uint8_t *const *w, const uint8_t *const *w_next, const uint8_t *const *x, int64_t k,
                     float *sums) {
    (void)w_next;
    const block_q6_K *a = (const block_q6_K *)w[0];
    const block_q8_K *b = (const block_q8_K *)x[0];
    float s = 0;
    for (int64_t i = 0; i < k / QK_K; i++) {
        int sumq = 0;
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = a[i].ql + 64 * half, *qh = a[i].qh + 32 * half;
            const int8_t *y = b[i].qs + 128 * half;
            int group[8]; /* the 16-element groups of this half: element 32 j + l is in group 2 j + l / 16 */
            for (int l0 = 0; l0 < 32; l0 += 16) {
                int g[4] = {0, 0, 0, 0};
                for (int l = l0; l < l0 + 16; l++) {
                    int q[4];
                    q6_K_quad(ql, qh, l, q);
                    for (int j = 0; j < 4; j++) g[j] += q[j] * y[32 * j + l];
                }
                for (int j = 0; j < 4; j++) group[2 * j + l0 / 16] = g[j];
            }
            for (int g = 0; g < 8; g++) sumq += a[i].scales[8 * half + g] * group[g];
        }
        s += b[i].d * FP16(a[i].d) * (float)sumq;
    }
    sums[0] = s;
}

#define SCALAR(fn) {.vec = fn, .vec_rows = 1, .mat = fn, .mat_rows = 1, .mat_toks = 1}

const llm_kernel_table llm_kernels_scalar = {.type = {
    [GGML_TYPE_F32] = SCALAR(dot_f32),
    [GGML_TYPE_F16] = SCALAR(dot_f16),
    [GGML_TYPE_BF16] = SCALAR(dot_bf16),
    [GGML_TYPE_Q4_0] = SCALAR(dot_q4_0),
    [GGML_TYPE_Q4_1] = SCALAR(dot_q4_1),
    [GGML_TYPE_Q5_0] = SCALAR(dot_q5_0),
    [GGML_TYPE_Q5_1] = SCALAR(dot_q5_1),
    [GGML_TYPE_Q8_0] = SCALAR(dot_q8_0),
    [GGML_TYPE_Q4_K] = SCALAR(dot_q4_K),
    [GGML_TYPE_Q5_K] = SCALAR(dot_q5_K),
    [GGML_TYPE_Q6_K] = SCALAR(dot_q6_K),
}};
