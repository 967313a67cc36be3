#include "cpu_features.h"

#include <stdlib.h>
#include <string.h>

static const char *const isa_names[LLM_ISA_COUNT] = {
    [LLM_ISA_SCALAR] = "scalar",
    [LLM_ISA_AVX2] = "avx2",
    [LLM_ISA_AVXVNNI] = "avxvnni",
    [LLM_ISA_AVX512] = "avx512",
    [LLM_ISA_AVX512VNNI] = "avx512vnni",
};

const char *llm_isa_name(llm_isa isa) {
    return (unsigned)isa < LLM_ISA_COUNT ? isa_names[isa] : "unknown";
}

#if defined(__x86_64__) || defined(__i386__)
/* __builtin_cpu_supports also checks that the OS saves the wider registers (XCR0), so a "1" is safe to execute. */
static int has_avx2(void) {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}
static int has_avx512(void) {
    return has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
}

int llm_cpu_supports(llm_isa isa) {
    __builtin_cpu_init();
    switch (isa) {
    case LLM_ISA_SCALAR: return 1;
    case LLM_ISA_AVX2: return has_avx2();
    case LLM_ISA_AVXVNNI: return has_avx2() && __builtin_cpu_supports("avxvnni");
    case LLM_ISA_AVX512: return has_avx512();
    case LLM_ISA_AVX512VNNI: return has_avx512() && __builtin_cpu_supports("avx512vnni");
    default: return 0;
    }
}
#else
int llm_cpu_supports(llm_isa isa) {
    return isa == LLM_ISA_SCALAR;
}
#endif

llm_isa llm_cpu_choose_isa(const char *override) {
    int want = LLM_ISA_COUNT - 1;
    if (override != NULL) {
        for (int i = 0; i < LLM_ISA_COUNT; i++)
            if (strcmp(override, isa_names[i]) == 0) want = i;
    }
    while (want > LLM_ISA_SCALAR && !llm_cpu_supports((llm_isa)want)) want--;
    return (llm_isa)want;
}

llm_isa llm_cpu_isa(void) {
    return llm_cpu_choose_isa(getenv("PLEXUS_CPU_ISA"));
}
