#include "ggml_types.h"

#include <stddef.h>

/* Block layouts from ggml's quantization formats (ggml-common.h): the sizes are part of the GGUF format. */
static const ggml_type_traits traits[GGML_TYPE_COUNT] = {
    [GGML_TYPE_F32] = {"F32", 1, 4, 1},
    [GGML_TYPE_F16] = {"F16", 1, 2, 1},
    [GGML_TYPE_Q4_0] = {"Q4_0", 32, 2 + 16, 1},
    [GGML_TYPE_Q4_1] = {"Q4_1", 32, 2 + 2 + 16, 1},
    [GGML_TYPE_Q5_0] = {"Q5_0", 32, 2 + 4 + 16, 1},
    [GGML_TYPE_Q5_1] = {"Q5_1", 32, 2 + 2 + 4 + 16, 1},
    [GGML_TYPE_Q8_0] = {"Q8_0", 32, 2 + 32, 1},
    [GGML_TYPE_Q8_1] = {"Q8_1", 32, 2 + 2 + 32, 0}, /* fp16 d, fp16 s, 32 x int8 (ggml's current layout) */
    [GGML_TYPE_Q2_K] = {"Q2_K", QK_K, QK_K / 16 + QK_K / 4 + 2 + 2, 0},
    [GGML_TYPE_Q3_K] = {"Q3_K", QK_K, QK_K / 8 + QK_K / 4 + 12 + 2, 0},
    [GGML_TYPE_Q4_K] = {"Q4_K", QK_K, 2 + 2 + 12 + QK_K / 2, 1},
    [GGML_TYPE_Q5_K] = {"Q5_K", QK_K, 2 + 2 + 12 + QK_K / 8 + QK_K / 2, 1},
    [GGML_TYPE_Q6_K] = {"Q6_K", QK_K, QK_K / 2 + QK_K / 4 + QK_K / 16 + 2, 1},
    [GGML_TYPE_Q8_K] = {"Q8_K", QK_K, 4 + QK_K + QK_K / 16 * 2, 0},
    [GGML_TYPE_I8] = {"I8", 1, 1, 0},
    [GGML_TYPE_I16] = {"I16", 1, 2, 0},
    [GGML_TYPE_I32] = {"I32", 1, 4, 0},
    [GGML_TYPE_I64] = {"I64", 1, 8, 0},
    [GGML_TYPE_F64] = {"F64", 1, 8, 0},
    [GGML_TYPE_BF16] = {"BF16", 1, 2, 1},
};

const ggml_type_traits *ggml_traits(uint32_t type) {
    if (type >= GGML_TYPE_COUNT || traits[type].block_size == 0) return NULL;
    return &traits[type];
}

uint64_t ggml_row_bytes(uint32_t type, uint64_t n) {
    const ggml_type_traits *t = ggml_traits(type);
    if (t == NULL || n % t->block_size != 0) return 0;
    uint64_t blocks = n / t->block_size;
    if (blocks > UINT64_MAX / t->block_bytes) return 0; /* a row that large cannot exist: callers treat 0 as invalid */
    return blocks * t->block_bytes;
}
