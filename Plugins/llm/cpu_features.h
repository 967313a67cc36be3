/*
 * cpu_features.h — which x86 instruction-set level the quantized kernels run on.
 *
 * Levels, each a superset of scalar's results up to float summation order:
 *   scalar      portable C, the reference
 *   avx2        AVX2 + FMA + F16C, int8 products through vpmaddubsw
 *   avxvnni     the avx2 kernels with AVX-VNNI's 256-bit vpdpbusd (Alder Lake and later)
 *   avx512      AVX-512 F/BW/VL, 64 int8 lanes per instruction
 *   avx512vnni  the avx512 kernels with AVX-512 VNNI's vpdpbusd
 * PLEXUS_CPU_ISA=<name> forces a level for tests and benchmarks; a level this CPU lacks falls back to the next lower
 * one it has, so a forced name never runs an instruction the CPU cannot execute.
 */
#ifndef PLEXUS_LLM_CPU_FEATURES_H
#define PLEXUS_LLM_CPU_FEATURES_H

/// Instruction-set levels in the order the fallback walks (down).
typedef enum llm_isa {
    LLM_ISA_SCALAR = 0,
    LLM_ISA_AVX2,
    LLM_ISA_AVXVNNI,
    LLM_ISA_AVX512,
    LLM_ISA_AVX512VNNI,
    LLM_ISA_COUNT
} llm_isa;

/// 1 when this CPU and OS can run kernels of `isa` (scalar always), else 0.
int llm_cpu_supports(llm_isa isa);

/// The level to use when `override` names one ("scalar", "avx2", "avxvnni", "avx512", "avx512vnni"): that level,
/// or the next lower one this CPU supports. NULL, "" or an unknown name gives the highest supported level.
llm_isa llm_cpu_choose_isa(const char *override);

/// llm_cpu_choose_isa(getenv("PLEXUS_CPU_ISA")): the level the default kernels use.
llm_isa llm_cpu_isa(void);

/// Lower-case name of a level ("avx512vnni"), or "unknown".
const char *llm_isa_name(llm_isa isa);

#endif
