/*
 * llm_expf.h — ggml's vectorized exp (ggml_v_expf in ggml-cpu/vec.h, AVX-512 form), which llama.cpp's softmax and
 * SiLU use instead of libm's expf. Results differ from expf in the last bit for some inputs, and greedy decoding
 * only matches llama.cpp's token for token with the same bits. Internal to the plugin; x86-64 only.
 */
#ifndef PLEXUS_LLM_EXPF_H
#define PLEXUS_LLM_EXPF_H

#include <immintrin.h>
#include <math.h>

/* The AVX-512 subset these functions need; callers check it at run time (llm_has_avx512). */
#define LLM_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))

/* ggml_v_expf (ggml-cpu/vec.h), operation for operation. */
static inline LLM_AVX512 __m512 llm_expf16(__m512 x) {
    const __m512 r = _mm512_set1_ps(0x1.8p23f);
    const __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), r);
    const __m512 n = _mm512_sub_ps(z, r);
    const __m512 b = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f), _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e4p-1f), x));
    const __mmask16 d = _mm512_cmp_ps_mask(_mm512_abs_ps(n), _mm512_set1_ps(192), _CMP_GT_OQ);
    const __m512 u = _mm512_mul_ps(b, b);
    const __m512 j = _mm512_fmadd_ps(
        _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b, _mm512_set1_ps(0x1.573e2ep-5f)), u,
                        _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b, _mm512_set1_ps(0x1.fffdb6p-2f))),
        u, _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, _mm512_set1_ps(1.0F)));
    const __m512 res = _mm512_scalef_ps(j, n);
    if (_mm512_kortestz(d, d)) return res;
    const __m512 alt = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(n, _mm512_setzero_ps(), _CMP_LE_OQ), _mm512_set1_ps(INFINITY),
                                            _mm512_setzero_ps());
    return _mm512_mask_blend_ps(d, res, alt);
}

/* 1 when the CPU has the AVX-512 subset of LLM_AVX512. */
static inline int llm_has_avx512(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma");
}

#endif
