#include "quants_kernels.h"
const llm_kernel_table llm_kernels_avx512vnni = {0};
