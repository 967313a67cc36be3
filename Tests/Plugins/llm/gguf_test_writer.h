/*
 * gguf_test_writer.h — a tiny GGUF writer for the reader's tests and fuzzer: builds files byte by byte, so tests can
 * write valid files and break exactly one thing. It remembers where each integer field went (the fuzzer overwrites
 * them with hostile values). Header-only: each test_*.c is its own program.
 */
#ifndef PLEXUS_TESTS_GGUF_TEST_WRITER_H
#define PLEXUS_TESTS_GGUF_TEST_WRITER_H

#include "ggml_types.h"
#include "gguf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GW_MAX_INTS 1024

/* A growing byte buffer. Allocation failure aborts: this is test code. */
typedef struct gw {
    uint8_t *buf;
    size_t len, cap;
    size_t int_at[GW_MAX_INTS]; /* file offsets of the integer fields written */
    uint8_t int_bytes[GW_MAX_INTS];
    int n_ints;
} gw;

static inline void gw_bytes(gw *w, const void *p, size_t n) {
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n) cap *= 2;
        w->buf = realloc(w->buf, cap);
        if (w->buf == NULL) abort();
        w->cap = cap;
    }
    if (n) memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static inline void gw_int(gw *w, uint64_t v, int bytes) {
    uint8_t b[8];
    for (int i = 0; i < bytes; i++) b[i] = (uint8_t)(v >> (8 * i));
    if (w->n_ints < GW_MAX_INTS) {
        w->int_at[w->n_ints] = w->len;
        w->int_bytes[w->n_ints++] = (uint8_t)bytes;
    }
    gw_bytes(w, b, (size_t)bytes);
}

static inline void gw_u8(gw *w, uint8_t v) { gw_bytes(w, &v, 1); }
static inline void gw_u32(gw *w, uint32_t v) { gw_int(w, v, 4); }
static inline void gw_u64(gw *w, uint64_t v) { gw_int(w, v, 8); }
static inline void gw_f32(gw *w, float f) { uint32_t b; memcpy(&b, &f, 4); gw_int(w, b, 4); }
static inline void gw_f64(gw *w, double f) { uint64_t b; memcpy(&b, &f, 8); gw_int(w, b, 8); }
static inline void gw_strn(gw *w, const char *s, size_t n) { gw_u64(w, n); gw_bytes(w, s, n); }
static inline void gw_str(gw *w, const char *s) { gw_strn(w, s, strlen(s)); }

static inline void gw_header(gw *w, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    gw_bytes(w, "GGUF", 4);
    gw_u32(w, version);
    gw_u64(w, n_tensors);
    gw_u64(w, n_kv);
}

/* Starts a key-value pair; the caller writes the value. */
static inline void gw_key(gw *w, const char *key, uint32_t type) { gw_str(w, key); gw_u32(w, type); }

static inline void gw_array(gw *w, const char *key, uint32_t elem_type, uint64_t count) {
    gw_key(w, key, GGUF_TYPE_ARRAY);
    gw_u32(w, elem_type);
    gw_u64(w, count);
}

typedef struct gw_tensor {
    const char *name;
    uint32_t type; /* ggml_type */
    uint32_t n_dims;
    uint64_t ne[4];
    uint64_t offset; /* in the data section */
} gw_tensor;

static inline void gw_tensor_info(gw *w, const gw_tensor *t) {
    gw_str(w, t->name);
    gw_u32(w, t->n_dims);
    for (uint32_t d = 0; d < t->n_dims; d++) gw_u64(w, d < 4 ? t->ne[d] : 1); /* n_dims > 4: for bad files */
    gw_u32(w, t->type);
    gw_u64(w, t->offset);
}

static inline void gw_pad(gw *w, uint64_t alignment) {
    while (w->len % alignment) gw_u8(w, 0);
}

/* Appends `n` bytes of the pattern the tests expect in tensor data: byte i of the data section is (i * 7 + 3). */
static inline void gw_data(gw *w, size_t data_start, size_t n) {
    for (size_t i = 0; i < n; i++) gw_u8(w, (uint8_t)((w->len - data_start) * 7 + 3));
}

static inline uint64_t gw_tensor_bytes(const gw_tensor *t) {
    return ggml_row_bytes(t->type, t->ne[0]) * t->ne[1] * t->ne[2] * t->ne[3];
}

/* Tensor infos, padding and data for `n` tensors, data section of `data_bytes` (the writer's own pattern). */
static inline void gw_tensors(gw *w, const gw_tensor *ts, int n, uint64_t alignment, uint64_t data_bytes) {
    for (int i = 0; i < n; i++) gw_tensor_info(w, &ts[i]);
    gw_pad(w, alignment);
    gw_data(w, w->len, (size_t)data_bytes);
}

/* The sample file: every value type, arrays of numbers and strings, three tensors of three types (F32, Q4_0, Q8_0),
 * the last one ending exactly at the end of the file. alignment 0 leaves general.alignment out (default 32). */
#define SAMPLE_KV_COUNT 28
static inline void gw_sample(gw *w, uint32_t version, uint32_t alignment) {
    uint64_t a = alignment ? alignment : 32;
    gw_tensor ts[3] = {
        {"tok", GGML_TYPE_F32, 2, {8, 2, 1, 1}, 0},                 /* 64 bytes */
        {"blk.0.w", GGML_TYPE_Q4_0, 2, {64, 2, 1, 1}, 0},           /* 2 rows of 2 blocks of 18 bytes: 72 */
        {"out", GGML_TYPE_Q8_0, 1, {32, 1, 1, 1}, 0},               /* 1 block of 34 bytes */
    };
    ts[1].offset = (64 + a - 1) / a * a;
    ts[2].offset = (ts[1].offset + 72 + a - 1) / a * a;
    gw_header(w, version, 3, SAMPLE_KV_COUNT - (alignment ? 0 : 1));
    gw_key(w, "general.architecture", GGUF_TYPE_STRING); gw_str(w, "llama");
    if (alignment) { gw_key(w, "general.alignment", GGUF_TYPE_UINT32); gw_u32(w, alignment); }
    gw_key(w, "t.u8", GGUF_TYPE_UINT8); gw_u8(w, 200);
    gw_key(w, "t.i8", GGUF_TYPE_INT8); gw_u8(w, (uint8_t)-100);
    gw_key(w, "t.u16", GGUF_TYPE_UINT16); gw_int(w, 60000, 2);
    gw_key(w, "t.i16", GGUF_TYPE_INT16); gw_int(w, (uint16_t)-30000, 2);
    gw_key(w, "t.u32", GGUF_TYPE_UINT32); gw_u32(w, 4000000000u);
    gw_key(w, "t.i32", GGUF_TYPE_INT32); gw_u32(w, (uint32_t)-2000000000);
    gw_key(w, "t.f32", GGUF_TYPE_FLOAT32); gw_f32(w, 1.5f);
    gw_key(w, "t.bool", GGUF_TYPE_BOOL); gw_u8(w, 1);
    gw_key(w, "t.u64", GGUF_TYPE_UINT64); gw_u64(w, (1ull << 40) + 5);
    gw_key(w, "t.i64", GGUF_TYPE_INT64); gw_u64(w, (uint64_t)-(1ll << 40));
    gw_key(w, "t.f64", GGUF_TYPE_FLOAT64); gw_f64(w, 3.25);
    gw_key(w, "t.f64_big", GGUF_TYPE_FLOAT64); gw_f64(w, 1e300);
    gw_key(w, "t.u32_small", GGUF_TYPE_UINT32); gw_u32(w, 7);
    gw_key(w, "t.i32_neg", GGUF_TYPE_INT32); gw_u32(w, (uint32_t)-1);
    gw_key(w, "t.str", GGUF_TYPE_STRING); gw_str(w, "h\xc3\xa9llo world");
    gw_key(w, "t.empty", GGUF_TYPE_STRING); gw_str(w, "");
    gw_array(w, "t.arr_u8", GGUF_TYPE_UINT8, 3); gw_u8(w, 1); gw_u8(w, 2); gw_u8(w, 255);
    gw_array(w, "t.arr_i32", GGUF_TYPE_INT32, 3); gw_u32(w, (uint32_t)-1); gw_u32(w, 0); gw_u32(w, 7);
    gw_array(w, "t.arr_f32", GGUF_TYPE_FLOAT32, 2); gw_f32(w, 0.5f); gw_f32(w, -2.0f);
    gw_array(w, "t.arr_u64", GGUF_TYPE_UINT64, 2); gw_u64(w, 1ull << 63); gw_u64(w, 9);
    gw_array(w, "t.arr_f64", GGUF_TYPE_FLOAT64, 1); gw_f64(w, -0.125);
    gw_array(w, "t.arr_bool", GGUF_TYPE_BOOL, 2); gw_u8(w, 1); gw_u8(w, 0);
    gw_array(w, "t.arr_i16", GGUF_TYPE_INT16, 1); gw_int(w, (uint16_t)-5, 2);
    gw_array(w, "t.arr_str", GGUF_TYPE_STRING, 3); gw_str(w, "a"); gw_str(w, ""); gw_str(w, "ccc");
    gw_array(w, "t.arr_empty", GGUF_TYPE_UINT32, 0);
    gw_array(w, "t.arr_str_empty", GGUF_TYPE_STRING, 0);
    gw_tensors(w, ts, 3, a, ts[2].offset + 34);
}

static inline void gw_free(gw *w) {
    free(w->buf);
    memset(w, 0, sizeof *w);
}

#endif
