/*
 * quants_ggml_order.c — single-token dot products for Q8_0, Q5_0 and Q4_1 weights that add their float terms in
 * exactly the order of ggml's x86 (AVX2) kernels: per 32-element block, 8 exact integer lane sums (lane j = elements
 * 4j..4j+3), each fused-multiply-added with the block scale into 8 float lanes; then the lanes are summed as
 * ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)); Q4_1 adds its minimum terms in a separate float sum. Decoding through these
 * is how to make greedy output token-identical to llama.cpp (`make ggml-parity` checks them: 0 differences). Not on
 * the decode path yet: wired in, they raised agreement on 20 ordinary Gemma prompts from 5 to 8 but, one
 * accumulator chain per row, they halved decode speed; they wait for a multi-row form and the K-quants.
 * The integer parts are exact, so any integer instructions give the same lanes.
 */
#include "quants_ggml_order.h"

#include "ggml_types.h"
#include "quants.h"
#include "quants_blocks.h"

#include <immintrin.h>

/* Lane sums: l[j] = sum over elements 4j..4j+3 of x*y, from 32 signed bytes each. */
__attribute__((target("avx2,fma"))) static inline __m256 lanes_i8(__m256i x, __m256i y) {
    const __m256i ax = _mm256_sign_epi8(x, x), sy = _mm256_sign_epi8(y, x);
    const __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
    return _mm256_cvtepi32_ps(dot);
}

/* Lane sums for unsigned x (Q4_1 nibbles) and signed y. */
__attribute__((target("avx2,fma"))) static inline __m256 lanes_u8(__m256i x, __m256i y) {
    const __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), _mm256_set1_epi16(1));
    return _mm256_cvtepi32_ps(dot);
}

/* 32 nibbles: elements 0..15 from the low nibbles, 16..31 from the high nibbles. */
__attribute__((target("avx2,fma"))) static inline __m256i nibbles(const uint8_t *qs) {
    const __m128i bytes = _mm_loadu_si128((const __m128i *)qs);
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(bytes, 4), bytes);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

/* Byte j = 0xFF if bit j of the 32-bit mask is set. */
__attribute__((target("avx2,fma"))) static inline __m256i bits_to_bytes(const uint8_t *qh) {
    uint32_t bits;
    __builtin_memcpy(&bits, qh, 4);
    const __m256i shuffle = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), shuffle);
    const __m256i select = _mm256_set1_epi64x((long long)0x7fbfdfeff7fbfdfe);
    bytes = _mm256_or_si256(bytes, select);
    return _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));
}

__attribute__((target("avx2,fma"))) static inline float hsum8(__m256 x) {
    __m128 r = _mm_add_ps(_mm256_extractf128_ps(x, 1), _mm256_castps256_ps128(x));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

__attribute__((target("avx2,fma"))) static float dot_q8_0(const block_q8_0 *x, const block_q8_0 *y, int64_t nb) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const __m256 d = _mm256_set1_ps(llm_fp16_to_fp32(x[b].d) * llm_fp16_to_fp32(y[b].d));
        const __m256 q = lanes_i8(_mm256_loadu_si256((const __m256i *)x[b].qs), _mm256_loadu_si256((const __m256i *)y[b].qs));
        acc = _mm256_fmadd_ps(d, q, acc);
    }
    return hsum8(acc);
}

__attribute__((target("avx2,fma"))) static float dot_q5_0(const block_q5_0 *x, const block_q8_0 *y, int64_t nb) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const __m256 d = _mm256_set1_ps(llm_fp16_to_fp32(x[b].d) * llm_fp16_to_fp32(y[b].d));
        __m256i qx = nibbles(x[b].qs);
        const __m256i high = _mm256_andnot_si256(bits_to_bytes(x[b].qh), _mm256_set1_epi8((char)0xF0));
        qx = _mm256_or_si256(qx, high); /* nibble - 16 where bit 4 is clear: the signed value */
        const __m256 q = lanes_i8(qx, _mm256_loadu_si256((const __m256i *)y[b].qs));
        acc = _mm256_fmadd_ps(d, q, acc);
    }
    return hsum8(acc);
}

__attribute__((target("avx2,fma"))) static float dot_q4_1(const block_q4_1 *x, const block_q8_1 *y, int64_t nb) {
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (int64_t b = 0; b < nb; b++) {
        const float d0 = llm_fp16_to_fp32(x[b].d), d1 = llm_fp16_to_fp32(y[b].d);
        const float m = llm_fp16_to_fp32(x[b].m) * llm_fp16_to_fp32(y[b].s);
        mins += m;
        const __m256 d = _mm256_mul_ps(_mm256_set1_ps(d0), _mm256_set1_ps(d1));
        const __m256 q = lanes_u8(nibbles(x[b].qs), _mm256_loadu_si256((const __m256i *)y[b].qs));
        acc = _mm256_fmadd_ps(d, q, acc);
    }
    return hsum8(acc) + mins;
}

int llm_ggml_order_matvec(uint32_t weight_type, const void *w, uint64_t w_row_bytes, int64_t n_rows, int64_t k,
                          const void *x_q, float *out) {
    static int usable = -1;
    if (usable < 0) usable = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (!usable || k % 32 != 0) return -1;
    const int64_t nb = k / 32;
    const uint8_t *row = w;
    switch (weight_type) {
    case GGML_TYPE_Q8_0:
        for (int64_t r = 0; r < n_rows; r++, row += w_row_bytes) out[r] = dot_q8_0((const block_q8_0 *)(const void *)row, x_q, nb);
        return 0;
    case GGML_TYPE_Q5_0:
        for (int64_t r = 0; r < n_rows; r++, row += w_row_bytes) out[r] = dot_q5_0((const block_q5_0 *)(const void *)row, x_q, nb);
        return 0;
    case GGML_TYPE_Q4_1:
        for (int64_t r = 0; r < n_rows; r++, row += w_row_bytes) out[r] = dot_q4_1((const block_q4_1 *)(const void *)row, x_q, nb);
        return 0;
    default:
        return -1;
    }
}
