/*
 * ggml_types.h — tensor element types of GGUF files (ids as in ggml.h, fixed by the format) and their block
 * layout: a row of n elements of a quantized type is n / block_size blocks of block_bytes each.
 */
#ifndef PLEXUS_GGML_TYPES_H
#define PLEXUS_GGML_TYPES_H

#include <stdint.h>

/** Tensor types by their GGUF id. Only the ones with block_size > 0 in ggml_type_traits are supported. */
typedef enum ggml_type {
    GGML_TYPE_F32 = 0,
    GGML_TYPE_F16 = 1,
    GGML_TYPE_Q4_0 = 2,
    GGML_TYPE_Q4_1 = 3,
    GGML_TYPE_Q5_0 = 6,
    GGML_TYPE_Q5_1 = 7,
    GGML_TYPE_Q8_0 = 8,
    GGML_TYPE_Q8_1 = 9,
    GGML_TYPE_Q2_K = 10,
    GGML_TYPE_Q3_K = 11,
    GGML_TYPE_Q4_K = 12,
    GGML_TYPE_Q5_K = 13,
    GGML_TYPE_Q6_K = 14,
    GGML_TYPE_Q8_K = 15,
    GGML_TYPE_I8 = 24,
    GGML_TYPE_I16 = 25,
    GGML_TYPE_I32 = 26,
    GGML_TYPE_I64 = 27,
    GGML_TYPE_F64 = 28,
    GGML_TYPE_BF16 = 30,
    GGML_TYPE_COUNT = 40 /* bound for lookup tables; ids >= this are unknown */
} ggml_type;

/** K-quant super-block size. */
#define QK_K 256

/** Layout of one type. block_size == 0 marks an id this build does not know. */
typedef struct ggml_type_traits {
    const char *name;     /* "Q4_K" */
    uint32_t block_size;  /* elements per block (1 for plain types) */
    uint32_t block_bytes; /* bytes per block */
    int computable;       /* 1 if the LLM plugin has dequantize/dot kernels for it */
} ggml_type_traits;

/** Traits of `type`, or NULL for an unknown id. */
const ggml_type_traits *ggml_traits(uint32_t type);

/** Bytes of a row of n elements; 0 if the type is unknown or n is not a multiple of its block size. */
uint64_t ggml_row_bytes(uint32_t type, uint64_t n);

#endif
