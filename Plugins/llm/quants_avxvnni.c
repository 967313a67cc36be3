/*
 * quants_avxvnni.c — the 256-bit kernels of quants_avx2.c built again for CPUs with AVX-VNNI (Alder Lake, Zen 5):
 * the 32-weight block types multiply int8 with vpdpbusd, one instruction instead of vpmaddubsw + vpmaddwd + add.
 */
#define QX_VNNI 1
#define QX_TARGET "avx2,fma,f16c,avxvnni"
#define QX_TABLE llm_kernels_avxvnni
#include "quants_avx2.c"
