/*
 * gguf.h — zero-copy reader of GGUF v2/v3 model files (contract: Specs/gguf-reader.md).
 *
 * The host maps the file; gguf_open() checks every byte it reads against the mapped range and builds a small index
 * (keys, tensors, string-array offsets). Strings, arrays and tensor data stay pointers into the mapping: the mapping
 * must outlive the gguf_file. A malformed, truncated or hostile file yields an error code and one specific message,
 * never a crash or an out-of-bounds read.
 */
#ifndef PLEXUS_GGUF_H
#define PLEXUS_GGUF_H

#include <stddef.h>
#include <stdint.h>

/** Status of every gguf_ function: 0 on success, else one of these. */
typedef enum gguf_status {
    GGUF_OK = 0,
    GGUF_ERR_ARGUMENT,  /* NULL data or out pointer, or a file larger than the address space */
    GGUF_ERR_TRUNCATED, /* the file ends before a field, a counted run of elements, or a tensor's data */
    GGUF_ERR_MAGIC,     /* the first 4 bytes are not "GGUF" */
    GGUF_ERR_VERSION,   /* version other than 2 or 3 (v1, future, or a big-endian file) */
    GGUF_ERR_LIMIT,     /* a length or count above the reader's caps (GGUF_MAX_*), or an empty key or name */
    GGUF_ERR_TYPE,      /* unknown value or tensor type, nested array, bool not 0/1, or a key of the wrong type */
    GGUF_ERR_DUPLICATE, /* two keys or two tensors with the same name */
    GGUF_ERR_ALIGNMENT, /* general.alignment is 0 or not a power of two */
    GGUF_ERR_TENSOR,    /* bad tensor info: n_dims, ne, size overflow, misaligned offset, overlapping data */
    GGUF_ERR_NOMEM,     /* an index allocation failed */
    GGUF_ERR_NOT_FOUND, /* getters: no such key */
    GGUF_ERR_RANGE,     /* getters: the value does not fit the requested type, or the element index is past the end */
} gguf_status;

/* Caps on what a file may declare (why each value: Specs/gguf-reader.md, "Limits"). */
#define GGUF_MAX_KEY_BYTES 65535u                  /* the format's own cap on keys */
#define GGUF_MAX_STRING_BYTES (64ull << 20)        /* one string value: a full tokenizer.json fits */
#define GGUF_MAX_TENSOR_NAME_BYTES 256u            /* ggml allows 63; diffusion GGUFs carry longer names */
#define GGUF_MAX_KV_COUNT (1ull << 20)             /* real files have about 40 */
#define GGUF_MAX_TENSOR_COUNT (1ull << 20)         /* real files have hundreds to a few thousand */
#define GGUF_MAX_STRING_ARRAY_COUNT (1ull << 24)   /* 8-byte index entry each: at most 128 MiB of index */
#define GGUF_MAX_DIMS 4u

/** Metadata value types by their GGUF id (fixed by the format). */
typedef enum gguf_value_type {
    GGUF_TYPE_UINT8 = 0,
    GGUF_TYPE_INT8 = 1,
    GGUF_TYPE_UINT16 = 2,
    GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4,
    GGUF_TYPE_INT32 = 5,
    GGUF_TYPE_FLOAT32 = 6,
    GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8,
    GGUF_TYPE_ARRAY = 9,
    GGUF_TYPE_UINT64 = 10,
    GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12,
    GGUF_TYPE_COUNT
} gguf_value_type;

/** A string inside the mapping: `len` bytes at `ptr`, NOT NUL-terminated, not checked for UTF-8. */
typedef struct gguf_string {
    const char *ptr;
    uint64_t len;
} gguf_string;

/** An array value. Elements are little-endian and unaligned: read them with the gguf_array_* getters. */
typedef struct gguf_array {
    uint32_t type;                 /* element gguf_value_type; never GGUF_TYPE_ARRAY (nested arrays are refused) */
    uint64_t count;                /* elements */
    const uint8_t *data;           /* first element, inside the mapping; strings are u64 length + bytes each */
    uint64_t nbytes;               /* bytes of all elements */
    const uint64_t *string_starts; /* STRING arrays only, else NULL: [count] byte offset of element i from data.
                                      Owned by the gguf_file. */
} gguf_array;

/** A decoded value; which member is valid depends on its gguf_value_type. */
typedef union gguf_value {
    uint64_t u64;    /* UINT8, UINT16, UINT32, UINT64, BOOL (0 or 1) */
    int64_t i64;     /* INT8, INT16, INT32, INT64 */
    double f64;      /* FLOAT32 (exact), FLOAT64 */
    gguf_string str; /* STRING */
    gguf_array arr;  /* ARRAY */
} gguf_value;

/** One metadata key-value pair, its value decoded at open. */
typedef struct gguf_kv {
    gguf_string key;
    uint32_t type; /* gguf_value_type: selects the member of `value` */
    gguf_value value;
} gguf_kv;

/** One tensor. Its data lies inside the mapping and inside no other tensor's data. */
typedef struct gguf_tensor {
    gguf_string name;
    uint32_t type;     /* ggml_type (ggml_types.h); always one ggml_traits() knows */
    uint32_t n_dims;   /* 1..4 */
    uint64_t ne[4];    /* elements per dimension, ne[0] fastest-varying (the row length); unused dims are 1 */
    uint64_t offset;   /* bytes from the start of the data section; a multiple of the alignment */
    uint64_t nbytes;   /* ggml_row_bytes(type, ne[0]) * ne[1] * ne[2] * ne[3] */
    const uint8_t *data; /* [nbytes] inside the mapping: file start + data offset + offset */
} gguf_tensor;

/** An opened file: the index over one mapping. */
typedef struct gguf_file gguf_file;

/**
 * Parses and checks the GGUF file in data[0, size). On success stores a new gguf_file in *out (free it with
 * gguf_close) and returns 0; the caller keeps `data` mapped and unchanged until then. On failure returns a
 * gguf_status, stores NULL in *out and, if error_capacity > 0, writes one NUL-terminated message naming the key or
 * tensor, the file offset and the bound that failed (truncated to fit). `error` may be NULL when the capacity is 0.
 */
int gguf_open(const uint8_t *data, uint64_t size, gguf_file **out, char *error, size_t error_capacity);

/** Frees the index. NULL is allowed. Pointers obtained from the file die with it. */
void gguf_close(gguf_file *file);

/** Name of a status ("GGUF_ERR_TRUNCATED"), or "GGUF_ERR_?" for an unknown code. Static storage. */
const char *gguf_status_name(int status);

/** Name of a value type ("UINT32"), or "?" for an unknown id. Static storage. */
const char *gguf_value_type_name(uint32_t type);

/** Format version: 2 or 3. */
uint32_t gguf_version(const gguf_file *file);

/** Alignment of the data section and of every tensor offset, in bytes (general.alignment, default 32). */
uint32_t gguf_alignment(const gguf_file *file);

/** File offset of the data section: the end of the tensor infos, rounded up to the alignment. */
uint64_t gguf_data_offset(const gguf_file *file);

/** Number of key-value pairs. */
uint64_t gguf_kv_count(const gguf_file *file);

/** The i-th key-value pair in file order, or NULL if i is out of range. Owned by the file. */
const gguf_kv *gguf_kv_at(const gguf_file *file, uint64_t i);

/** The pair with key `key` (NUL-terminated), or NULL. O(log n). Owned by the file. */
const gguf_kv *gguf_find_key(const gguf_file *file, const char *key);

/*
 * Typed getters by key. Each returns 0 and stores the value, GGUF_ERR_NOT_FOUND if the key is absent, GGUF_ERR_TYPE
 * if the stored type does not convert, GGUF_ERR_RANGE if the value does not fit. *out is untouched on failure.
 * Integer getters accept any of the 8 integer types whose value fits (never BOOL or floats); float getters accept
 * FLOAT32 and FLOAT64 (f32 refuses a finite FLOAT64 beyond FLT_MAX); bool, string and array accept only their type.
 */
int gguf_get_u32(const gguf_file *file, const char *key, uint32_t *out);
int gguf_get_i32(const gguf_file *file, const char *key, int32_t *out);
int gguf_get_u64(const gguf_file *file, const char *key, uint64_t *out);
int gguf_get_i64(const gguf_file *file, const char *key, int64_t *out);
int gguf_get_f32(const gguf_file *file, const char *key, float *out);
int gguf_get_f64(const gguf_file *file, const char *key, double *out);
int gguf_get_bool(const gguf_file *file, const char *key, int *out);
int gguf_get_string(const gguf_file *file, const char *key, gguf_string *out);
int gguf_get_array(const gguf_file *file, const char *key, gguf_array *out);

/*
 * Element i of an array, O(1), with the same conversion rules as the getters above. GGUF_ERR_RANGE if i >= count
 * or the value does not fit, GGUF_ERR_TYPE if the element type does not convert.
 */
int gguf_array_u32(const gguf_array *array, uint64_t i, uint32_t *out);
int gguf_array_i32(const gguf_array *array, uint64_t i, int32_t *out);
int gguf_array_u64(const gguf_array *array, uint64_t i, uint64_t *out);
int gguf_array_i64(const gguf_array *array, uint64_t i, int64_t *out);
int gguf_array_f32(const gguf_array *array, uint64_t i, float *out);
int gguf_array_f64(const gguf_array *array, uint64_t i, double *out);
int gguf_array_bool(const gguf_array *array, uint64_t i, int *out);
int gguf_array_string(const gguf_array *array, uint64_t i, gguf_string *out);

/** Number of tensors. */
uint64_t gguf_tensor_count(const gguf_file *file);

/** The i-th tensor in file order, or NULL if i is out of range. Owned by the file. */
const gguf_tensor *gguf_tensor_at(const gguf_file *file, uint64_t i);

/** The tensor named `name` (NUL-terminated), or NULL. O(log n). Owned by the file. */
const gguf_tensor *gguf_find_tensor(const gguf_file *file, const char *name);

#endif
