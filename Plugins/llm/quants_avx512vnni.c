/*
 * quants_avx512vnni.c — the 512-bit kernels of quants_avx512.c built again for CPUs with AVX-512 VNNI (Cascade
 * Lake, Ice Lake, Zen 4 and later): int8 products through vpdpbusd, scaled i16 sums through vpdpwssd.
 */
#define QX_VNNI 1
#define QX_TARGET "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"
#define QX_TABLE llm_kernels_avx512vnni
#include "quants_avx512.c"
