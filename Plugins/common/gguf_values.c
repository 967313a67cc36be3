/*
 * gguf_values.c — typed access to metadata: getters by key, O(1) array elements, and the names of types and
 * statuses. Conversion rules (the same for a scalar and an array element):
 *   integer getters: any of the 8 integer types whose value fits the target; never BOOL or floats;
 *   float getters:   FLOAT32 or FLOAT64; f32 refuses a finite value beyond FLT_MAX (NaN and inf pass);
 *   bool, string:    only their own type.
 */
#include "gguf.h"

#include "gguf_wire.h"

#include <float.h>
#include <math.h>
#include <stdint.h>

static int is_unsigned(uint32_t type) {
    return type == GGUF_TYPE_UINT8 || type == GGUF_TYPE_UINT16 || type == GGUF_TYPE_UINT32 ||
           type == GGUF_TYPE_UINT64;
}

static int is_signed(uint32_t type) {
    return type == GGUF_TYPE_INT8 || type == GGUF_TYPE_INT16 || type == GGUF_TYPE_INT32 || type == GGUF_TYPE_INT64;
}

/* Conversions shared by scalars and array elements. */

static int to_unsigned(uint32_t type, gguf_value v, uint64_t max, uint64_t *out) {
    if (is_unsigned(type)) {
        if (v.u64 > max) return GGUF_ERR_RANGE;
        *out = v.u64;
        return GGUF_OK;
    }
    if (is_signed(type)) {
        if (v.i64 < 0 || (uint64_t)v.i64 > max) return GGUF_ERR_RANGE;
        *out = (uint64_t)v.i64;
        return GGUF_OK;
    }
    return GGUF_ERR_TYPE;
}

static int to_signed(uint32_t type, gguf_value v, int64_t min, int64_t max, int64_t *out) {
    if (is_unsigned(type)) {
        if (v.u64 > (uint64_t)max) return GGUF_ERR_RANGE;
        *out = (int64_t)v.u64;
        return GGUF_OK;
    }
    if (is_signed(type)) {
        if (v.i64 < min || v.i64 > max) return GGUF_ERR_RANGE;
        *out = v.i64;
        return GGUF_OK;
    }
    return GGUF_ERR_TYPE;
}

static int to_double(uint32_t type, gguf_value v, double max, double *out) {
    if (type != GGUF_TYPE_FLOAT32 && type != GGUF_TYPE_FLOAT64) return GGUF_ERR_TYPE;
    /* Converting a finite double beyond the float range is undefined in C: refuse it instead. */
    if (isfinite(v.f64) && fabs(v.f64) > max) return GGUF_ERR_RANGE;
    *out = v.f64;
    return GGUF_OK;
}

/* One conversion per requested C type, used by both the key getters and the element getters. */

static int as_u32(uint32_t t, gguf_value v, uint32_t *out) {
    uint64_t x;
    int rc = to_unsigned(t, v, UINT32_MAX, &x);
    if (rc == GGUF_OK) *out = (uint32_t)x;
    return rc;
}
static int as_i32(uint32_t t, gguf_value v, int32_t *out) {
    int64_t x;
    int rc = to_signed(t, v, INT32_MIN, INT32_MAX, &x);
    if (rc == GGUF_OK) *out = (int32_t)x;
    return rc;
}
static int as_u64(uint32_t t, gguf_value v, uint64_t *out) { return to_unsigned(t, v, UINT64_MAX, out); }
static int as_i64(uint32_t t, gguf_value v, int64_t *out) { return to_signed(t, v, INT64_MIN, INT64_MAX, out); }
static int as_f32(uint32_t t, gguf_value v, float *out) {
    double x;
    int rc = to_double(t, v, FLT_MAX, &x);
    if (rc == GGUF_OK) *out = (float)x;
    return rc;
}
static int as_f64(uint32_t t, gguf_value v, double *out) { return to_double(t, v, DBL_MAX, out); }
static int as_bool(uint32_t t, gguf_value v, int *out) {
    if (t != GGUF_TYPE_BOOL) return GGUF_ERR_TYPE;
    *out = v.u64 != 0;
    return GGUF_OK;
}
static int as_string(uint32_t t, gguf_value v, gguf_string *out) {
    if (t != GGUF_TYPE_STRING) return GGUF_ERR_TYPE;
    *out = v.str;
    return GGUF_OK;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Getters by key */

#define DEFINE_GETTER(name, ctype, convert)                                   \
    int name(const gguf_file *file, const char *key, ctype *out) {           \
        if (out == NULL) return GGUF_ERR_ARGUMENT;                            \
        const gguf_kv *kv = gguf_find_key(file, key);                         \
        return kv == NULL ? GGUF_ERR_NOT_FOUND : convert(kv->type, kv->value, out); \
    }

DEFINE_GETTER(gguf_get_u32, uint32_t, as_u32)
DEFINE_GETTER(gguf_get_i32, int32_t, as_i32)
DEFINE_GETTER(gguf_get_u64, uint64_t, as_u64)
DEFINE_GETTER(gguf_get_i64, int64_t, as_i64)
DEFINE_GETTER(gguf_get_f32, float, as_f32)
DEFINE_GETTER(gguf_get_f64, double, as_f64)
DEFINE_GETTER(gguf_get_bool, int, as_bool)
DEFINE_GETTER(gguf_get_string, gguf_string, as_string)

int gguf_get_array(const gguf_file *file, const char *key, gguf_array *out) {
    if (out == NULL) return GGUF_ERR_ARGUMENT;
    const gguf_kv *kv = gguf_find_key(file, key);
    if (kv == NULL) return GGUF_ERR_NOT_FOUND;
    if (kv->type != GGUF_TYPE_ARRAY) return GGUF_ERR_TYPE;
    *out = kv->value.arr;
    return GGUF_OK;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Array elements */

/* Decodes element i. The array must come from an opened file: open checked that every element lies in the mapping
 * and, for strings, that string_starts[i] points at a complete length-prefixed string. */
static int element(const gguf_array *a, uint64_t i, gguf_value *v) {
    if (a == NULL || i >= a->count) return GGUF_ERR_RANGE;
    if (a->type == GGUF_TYPE_STRING) {
        const uint8_t *p = a->data + a->string_starts[i];
        v->str.len = gguf_load_u64(p);
        v->str.ptr = (const char *)p + 8;
        return GGUF_OK;
    }
    uint32_t size = gguf_scalar_bytes(a->type);
    if (size == 0) return GGUF_ERR_TYPE;
    *v = gguf_decode_scalar(a->type, a->data + i * size);
    return GGUF_OK;
}

#define DEFINE_ELEMENT(name, ctype, convert)                                  \
    int name(const gguf_array *array, uint64_t i, ctype *out) {              \
        gguf_value v;                                                         \
        if (out == NULL) return GGUF_ERR_ARGUMENT;                            \
        int rc = element(array, i, &v);                                       \
        return rc != GGUF_OK ? rc : convert(array->type, v, out);             \
    }

DEFINE_ELEMENT(gguf_array_u32, uint32_t, as_u32)
DEFINE_ELEMENT(gguf_array_i32, int32_t, as_i32)
DEFINE_ELEMENT(gguf_array_u64, uint64_t, as_u64)
DEFINE_ELEMENT(gguf_array_i64, int64_t, as_i64)
DEFINE_ELEMENT(gguf_array_f32, float, as_f32)
DEFINE_ELEMENT(gguf_array_f64, double, as_f64)
DEFINE_ELEMENT(gguf_array_bool, int, as_bool)
DEFINE_ELEMENT(gguf_array_string, gguf_string, as_string)

/* ---------------------------------------------------------------------------------------------------------------- */
/* Names */

const char *gguf_value_type_name(uint32_t type) {
    static const char *const names[GGUF_TYPE_COUNT] = {
        "UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32",
        "BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64",
    };
    return type < GGUF_TYPE_COUNT ? names[type] : "?";
}

const char *gguf_status_name(int status) {
    static const char *const names[] = {
        "GGUF_OK", "GGUF_ERR_ARGUMENT", "GGUF_ERR_TRUNCATED", "GGUF_ERR_MAGIC", "GGUF_ERR_VERSION",
        "GGUF_ERR_LIMIT", "GGUF_ERR_TYPE", "GGUF_ERR_DUPLICATE", "GGUF_ERR_ALIGNMENT", "GGUF_ERR_TENSOR",
        "GGUF_ERR_NOMEM", "GGUF_ERR_NOT_FOUND", "GGUF_ERR_RANGE",
    };
    return status >= 0 && status < (int)(sizeof names / sizeof names[0]) ? names[status] : "GGUF_ERR_?";
}
