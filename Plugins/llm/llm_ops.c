/*
 * llm_ops.c — norms, RoPE, activations and the f16 helpers of the KV cache. Plain loops the compiler vectorizes;
 * the f16 dot products use F16C/AVX2 through function-level target attributes, chosen once at run time.
 */
#include "llm_ops.h"

#include "quants.h"

#include <immintrin.h>

#include "llm_expf.h"
#include <math.h>
#include <string.h>

void llm_rmsnorm_rows(float *out, const float *x, const float *w, uint32_t rows, uint32_t n, float eps) {
    for (uint32_t r = 0; r < rows; r++) {
        const float *xr = x + (uint64_t)r * n;
        float *o = out + (uint64_t)r * n;
        /* as ggml: float squares summed in double, the mean rounded to float */
        double sum = 0;
        for (uint32_t i = 0; i < n; i++) sum += (double)(xr[i] * xr[i]);
        const float mean = (float)(sum / n);
        const float inv = 1.0f / sqrtf(mean + eps);
        for (uint32_t i = 0; i < n; i++) o[i] = (xr[i] * inv) * w[i];
    }
}

void llm_add_rows(float *x, const float *y, uint32_t rows, uint32_t n) {
    uint64_t total = (uint64_t)rows * n;
    for (uint64_t i = 0; i < total; i++) x[i] += y[i];
}

void llm_add_bias(float *x, const float *b, uint32_t rows, uint32_t n) {
    for (uint32_t r = 0; r < rows; r++)
        for (uint32_t i = 0; i < n; i++) x[(uint64_t)r * n + i] += b[i];
}

void llm_scale(float *x, uint64_t n, float factor) {
    for (uint64_t i = 0; i < n; i++) x[i] *= factor;
}

/* GELU (tanh form) of every f16 value, rounded to f16, as llama.cpp's CPU backend computes it: its GELU rounds
 * the input to f16 and looks the result up in such a table. Matching it keeps greedy decoding token-identical. */
static float gelu_table[1 << 16];

static float gelu(float x) {
    const float c = 0.7978845608028654f; /* sqrt(2 / pi) */
    /* ggml's build contracts 1 + a*x*x into one fused multiply-add; one table entry (x = -1.999) depends on it */
    return 0.5f * x * (1.0f + tanhf(c * x * fmaf(0.044715f * x, x, 1.0f)));
}

void llm_ops_init(void) {
    static int done = 0;
    if (done) return;
    for (uint32_t h = 0; h < (1u << 16); h++) gelu_table[h] = llm_fp16_to_fp32(llm_fp32_to_fp16(gelu(llm_fp16_to_fp32((uint16_t)h))));
    done = 1;
}

/* SiLU(gate) * up 16 at a time as ggml_vec_swiglu_f32 (x / (1 + ggml_v_expf(-x))); returns how many it did. */
static LLM_AVX512 uint64_t swiglu_avx512(float *gate, const float *up, uint64_t n) {
    uint64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 x = _mm512_loadu_ps(gate + i);
        const __m512 e = llm_expf16(_mm512_sub_ps(_mm512_setzero_ps(), x));
        const __m512 silu = _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
        _mm512_storeu_ps(gate + i, _mm512_mul_ps(silu, _mm512_loadu_ps(up + i)));
    }
    return i;
}

void llm_glu(float *gate, const float *up, uint64_t n, llm_activation activation) {
    if (activation == LLM_ACT_SILU) {
        static int avx512 = -1;
        if (avx512 < 0) avx512 = llm_has_avx512();
        for (uint64_t i = avx512 ? swiglu_avx512(gate, up, n) : 0; i < n; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        float x = gate[i];
        float g = x <= -10.0f ? 0.0f : x >= 10.0f ? x : gelu_table[llm_fp32_to_fp16(x)];
        gate[i] = g * up[i];
    }
}

void llm_rope_tables(float *cos_table, float *sin_table, const uint32_t *pos, uint32_t n_tokens, uint32_t n_rot, float base) {
    /* as ggml_rope_cache_init: theta_i = pos * scale^i by repeated multiplication, scale = base^(-2 / n_rot) */
    const float scale = powf(base, -2.0f / (float)n_rot);
    uint32_t half = n_rot / 2;
    for (uint32_t t = 0; t < n_tokens; t++) {
        float theta = (float)pos[t];
        for (uint32_t i = 0; i < half; i++) {
            cos_table[(uint64_t)t * half + i] = cosf(theta);
            sin_table[(uint64_t)t * half + i] = sinf(theta);
            theta *= scale;
        }
    }
}

void llm_rope(float *x, const float *cos_table, const float *sin_table, uint32_t n_tokens, uint32_t n_heads,
              uint32_t head_dim, uint32_t n_rot, int neox) {
    uint32_t half = n_rot / 2;
    for (uint32_t t = 0; t < n_tokens; t++) {
        const float *c = cos_table + (uint64_t)t * half, *s = sin_table + (uint64_t)t * half;
        for (uint32_t h = 0; h < n_heads; h++) {
            float *v = x + ((uint64_t)t * n_heads + h) * head_dim;
            for (uint32_t i = 0; i < half; i++) {
                uint32_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
                float x0 = v[a], x1 = v[b];
                v[a] = fmaf(x0, c[i], -(x1 * s[i]));
                v[b] = fmaf(x0, s[i], x1 * c[i]);
            }
        }
    }
}

/* ---- f16 helpers: F16C path and portable path ----------------------------------------------------------------- */

/* One 8-wide accumulator: the order of additions is part of the numerics (greedy decoding
 * follows llama.cpp's more often with it than with split accumulators). */
__attribute__((target("avx2,fma,f16c"))) static float dot_f32_f16_f16c(const float *q, const uint16_t *k, uint32_t n) {
    __m256 acc = _mm256_setzero_ps();
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8)
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + i))), acc);
    __m128 sum = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
    sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
    float total = _mm_cvtss_f32(sum);
    for (; i < n; i++) total += q[i] * llm_fp16_to_fp32(k[i]);
    return total;
}

/* Four dot products of q with four f16 rows at once: each has exactly the additions of dot_f32_f16_f16c (one 8-wide
 * accumulator, same reduction), but the four chains are independent, so the FMA latency is hidden. */
__attribute__((target("avx2,fma,f16c"))) static void dot4_f32_f16_f16c(const float *q, const uint16_t *const k[4], uint32_t n,
                                                                       float out[4]) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 qv = _mm256_loadu_ps(q + i);
        a0 = _mm256_fmadd_ps(qv, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k[0] + i))), a0);
        a1 = _mm256_fmadd_ps(qv, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k[1] + i))), a1);
        a2 = _mm256_fmadd_ps(qv, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k[2] + i))), a2);
        a3 = _mm256_fmadd_ps(qv, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k[3] + i))), a3);
    }
    __m256 acc[4] = {a0, a1, a2, a3};
    for (int r = 0; r < 4; r++) {
        __m128 sum = _mm_add_ps(_mm256_castps256_ps128(acc[r]), _mm256_extractf128_ps(acc[r], 1));
        sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
        sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
        float total = _mm_cvtss_f32(sum);
        for (uint32_t j = i; j < n; j++) total += q[j] * llm_fp16_to_fp32(k[r][j]);
        out[r] = total;
    }
}

__attribute__((target("avx2,f16c"))) static void round_f16_f16c(float *x, uint32_t n) {
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT)));
    for (; i < n; i++) x[i] = llm_fp16_to_fp32(llm_fp32_to_fp16(x[i]));
}

__attribute__((target("avx2,fma,f16c"))) static void axpy_f16_f16c(float *out, float a, const uint16_t *v, uint32_t n) {
    __m256 av = _mm256_set1_ps(a);
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 vv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + i)));
        _mm256_storeu_ps(out + i, _mm256_fmadd_ps(av, vv, _mm256_loadu_ps(out + i)));
    }
    for (; i < n; i++) out[i] += a * llm_fp16_to_fp32(v[i]);
}

__attribute__((target("avx2,f16c"))) static void to_f16_f16c(uint16_t *out, const float *x, uint32_t n) {
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) out[i] = llm_fp32_to_fp16(x[i]);
}

static int has_f16c(void) {
    static int cached = -1;
    if (cached < 0) cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma");
    return cached;
}

float llm_dot_f32_f16(const float *q, const uint16_t *k, uint32_t n) {
    if (has_f16c()) return dot_f32_f16_f16c(q, k, n);
    float total = 0;
    for (uint32_t i = 0; i < n; i++) total += q[i] * llm_fp16_to_fp32(k[i]);
    return total;
}

void llm_dot4_f32_f16(const float *q, const uint16_t *const k[4], uint32_t n, float out[4]) {
    if (has_f16c()) {
        dot4_f32_f16_f16c(q, k, n, out);
        return;
    }
    for (int r = 0; r < 4; r++) out[r] = llm_dot_f32_f16(q, k[r], n);
}

void llm_round_f16(float *x, uint32_t n) {
    if (has_f16c()) {
        round_f16_f16c(x, n);
        return;
    }
    for (uint32_t i = 0; i < n; i++) x[i] = llm_fp16_to_fp32(llm_fp32_to_fp16(x[i]));
}

void llm_axpy_f16(float *out, float a, const uint16_t *v, uint32_t n) {
    if (has_f16c()) {
        axpy_f16_f16c(out, a, v, n);
        return;
    }
    for (uint32_t i = 0; i < n; i++) out[i] += a * llm_fp16_to_fp32(v[i]);
}

void llm_f32_to_f16_row(uint16_t *out, const float *x, uint32_t n) {
    if (has_f16c()) {
        to_f16_f16c(out, x, n);
        return;
    }
    for (uint32_t i = 0; i < n; i++) out[i] = llm_fp32_to_fp16(x[i]);
}
