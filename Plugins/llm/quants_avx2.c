#include "quants_kernels.h"
const llm_kernel_table llm_kernels_avx2 = {0};
