/*
 * gguf.c — gguf_open: one forward pass over the mapping (header, key-value pairs, tensor infos), then the checks that
 * need the whole picture (duplicate names, data ranges, overlaps). Format facts, limits and error policy:
 * Specs/gguf-reader.md.
 *
 * Safety rule: no byte is read before need() has checked it lies inside [pos, size), and every product or sum of
 * file-controlled numbers is checked against its bound by division first, so nothing wraps.
 */
#include "gguf.h"

#include "ggml_types.h"
#include "gguf_wire.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Smallest encodings, used to bound a declared count by the bytes left before anything is allocated. A key-value
 * pair: key length (8) + 1-byte key + type (4) + 1-byte value. A tensor info: name length (8) + 1-byte name +
 * n_dims (4) + one dimension (8) + type (4) + offset (8). */
#define MIN_KV_BYTES 14u
#define MIN_TENSOR_INFO_BYTES 33u
#define DEFAULT_ALIGNMENT 32u
#define ALIGNMENT_KEY "general.alignment"

struct gguf_file {
    const uint8_t *data; /* [size] the caller's mapping */
    uint64_t size;
    uint32_t version;
    uint32_t alignment;
    uint64_t data_offset;
    uint64_t n_kv;
    gguf_kv *kvs;                       /* [n_kv] file order */
    const gguf_kv **kv_by_key;          /* [n_kv] sorted by key bytes, for binary search */
    uint64_t n_tensors;
    gguf_tensor *tensors;               /* [n_tensors] file order */
    const gguf_tensor **tensor_by_name; /* [n_tensors] sorted by name bytes */
};

/* A cursor over the mapping, plus what is being read, which prefixes the one error message. */
typedef struct parser {
    const uint8_t *data;
    uint64_t size;
    uint64_t pos;    /* next byte to read; pos <= size always */
    char where[160]; /* e.g. "key 'llama.block_count'"; empty for the header */
    char *error;
    size_t error_capacity;
} parser;

/* ---------------------------------------------------------------------------------------------------------------- */
/* Errors */

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* Writes "<where>: <message>" into the caller's buffer and returns status, so a check reads `return fail(...)`. */
PRINTF_LIKE(3, 4) static int fail(parser *p, int status, const char *fmt, ...) {
    if (p->error_capacity == 0) return status;
    int n = p->where[0] ? snprintf(p->error, p->error_capacity, "%s: ", p->where) : 0;
    if (n < 0) n = 0;
    if ((size_t)n < p->error_capacity) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->error + n, p->error_capacity - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return status;
}

/* Copies a file string into dst as printable ASCII ('?' for other bytes), cut with "..." past 64 bytes: names in
 * messages come from the file and may be anything. */
static const char *printable(char dst[72], gguf_string s) {
    uint64_t n = s.len > 64 ? 64 : s.len;
    for (uint64_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    strcpy(dst + n, s.len > 64 ? "..." : "");
    return dst;
}

PRINTF_LIKE(2, 3) static void set_where(parser *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->where, sizeof p->where, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Bounded reads */

static uint64_t left(const parser *p) { return p->size - p->pos; }

static int need(parser *p, uint64_t n, const char *what) {
    if (n <= left(p)) return GGUF_OK;
    return fail(p, GGUF_ERR_TRUNCATED, "%s at offset %" PRIu64 " needs %" PRIu64 " bytes, the file has %" PRIu64
                " left", what, p->pos, n, left(p));
}

static int read_u32(parser *p, uint32_t *out, const char *what) {
    int rc = need(p, 4, what);
    if (rc) return rc;
    *out = gguf_load_u32(p->data + p->pos);
    p->pos += 4;
    return GGUF_OK;
}

static int read_u64(parser *p, uint64_t *out, const char *what) {
    int rc = need(p, 8, what);
    if (rc) return rc;
    *out = gguf_load_u64(p->data + p->pos);
    p->pos += 8;
    return GGUF_OK;
}

/* A length-prefixed string of at most max bytes; out points into the mapping. */
static int read_string(parser *p, gguf_string *out, uint64_t max, const char *what) {
    uint64_t at = p->pos, len;
    int rc = read_u64(p, &len, what);
    if (rc) return rc;
    if (len > max)
        return fail(p, GGUF_ERR_LIMIT, "%s length %" PRIu64 " at offset %" PRIu64 " exceeds the limit of %" PRIu64
                    " bytes", what, len, at, max);
    if ((rc = need(p, len, what))) return rc;
    out->ptr = (const char *)p->data + p->pos;
    out->len = len;
    p->pos += len;
    return GGUF_OK;
}

static int compare_strings(gguf_string a, gguf_string b) {
    uint64_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, (size_t)n) : 0;
    if (c) return c;
    return (a.len > b.len) - (a.len < b.len);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Header */

static int parse_header(parser *p, gguf_file *f, uint64_t *n_kv, uint64_t *n_tensors) {
    int rc = need(p, 4, "magic");
    if (rc) return rc;
    const uint8_t *m = p->data;
    if (memcmp(m, "GGUF", 4) != 0)
        return fail(p, GGUF_ERR_MAGIC, "not a GGUF file: magic bytes %02x %02x %02x %02x, expected 47 47 55 46 "
                    "(\"GGUF\")", m[0], m[1], m[2], m[3]);
    p->pos = 4;
    if ((rc = read_u32(p, &f->version, "version"))) return rc;
    /* A big-endian file stores 3 as 03 00 00 00 read backwards: the low half is zero. */
    if (f->version != 0 && (f->version & 0xffffu) == 0)
        return fail(p, GGUF_ERR_VERSION, "version 0x%08" PRIx32 " looks byte-swapped: big-endian GGUF files are "
                    "not supported", f->version);
    if (f->version == 1)
        return fail(p, GGUF_ERR_VERSION, "GGUF version 1 (32-bit counts) is not supported: convert the file to v3");
    if (f->version != 2 && f->version != 3)
        return fail(p, GGUF_ERR_VERSION, "unsupported GGUF version %" PRIu32 " (this reader reads 2 and 3)",
                    f->version);
    if ((rc = read_u64(p, n_tensors, "tensor count")) || (rc = read_u64(p, n_kv, "key-value count"))) return rc;
    if (*n_tensors > GGUF_MAX_TENSOR_COUNT)
        return fail(p, GGUF_ERR_LIMIT, "tensor count %" PRIu64 " exceeds the limit of %llu", *n_tensors,
                    GGUF_MAX_TENSOR_COUNT);
    if (*n_kv > GGUF_MAX_KV_COUNT)
        return fail(p, GGUF_ERR_LIMIT, "key-value count %" PRIu64 " exceeds the limit of %llu", *n_kv,
                    GGUF_MAX_KV_COUNT);
    /* Both counts are capped at 2^20, so this sum cannot wrap. */
    uint64_t least = *n_kv * MIN_KV_BYTES + *n_tensors * MIN_TENSOR_INFO_BYTES;
    if (least > left(p))
        return fail(p, GGUF_ERR_TRUNCATED, "header declares %" PRIu64 " key-value pairs and %" PRIu64 " tensors, "
                    "at least %" PRIu64 " bytes, but the file has %" PRIu64 " left after the header", *n_kv,
                    *n_tensors, least, left(p));
    return GGUF_OK;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Key-value pairs */

static int parse_string_array(parser *p, gguf_array *a) {
    if (a->count > GGUF_MAX_STRING_ARRAY_COUNT)
        return fail(p, GGUF_ERR_LIMIT, "array of %" PRIu64 " strings exceeds the limit of %llu", a->count,
                    GGUF_MAX_STRING_ARRAY_COUNT);
    if (a->count > left(p) / 8)
        return fail(p, GGUF_ERR_TRUNCATED, "array of %" PRIu64 " strings at offset %" PRIu64 " needs at least 8 "
                    "bytes each, the file has %" PRIu64 " left", a->count, p->pos, left(p));
    if (a->count == 0) return GGUF_OK;
    uint64_t *starts = malloc((size_t)a->count * sizeof *starts);
    if (starts == NULL) return fail(p, GGUF_ERR_NOMEM, "no memory for the index of %" PRIu64 " strings", a->count);
    a->string_starts = starts; /* owned by the kv from here on, so gguf_close frees it on any later failure */
    uint64_t start = p->pos;
    for (uint64_t i = 0; i < a->count; i++) {
        starts[i] = p->pos - start;
        if (left(p) < 8)
            return fail(p, GGUF_ERR_TRUNCATED, "array element %" PRIu64 ": string length at offset %" PRIu64
                        " needs 8 bytes, the file has %" PRIu64 " left", i, p->pos, left(p));
        uint64_t len = gguf_load_u64(p->data + p->pos);
        if (len > GGUF_MAX_STRING_BYTES)
            return fail(p, GGUF_ERR_LIMIT, "array element %" PRIu64 ": string length %" PRIu64 " at offset %"
                        PRIu64 " exceeds the limit of %llu bytes", i, len, p->pos, GGUF_MAX_STRING_BYTES);
        if (len > left(p) - 8)
            return fail(p, GGUF_ERR_TRUNCATED, "array element %" PRIu64 ": string of %" PRIu64 " bytes at offset %"
                        PRIu64 " runs past the end of the file (%" PRIu64 " bytes left)", i, len, p->pos, left(p));
        p->pos += 8 + len;
    }
    a->nbytes = p->pos - start;
    return GGUF_OK;
}

static int parse_array(parser *p, gguf_array *a) {
    uint64_t at = p->pos;
    uint32_t type;
    int rc = read_u32(p, &type, "array element type");
    if (rc) return rc;
    if (type == GGUF_TYPE_ARRAY)
        return fail(p, GGUF_ERR_TYPE, "nested array at offset %" PRIu64 ": arrays of arrays are not supported", at);
    uint32_t size = gguf_scalar_bytes(type);
    if (type != GGUF_TYPE_STRING && size == 0)
        return fail(p, GGUF_ERR_TYPE, "unknown array element type %" PRIu32 " at offset %" PRIu64, type, at);
    a->type = type;
    if ((rc = read_u64(p, &a->count, "array length"))) return rc;
    a->data = p->data + p->pos;
    if (type == GGUF_TYPE_STRING) return parse_string_array(p, a);
    if (a->count > left(p) / size)
        return fail(p, GGUF_ERR_TRUNCATED, "array of %" PRIu64 " %s (%" PRIu32 " bytes each) at offset %" PRIu64
                    " runs past the end of the file (%" PRIu64 " bytes left)", a->count, gguf_value_type_name(type),
                    size, p->pos, left(p));
    a->nbytes = a->count * size;
    for (uint64_t i = 0; type == GGUF_TYPE_BOOL && i < a->count; i++)
        if (a->data[i] > 1)
            return fail(p, GGUF_ERR_TYPE, "array element %" PRIu64 " is bool byte %u at offset %" PRIu64
                        ", expected 0 or 1", i, (unsigned)a->data[i], p->pos + i);
    p->pos += a->nbytes;
    return GGUF_OK;
}

static int parse_value(parser *p, uint32_t type, gguf_kv *kv) {
    kv->type = type; /* set first: gguf_close looks at it to free a string array's index */
    if (type == GGUF_TYPE_STRING) return read_string(p, &kv->value.str, GGUF_MAX_STRING_BYTES, "string");
    if (type == GGUF_TYPE_ARRAY) return parse_array(p, &kv->value.arr);
    uint32_t size = gguf_scalar_bytes(type);
    if (size == 0) return fail(p, GGUF_ERR_TYPE, "unknown value type %" PRIu32 " at offset %" PRIu64, type, p->pos - 4);
    int rc = need(p, size, gguf_value_type_name(type));
    if (rc) return rc;
    if (type == GGUF_TYPE_BOOL && p->data[p->pos] > 1)
        return fail(p, GGUF_ERR_TYPE, "bool byte %u at offset %" PRIu64 ", expected 0 or 1", (unsigned)p->data[p->pos],
                    p->pos);
    kv->value = gguf_decode_scalar(type, p->data + p->pos);
    p->pos += size;
    return GGUF_OK;
}

static int parse_kv(parser *p, uint64_t i, gguf_kv *kv) {
    char name[72];
    set_where(p, "key-value pair %" PRIu64, i);
    int rc = read_string(p, &kv->key, GGUF_MAX_KEY_BYTES, "key");
    if (rc) return rc;
    if (kv->key.len == 0) return fail(p, GGUF_ERR_LIMIT, "empty key at offset %" PRIu64, p->pos - 8);
    set_where(p, "key '%s'", printable(name, kv->key));
    uint32_t type;
    if ((rc = read_u32(p, &type, "value type"))) return rc;
    return parse_value(p, type, kv);
}

static int compare_kv_keys(const void *a, const void *b) {
    return compare_strings((*(const gguf_kv *const *)a)->key, (*(const gguf_kv *const *)b)->key);
}

/* Sorts the key index and refuses duplicates, which would make lookups ambiguous. */
static int index_keys(parser *p, gguf_file *f) {
    char name[72];
    p->where[0] = 0;
    f->kv_by_key = malloc((f->n_kv ? (size_t)f->n_kv : 1) * sizeof *f->kv_by_key);
    if (f->kv_by_key == NULL) return fail(p, GGUF_ERR_NOMEM, "no memory for the key index");
    for (uint64_t i = 0; i < f->n_kv; i++) f->kv_by_key[i] = &f->kvs[i];
    qsort(f->kv_by_key, (size_t)f->n_kv, sizeof *f->kv_by_key, compare_kv_keys);
    for (uint64_t i = 1; i < f->n_kv; i++) {
        const gguf_kv *a = f->kv_by_key[i - 1], *b = f->kv_by_key[i];
        if (compare_strings(a->key, b->key) == 0) {
            uint64_t ia = (uint64_t)(a - f->kvs), ib = (uint64_t)(b - f->kvs);
            return fail(p, GGUF_ERR_DUPLICATE, "duplicate key '%s' (pairs %" PRIu64 " and %" PRIu64 ")",
                        printable(name, a->key), ia < ib ? ia : ib, ia < ib ? ib : ia);
        }
    }
    return GGUF_OK;
}

static int parse_kvs(parser *p, gguf_file *f, uint64_t n_kv) {
    f->kvs = calloc(n_kv ? (size_t)n_kv : 1, sizeof *f->kvs);
    if (f->kvs == NULL) return fail(p, GGUF_ERR_NOMEM, "no memory for %" PRIu64 " key-value pairs", n_kv);
    for (uint64_t i = 0; i < n_kv; i++) {
        f->n_kv = i + 1; /* counts the pair being parsed, so gguf_close frees what it allocated */
        int rc = parse_kv(p, i, &f->kvs[i]);
        if (rc) return rc;
    }
    return index_keys(p, f);
}

/* general.alignment: u32, a nonzero power of two (the same rule as ggml), default 32. */
static int read_alignment(parser *p, gguf_file *f) {
    p->where[0] = 0;
    f->alignment = DEFAULT_ALIGNMENT;
    const gguf_kv *kv = gguf_find_key(f, ALIGNMENT_KEY);
    if (kv == NULL) return GGUF_OK;
    set_where(p, "key '" ALIGNMENT_KEY "'");
    if (kv->type != GGUF_TYPE_UINT32)
        return fail(p, GGUF_ERR_TYPE, "type is %s, expected UINT32", gguf_value_type_name(kv->type));
    uint64_t a = kv->value.u64;
    if (a == 0 || (a & (a - 1)) != 0)
        return fail(p, GGUF_ERR_ALIGNMENT, "alignment %" PRIu64 " is not a nonzero power of two", a);
    f->alignment = (uint32_t)a;
    return GGUF_OK;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Tensor infos */

static const char *format_shape(char dst[112], const gguf_tensor *t) {
    int n = snprintf(dst, 112, "[");
    for (uint32_t d = 0; d < t->n_dims && n > 0 && n < 112; d++)
        n += snprintf(dst + n, 112 - (size_t)n, d ? ", %" PRIu64 : "%" PRIu64, t->ne[d]);
    if (n > 0 && n < 111) strcpy(dst + n, "]");
    return dst;
}

/* Every dimension >= 1 and the element count representable as int64 (as ggml requires). */
static int check_shape(parser *p, const gguf_tensor *t) {
    char shape[112];
    uint64_t n = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        if (t->ne[d] == 0) return fail(p, GGUF_ERR_TENSOR, "dimension %" PRIu32 " of shape %s is 0", d,
                                       format_shape(shape, t));
        if (t->ne[d] > (uint64_t)INT64_MAX / n)
            return fail(p, GGUF_ERR_TENSOR, "shape %s has more than 2^63-1 elements", format_shape(shape, t));
        n *= t->ne[d];
    }
    return GGUF_OK;
}

/* nbytes = row bytes * rows, where the row length must be whole blocks of the type. */
static int size_tensor(parser *p, gguf_tensor *t) {
    char shape[112];
    const ggml_type_traits *traits = ggml_traits(t->type);
    if (t->ne[0] % traits->block_size != 0)
        return fail(p, GGUF_ERR_TENSOR, "type %s stores rows in blocks of %" PRIu32 " elements, but ne[0] is %" PRIu64,
                    traits->name, traits->block_size, t->ne[0]);
    uint64_t rows = t->ne[1] * t->ne[2] * t->ne[3]; /* <= the element count, checked to fit int64 */
    if (t->ne[0] / traits->block_size > UINT64_MAX / traits->block_bytes ||
        ggml_row_bytes(t->type, t->ne[0]) > UINT64_MAX / rows)
        return fail(p, GGUF_ERR_TENSOR, "byte size of %s %s overflows 64 bits", traits->name, format_shape(shape, t));
    t->nbytes = ggml_row_bytes(t->type, t->ne[0]) * rows;
    return GGUF_OK;
}

static int parse_tensor_info(parser *p, const gguf_file *f, uint64_t i, gguf_tensor *t) {
    char name[72];
    set_where(p, "tensor %" PRIu64, i);
    int rc = read_string(p, &t->name, GGUF_MAX_TENSOR_NAME_BYTES, "tensor name");
    if (rc) return rc;
    if (t->name.len == 0) return fail(p, GGUF_ERR_LIMIT, "empty tensor name at offset %" PRIu64, p->pos - 8);
    set_where(p, "tensor '%s'", printable(name, t->name));
    uint64_t at = p->pos;
    if ((rc = read_u32(p, &t->n_dims, "n_dims"))) return rc;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return fail(p, GGUF_ERR_TENSOR, "n_dims %" PRIu32 " at offset %" PRIu64 ", expected 1 to %u", t->n_dims, at,
                    GGUF_MAX_DIMS);
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++)
        if ((rc = read_u64(p, &t->ne[d], "dimension"))) return rc;
    if ((rc = check_shape(p, t))) return rc;
    at = p->pos;
    if ((rc = read_u32(p, &t->type, "tensor type"))) return rc;
    if (ggml_traits(t->type) == NULL)
        return fail(p, GGUF_ERR_TYPE, "unknown ggml type %" PRIu32 " at offset %" PRIu64, t->type, at);
    if ((rc = size_tensor(p, t))) return rc;
    at = p->pos;
    if ((rc = read_u64(p, &t->offset, "data offset"))) return rc;
    if (t->offset % f->alignment != 0)
        return fail(p, GGUF_ERR_TENSOR, "data offset %" PRIu64 " (at file offset %" PRIu64 ") is not a multiple of "
                    "the alignment %" PRIu32, t->offset, at, f->alignment);
    return GGUF_OK;
}

static int parse_tensor_infos(parser *p, gguf_file *f, uint64_t n) {
    p->where[0] = 0;
    if (n > left(p) / MIN_TENSOR_INFO_BYTES)
        return fail(p, GGUF_ERR_TRUNCATED, "%" PRIu64 " tensor infos at offset %" PRIu64 " need at least %u bytes "
                    "each, the file has %" PRIu64 " left", n, p->pos, MIN_TENSOR_INFO_BYTES, left(p));
    f->tensors = calloc(n ? (size_t)n : 1, sizeof *f->tensors);
    if (f->tensors == NULL) return fail(p, GGUF_ERR_NOMEM, "no memory for %" PRIu64 " tensor infos", n);
    f->n_tensors = n;
    for (uint64_t i = 0; i < n; i++) {
        int rc = parse_tensor_info(p, f, i, &f->tensors[i]);
        if (rc) return rc;
    }
    return GGUF_OK;
}

static int compare_tensor_names(const void *a, const void *b) {
    return compare_strings((*(const gguf_tensor *const *)a)->name, (*(const gguf_tensor *const *)b)->name);
}

static int compare_tensor_offsets(const void *a, const void *b) {
    uint64_t x = (*(const gguf_tensor *const *)a)->offset, y = (*(const gguf_tensor *const *)b)->offset;
    return (x > y) - (x < y);
}

static int index_tensors(parser *p, gguf_file *f) {
    char name[72];
    p->where[0] = 0;
    f->tensor_by_name = malloc((f->n_tensors ? (size_t)f->n_tensors : 1) * sizeof *f->tensor_by_name);
    if (f->tensor_by_name == NULL) return fail(p, GGUF_ERR_NOMEM, "no memory for the tensor index");
    for (uint64_t i = 0; i < f->n_tensors; i++) f->tensor_by_name[i] = &f->tensors[i];
    qsort(f->tensor_by_name, (size_t)f->n_tensors, sizeof *f->tensor_by_name, compare_tensor_names);
    for (uint64_t i = 1; i < f->n_tensors; i++) {
        const gguf_tensor *a = f->tensor_by_name[i - 1], *b = f->tensor_by_name[i];
        if (compare_strings(a->name, b->name) == 0) {
            uint64_t ia = (uint64_t)(a - f->tensors), ib = (uint64_t)(b - f->tensors);
            return fail(p, GGUF_ERR_DUPLICATE, "duplicate tensor name '%s' (tensors %" PRIu64 " and %" PRIu64 ")",
                        printable(name, a->name), ia < ib ? ia : ib, ia < ib ? ib : ia);
        }
    }
    return GGUF_OK;
}

/* Tensors sorted by offset must not overlap: a writer bug that would let one weight silently alias another. */
static int check_overlaps(parser *p, gguf_file *f) {
    char a_name[72], b_name[72];
    const gguf_tensor **by_offset = malloc((f->n_tensors ? (size_t)f->n_tensors : 1) * sizeof *by_offset);
    if (by_offset == NULL) return fail(p, GGUF_ERR_NOMEM, "no memory to sort %" PRIu64 " tensors", f->n_tensors);
    for (uint64_t i = 0; i < f->n_tensors; i++) by_offset[i] = &f->tensors[i];
    qsort(by_offset, (size_t)f->n_tensors, sizeof *by_offset, compare_tensor_offsets);
    int rc = GGUF_OK;
    for (uint64_t i = 1; i < f->n_tensors && rc == GGUF_OK; i++) {
        const gguf_tensor *a = by_offset[i - 1], *b = by_offset[i];
        if (a->offset + a->nbytes > b->offset) /* both end inside the file: no wrap */
            rc = fail(p, GGUF_ERR_TENSOR, "tensor '%s' data [%" PRIu64 ", %" PRIu64 ") overlaps tensor '%s' data [%"
                      PRIu64 ", %" PRIu64 ")", printable(a_name, a->name), a->offset, a->offset + a->nbytes,
                      printable(b_name, b->name), b->offset, b->offset + b->nbytes);
    }
    free(by_offset);
    return rc;
}

/* The data section starts at the next multiple of the alignment; every tensor's bytes must lie inside the file. */
static int place_tensors(parser *p, gguf_file *f) {
    char name[72];
    p->where[0] = 0;
    uint64_t pad = (f->alignment - p->pos % f->alignment) % f->alignment;
    if (pad > UINT64_MAX - p->pos) return fail(p, GGUF_ERR_LIMIT, "data section offset overflows 64 bits");
    f->data_offset = p->pos + pad;
    uint64_t room = f->data_offset <= f->size ? f->size - f->data_offset : 0;
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor *t = &f->tensors[i];
        if (f->data_offset > f->size || t->offset > room || t->nbytes > room - t->offset)
            return fail(p, GGUF_ERR_TRUNCATED, "tensor '%s': data [offset %" PRIu64 ", %" PRIu64 " bytes) ends "
                        "past the file (size %" PRIu64 ", data section at %" PRIu64 ")", printable(name, t->name),
                        t->offset, t->nbytes, f->size, f->data_offset);
        t->data = f->data + f->data_offset + t->offset;
    }
    return check_overlaps(p, f);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Open, close, lookups */

static int parse(parser *p, gguf_file *f) {
    uint64_t n_kv, n_tensors;
    int rc;
    if ((rc = parse_header(p, f, &n_kv, &n_tensors))) return rc;
    if ((rc = parse_kvs(p, f, n_kv))) return rc;
    if ((rc = read_alignment(p, f))) return rc;
    if ((rc = parse_tensor_infos(p, f, n_tensors))) return rc;
    if ((rc = index_tensors(p, f))) return rc;
    return place_tensors(p, f);
}

int gguf_open(const uint8_t *data, uint64_t size, gguf_file **out, char *error, size_t error_capacity) {
    parser p = {data, size, 0, "", error, error == NULL ? 0 : error_capacity};
    if (p.error_capacity) error[0] = 0;
    if (out == NULL) return fail(&p, GGUF_ERR_ARGUMENT, "out is NULL");
    *out = NULL;
    if (data == NULL) return fail(&p, GGUF_ERR_ARGUMENT, "data is NULL");
#if UINT64_MAX > SIZE_MAX
    if (size > SIZE_MAX) return fail(&p, GGUF_ERR_ARGUMENT, "a file of %" PRIu64 " bytes exceeds the address space",
                                     size);
#endif
    gguf_file *f = calloc(1, sizeof *f);
    if (f == NULL) return fail(&p, GGUF_ERR_NOMEM, "no memory for the file index");
    f->data = data;
    f->size = size;
    int rc = parse(&p, f);
    if (rc) {
        gguf_close(f);
        return rc;
    }
    *out = f;
    return GGUF_OK;
}

void gguf_close(gguf_file *f) {
    if (f == NULL) return;
    for (uint64_t i = 0; f->kvs && i < f->n_kv; i++) {
        gguf_kv *kv = &f->kvs[i];
        if (kv->type == GGUF_TYPE_ARRAY && kv->value.arr.type == GGUF_TYPE_STRING)
            free((void *)kv->value.arr.string_starts);
    }
    free(f->kvs);
    free(f->kv_by_key);
    free(f->tensors);
    free(f->tensor_by_name);
    free(f);
}

uint32_t gguf_version(const gguf_file *f) { return f->version; }
uint32_t gguf_alignment(const gguf_file *f) { return f->alignment; }
uint64_t gguf_data_offset(const gguf_file *f) { return f->data_offset; }
uint64_t gguf_kv_count(const gguf_file *f) { return f->n_kv; }
uint64_t gguf_tensor_count(const gguf_file *f) { return f->n_tensors; }

const gguf_kv *gguf_kv_at(const gguf_file *f, uint64_t i) { return i < f->n_kv ? &f->kvs[i] : NULL; }

const gguf_tensor *gguf_tensor_at(const gguf_file *f, uint64_t i) {
    return i < f->n_tensors ? &f->tensors[i] : NULL;
}

const gguf_kv *gguf_find_key(const gguf_file *f, const char *key) {
    if (f == NULL || key == NULL || f->kv_by_key == NULL) return NULL;
    gguf_string want = {key, strlen(key)};
    uint64_t lo = 0, hi = f->n_kv;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = compare_strings(f->kv_by_key[mid]->key, want);
        if (c == 0) return f->kv_by_key[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name) {
    if (f == NULL || name == NULL || f->tensor_by_name == NULL) return NULL;
    gguf_string want = {name, strlen(name)};
    uint64_t lo = 0, hi = f->n_tensors;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = compare_strings(f->tensor_by_name[mid]->name, want);
        if (c == 0) return f->tensor_by_name[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}
