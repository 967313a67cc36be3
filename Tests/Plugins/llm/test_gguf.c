/*
 * test_gguf.c — the GGUF reader on synthetic files: every value type and getter rule, alignment variants, and one
 * malformed file per check of Specs/gguf-reader.md (each must fail with its status and a specific message, under
 * ASan/UBSan). Real models are test_gguf_models.c; random damage is test_fuzz_gguf.c.
 */
#include "gguf.h"
#include "gguf_test_writer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------------------------- */
/* Harness */

static int case_failed, n_passed, n_failed;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);         \
            case_failed = 1;                                                          \
        }                                                                             \
    } while (0)

#define CHECK_STATUS(got, want)                                                       \
    do {                                                                              \
        int got_ = (got), want_ = (want);                                             \
        if (got_ != want_) {                                                          \
            printf("  %s:%d: got %s, want %s\n", __FILE__, __LINE__, gguf_status_name(got_), \
                   gguf_status_name(want_));                                          \
            case_failed = 1;                                                          \
        }                                                                             \
    } while (0)

static void run(const char *name, void (*fn)(void)) {
    case_failed = 0;
    fn();
    printf("%s %s\n", case_failed ? "FAIL" : "PASS", name);
    if (case_failed) n_failed++;
    else n_passed++;
}

/* A file opened from an exact-size heap copy, so ASan flags any read past its end. */
typedef struct opened {
    uint8_t *copy;
    gguf_file *file;
    int status;
    char error[512];
} opened;

static opened open_bytes(const uint8_t *p, size_t n) {
    opened o;
    memset(&o, 0, sizeof o);
    o.copy = malloc(n ? n : 1);
    if (n) memcpy(o.copy, p, n);
    o.status = gguf_open(o.copy, n, &o.file, o.error, sizeof o.error);
    return o;
}

static void close_opened(opened *o) {
    gguf_close(o->file);
    free(o->copy);
}

/* Opens w's bytes; expects `want` and a message containing `fragment`; prints the message. */
static void expect_error(gw *w, int want, const char *fragment) {
    opened o = open_bytes(w->buf, w->len);
    CHECK_STATUS(o.status, want);
    CHECK(o.file == NULL);
    printf("  %s: %s\n", gguf_status_name(o.status), o.error);
    if (strstr(o.error, fragment) == NULL) {
        printf("  message lacks \"%s\"\n", fragment);
        case_failed = 1;
    }
    close_opened(&o);
    gw_free(w);
}

/* A file with no tensors and one key-value pair, which the caller writes. */
static void one_kv(gw *w) { gw_header(w, 3, 0, 1); }

/* A file with the given tensors, general.alignment (0: absent) and a data section of data_bytes. */
static void tensor_file(gw *w, const gw_tensor *ts, int n, uint32_t alignment, uint64_t data_bytes) {
    gw_header(w, 3, (uint64_t)n, alignment ? 1 : 0);
    if (alignment) { gw_key(w, "general.alignment", GGUF_TYPE_UINT32); gw_u32(w, alignment); }
    gw_tensors(w, ts, n, alignment ? alignment : 32, data_bytes);
}

static int string_is(gguf_string s, const char *want) {
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Valid files */

static void test_scalars(void) {
    gw w = {0};
    gw_sample(&w, 3, 0);
    opened o = open_bytes(w.buf, w.len);
    CHECK_STATUS(o.status, GGUF_OK);
    CHECK(o.error[0] == 0);
    gguf_file *f = o.file;
    if (f == NULL) goto done;
    CHECK(gguf_version(f) == 3 && gguf_alignment(f) == 32 && gguf_kv_count(f) == SAMPLE_KV_COUNT - 1);
    uint32_t u32; int32_t i32; uint64_t u64; int64_t i64; float f32; double f64; int b; gguf_string s;
    CHECK(gguf_get_u32(f, "t.u8", &u32) == GGUF_OK && u32 == 200);
    CHECK(gguf_get_i32(f, "t.i8", &i32) == GGUF_OK && i32 == -100);
    CHECK(gguf_get_u32(f, "t.u16", &u32) == GGUF_OK && u32 == 60000);
    CHECK(gguf_get_i32(f, "t.i16", &i32) == GGUF_OK && i32 == -30000);
    CHECK(gguf_get_u32(f, "t.u32", &u32) == GGUF_OK && u32 == 4000000000u);
    CHECK(gguf_get_i32(f, "t.i32", &i32) == GGUF_OK && i32 == -2000000000);
    CHECK(gguf_get_f32(f, "t.f32", &f32) == GGUF_OK && f32 == 1.5f);
    CHECK(gguf_get_bool(f, "t.bool", &b) == GGUF_OK && b == 1);
    CHECK(gguf_get_u64(f, "t.u64", &u64) == GGUF_OK && u64 == (1ull << 40) + 5);
    CHECK(gguf_get_i64(f, "t.i64", &i64) == GGUF_OK && i64 == -(1ll << 40));
    CHECK(gguf_get_f64(f, "t.f64", &f64) == GGUF_OK && f64 == 3.25);
    CHECK(gguf_get_string(f, "t.str", &s) == GGUF_OK && string_is(s, "h\xc3\xa9llo world"));
    CHECK(gguf_get_string(f, "t.empty", &s) == GGUF_OK && s.len == 0);
    CHECK(gguf_get_string(f, "general.architecture", &s) == GGUF_OK && string_is(s, "llama"));
    /* File order is kept; the kv's decoded union matches its type. */
    const gguf_kv *kv = gguf_kv_at(f, 1);
    CHECK(kv != NULL && string_is(kv->key, "t.u8") && kv->type == GGUF_TYPE_UINT8 && kv->value.u64 == 200);
    CHECK(gguf_kv_at(f, gguf_kv_count(f)) == NULL);
    CHECK(gguf_find_key(f, "t.u") == NULL && gguf_find_key(f, "t.u80") == NULL && gguf_find_key(f, "") == NULL);
    CHECK(gguf_find_key(f, "t.u8") == kv);
done:
    close_opened(&o);
    gw_free(&w);
}

static void test_coercions(void) {
    gw w = {0};
    gw_sample(&w, 3, 0);
    opened o = open_bytes(w.buf, w.len);
    gguf_file *f = o.file;
    CHECK(f != NULL);
    if (f == NULL) goto done;
    uint32_t u32 = 123; int32_t i32; uint64_t u64; int64_t i64; float f32; double f64; int b; gguf_string s;
    gguf_array a;
    CHECK(gguf_get_u64(f, "t.u8", &u64) == GGUF_OK && u64 == 200);        /* widening: any integer that fits */
    CHECK(gguf_get_i64(f, "t.u32", &i64) == GGUF_OK && i64 == 4000000000);
    CHECK(gguf_get_u32(f, "t.u32_small", &u32) == GGUF_OK && u32 == 7);
    CHECK(gguf_get_i32(f, "t.u32_small", &i32) == GGUF_OK && i32 == 7);
    CHECK(gguf_get_f64(f, "t.f32", &f64) == GGUF_OK && f64 == 1.5);
    CHECK(gguf_get_f32(f, "t.f64", &f32) == GGUF_OK && f32 == 3.25f);
    u32 = 123;
    CHECK_STATUS(gguf_get_u32(f, "t.i32_neg", &u32), GGUF_ERR_RANGE);     /* negative into unsigned */
    CHECK(u32 == 123);                                                    /* untouched on failure */
    CHECK_STATUS(gguf_get_u64(f, "t.i64", &u64), GGUF_ERR_RANGE);
    CHECK_STATUS(gguf_get_u32(f, "t.u64", &u32), GGUF_ERR_RANGE);         /* 2^40 does not fit */
    CHECK_STATUS(gguf_get_i32(f, "t.u32", &i32), GGUF_ERR_RANGE);
    CHECK_STATUS(gguf_get_i32(f, "t.i64", &i32), GGUF_ERR_RANGE);
    CHECK_STATUS(gguf_get_f32(f, "t.f64_big", &f32), GGUF_ERR_RANGE);
    CHECK(gguf_get_f64(f, "t.f64_big", &f64) == GGUF_OK && f64 == 1e300);
    CHECK_STATUS(gguf_get_u32(f, "t.f32", &u32), GGUF_ERR_TYPE);          /* no float <-> integer */
    CHECK_STATUS(gguf_get_f32(f, "t.u8", &f32), GGUF_ERR_TYPE);
    CHECK_STATUS(gguf_get_u32(f, "t.bool", &u32), GGUF_ERR_TYPE);         /* bool is not an integer */
    CHECK_STATUS(gguf_get_bool(f, "t.u8", &b), GGUF_ERR_TYPE);
    CHECK_STATUS(gguf_get_string(f, "t.arr_str", &s), GGUF_ERR_TYPE);
    CHECK_STATUS(gguf_get_array(f, "t.str", &a), GGUF_ERR_TYPE);
    CHECK_STATUS(gguf_get_u32(f, "no.such.key", &u32), GGUF_ERR_NOT_FOUND);
    CHECK_STATUS(gguf_get_u32(f, NULL, &u32), GGUF_ERR_NOT_FOUND);
    CHECK_STATUS(gguf_get_u32(f, "t.u8", NULL), GGUF_ERR_ARGUMENT);
done:
    close_opened(&o);
    gw_free(&w);
}

static void test_arrays(void) {
    gw w = {0};
    gw_sample(&w, 3, 0);
    opened o = open_bytes(w.buf, w.len);
    gguf_file *f = o.file;
    CHECK(f != NULL);
    if (f == NULL) goto done;
    gguf_array a;
    uint32_t u32; int32_t i32; uint64_t u64; int64_t i64; float f32; double f64; int b; gguf_string s;
    CHECK(gguf_get_array(f, "t.arr_u8", &a) == GGUF_OK && a.type == GGUF_TYPE_UINT8 && a.count == 3 && a.nbytes == 3);
    CHECK(gguf_array_u32(&a, 2, &u32) == GGUF_OK && u32 == 255);
    CHECK_STATUS(gguf_array_u32(&a, 3, &u32), GGUF_ERR_RANGE);
    CHECK(gguf_get_array(f, "t.arr_i32", &a) == GGUF_OK && a.count == 3 && a.nbytes == 12);
    CHECK(gguf_array_i32(&a, 0, &i32) == GGUF_OK && i32 == -1);
    CHECK(gguf_array_i64(&a, 2, &i64) == GGUF_OK && i64 == 7);
    CHECK_STATUS(gguf_array_u32(&a, 0, &u32), GGUF_ERR_RANGE);
    CHECK_STATUS(gguf_array_f32(&a, 0, &f32), GGUF_ERR_TYPE);
    CHECK(gguf_get_array(f, "t.arr_f32", &a) == GGUF_OK && a.count == 2);
    CHECK(gguf_array_f32(&a, 1, &f32) == GGUF_OK && f32 == -2.0f);
    CHECK(gguf_get_array(f, "t.arr_u64", &a) == GGUF_OK);
    CHECK(gguf_array_u64(&a, 0, &u64) == GGUF_OK && u64 == 1ull << 63);
    CHECK_STATUS(gguf_array_i64(&a, 0, &i64), GGUF_ERR_RANGE);
    CHECK(gguf_get_array(f, "t.arr_f64", &a) == GGUF_OK);
    CHECK(gguf_array_f64(&a, 0, &f64) == GGUF_OK && f64 == -0.125);
    CHECK(gguf_get_array(f, "t.arr_bool", &a) == GGUF_OK);
    CHECK(gguf_array_bool(&a, 0, &b) == GGUF_OK && b == 1 && gguf_array_bool(&a, 1, &b) == GGUF_OK && b == 0);
    CHECK(gguf_get_array(f, "t.arr_i16", &a) == GGUF_OK);
    CHECK(gguf_array_i32(&a, 0, &i32) == GGUF_OK && i32 == -5);
    CHECK(gguf_get_array(f, "t.arr_str", &a) == GGUF_OK && a.type == GGUF_TYPE_STRING && a.count == 3);
    CHECK(a.nbytes == 3 * 8 + 4 && a.string_starts != NULL);
    CHECK(gguf_array_string(&a, 0, &s) == GGUF_OK && string_is(s, "a"));
    CHECK(gguf_array_string(&a, 1, &s) == GGUF_OK && s.len == 0);
    CHECK(gguf_array_string(&a, 2, &s) == GGUF_OK && string_is(s, "ccc"));
    CHECK_STATUS(gguf_array_string(&a, 3, &s), GGUF_ERR_RANGE);
    CHECK_STATUS(gguf_array_u32(&a, 0, &u32), GGUF_ERR_TYPE);
    CHECK(gguf_get_array(f, "t.arr_empty", &a) == GGUF_OK && a.count == 0 && a.nbytes == 0);
    CHECK_STATUS(gguf_array_u32(&a, 0, &u32), GGUF_ERR_RANGE);
    CHECK(gguf_get_array(f, "t.arr_str_empty", &a) == GGUF_OK && a.count == 0 && a.string_starts == NULL);
    CHECK_STATUS(gguf_array_string(NULL, 0, &s), GGUF_ERR_RANGE);
done:
    close_opened(&o);
    gw_free(&w);
}

/* Tensor fields, data pointers (the writer's byte pattern) and lookups, at one alignment. */
static void check_sample_tensors(gguf_file *f, const uint8_t *base, uint32_t alignment) {
    static const char *names[3] = {"tok", "blk.0.w", "out"};
    static const uint32_t types[3] = {GGML_TYPE_F32, GGML_TYPE_Q4_0, GGML_TYPE_Q8_0};
    static const uint64_t nbytes[3] = {64, 72, 34};
    CHECK(gguf_tensor_count(f) == 3 && gguf_alignment(f) == alignment && gguf_data_offset(f) % alignment == 0);
    for (uint64_t i = 0; i < 3; i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        CHECK(t != NULL && string_is(t->name, names[i]) && t->type == types[i] && t->nbytes == nbytes[i]);
        if (t == NULL) continue;
        CHECK(t->offset % alignment == 0 && t->data == base + gguf_data_offset(f) + t->offset);
        CHECK(t->ne[2] == 1 && t->ne[3] == 1 && (t->n_dims == 2 || t->ne[1] == 1));
        for (uint64_t j = 0; j < t->nbytes; j++)
            if (t->data[j] != (uint8_t)((t->offset + j) * 7 + 3)) { CHECK(!"tensor data pattern"); break; }
        CHECK(gguf_find_tensor(f, names[i]) == t);
    }
    const gguf_tensor *t = gguf_tensor_at(f, 0);
    CHECK(t != NULL && t->n_dims == 2 && t->ne[0] == 8 && t->ne[1] == 2);
    CHECK(gguf_tensor_at(f, 3) == NULL && gguf_find_tensor(f, "blk.0") == NULL && gguf_find_tensor(f, NULL) == NULL);
}

static void test_tensors_and_alignments(void) {
    static const uint32_t alignments[] = {0, 1, 2, 8, 32, 64, 4096};
    for (size_t k = 0; k < sizeof alignments / sizeof alignments[0]; k++) {
        gw w = {0};
        gw_sample(&w, 3, alignments[k]);
        opened o = open_bytes(w.buf, w.len);
        CHECK_STATUS(o.status, GGUF_OK);
        if (o.file) check_sample_tensors(o.file, o.copy, alignments[k] ? alignments[k] : 32);
        close_opened(&o);
        gw_free(&w);
    }
}

static void test_version_2(void) {
    gw w = {0};
    gw_sample(&w, 2, 0);
    opened o = open_bytes(w.buf, w.len);
    CHECK_STATUS(o.status, GGUF_OK);
    CHECK(o.file && gguf_version(o.file) == 2);
    close_opened(&o);
    gw_free(&w);
}

static void test_empty_file(void) {
    gw w = {0};
    gw_header(&w, 3, 0, 0);
    opened o = open_bytes(w.buf, w.len);
    CHECK_STATUS(o.status, GGUF_OK);
    if (o.file) {
        CHECK(gguf_kv_count(o.file) == 0 && gguf_tensor_count(o.file) == 0 && gguf_alignment(o.file) == 32);
        CHECK(gguf_find_key(o.file, "a") == NULL && gguf_find_tensor(o.file, "a") == NULL);
        CHECK(gguf_kv_at(o.file, 0) == NULL && gguf_tensor_at(o.file, 0) == NULL);
    }
    close_opened(&o);
    gw_free(&w);
}

/* Many keys and tensors: every one found by binary search, near misses not. */
static void test_many_names(void) {
    enum { N = 2000 };
    gw w = {0};
    char name[32];
    gw_header(&w, 3, N, N);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "k.%d", (i * 7919) % N);
        gw_key(&w, name, GGUF_TYPE_UINT32);
        gw_u32(&w, (uint32_t)((i * 7919) % N));
    }
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "blk.%d.weight", N - 1 - i);
        gw_tensor t = {name, GGML_TYPE_F32, 1, {8, 1, 1, 1}, (uint64_t)i * 32};
        gw_tensor_info(&w, &t);
    }
    gw_pad(&w, 32);
    gw_data(&w, w.len, (size_t)N * 32);
    opened o = open_bytes(w.buf, w.len);
    CHECK_STATUS(o.status, GGUF_OK);
    for (int i = 0; o.file && i < N; i++) {
        uint32_t v = 0;
        snprintf(name, sizeof name, "k.%d", i);
        CHECK(gguf_get_u32(o.file, name, &v) == GGUF_OK && v == (uint32_t)i);
        snprintf(name, sizeof name, "blk.%d.weight", i);
        const gguf_tensor *t = gguf_find_tensor(o.file, name);
        CHECK(t != NULL && t->offset == (uint64_t)(N - 1 - i) * 32);
    }
    CHECK(o.file && gguf_find_key(o.file, "k.2000") == NULL && gguf_find_tensor(o.file, "blk.2000.weight") == NULL);
    close_opened(&o);
    gw_free(&w);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Malformed files: header */

/* Every strict prefix of a valid file (whose last tensor ends at its end) is TRUNCATED, with a message. */
static void test_truncation_everywhere(void) {
    static const uint32_t alignments[] = {0, 64};
    for (size_t k = 0; k < 2; k++) {
        gw w = {0};
        gw_sample(&w, 3, alignments[k]);
        for (size_t len = 0; len < w.len; len++) {
            opened o = open_bytes(w.buf, len);
            if (o.status != GGUF_ERR_TRUNCATED || o.file != NULL || o.error[0] == 0) {
                printf("  length %zu of %zu: %s \"%s\"\n", len, w.len, gguf_status_name(o.status), o.error);
                case_failed = 1;
            }
            close_opened(&o);
        }
        printf("  %zu truncations of a %zu-byte file refused\n", w.len, w.len);
        gw_free(&w);
    }
}

static void test_bad_magic(void) {
    gw w = {0};
    gw_bytes(&w, "GGML", 4); gw_u32(&w, 3); gw_u64(&w, 0); gw_u64(&w, 0);
    expect_error(&w, GGUF_ERR_MAGIC, "magic bytes 47 47 4d 4c");
}

static void test_versions(void) {
    gw w = {0};
    gw_header(&w, 1, 0, 0);
    expect_error(&w, GGUF_ERR_VERSION, "version 1");
    gw_header(&w, 4, 0, 0);
    expect_error(&w, GGUF_ERR_VERSION, "unsupported GGUF version 4");
    gw_header(&w, 0, 0, 0);
    expect_error(&w, GGUF_ERR_VERSION, "version 0");
    gw_header(&w, 0x03000000, 0, 0);
    expect_error(&w, GGUF_ERR_VERSION, "big-endian");
}

static void test_huge_counts(void) {
    gw w = {0};
    gw_header(&w, 3, 1ull << 63, 0);
    expect_error(&w, GGUF_ERR_LIMIT, "tensor count 9223372036854775808");
    gw_header(&w, 3, 0, UINT64_MAX);
    expect_error(&w, GGUF_ERR_LIMIT, "key-value count");
    gw_header(&w, 3, 0, 1000); /* under the cap, but 14 kB cannot fit in what is left */
    gw_key(&w, "a", GGUF_TYPE_UINT8); gw_u8(&w, 1);
    expect_error(&w, GGUF_ERR_TRUNCATED, "1000 key-value pairs");
    gw_header(&w, 3, GGUF_MAX_TENSOR_COUNT, 0);
    expect_error(&w, GGUF_ERR_TRUNCATED, "1048576 tensors");
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Malformed files: key-value pairs */

static void test_strings(void) {
    gw w = {0};
    one_kv(&w); gw_key(&w, "s", GGUF_TYPE_STRING); gw_u64(&w, 1000); gw_bytes(&w, "short", 5);
    expect_error(&w, GGUF_ERR_TRUNCATED, "key 's': string at offset");
    one_kv(&w); gw_u64(&w, 100); gw_bytes(&w, "abcdefghij", 10);
    expect_error(&w, GGUF_ERR_TRUNCATED, "key-value pair 0: key at offset 32 needs 100 bytes");
    one_kv(&w); gw_u64(&w, GGUF_MAX_KEY_BYTES + 1); gw_bytes(&w, "abcdefghijklmn", 14);
    expect_error(&w, GGUF_ERR_LIMIT, "key length 65536 at offset 24 exceeds the limit of 65535");
    one_kv(&w); gw_key(&w, "", GGUF_TYPE_UINT8); gw_u8(&w, 0); gw_u8(&w, 0);
    expect_error(&w, GGUF_ERR_LIMIT, "empty key");
    one_kv(&w); gw_key(&w, "s", GGUF_TYPE_STRING); gw_u64(&w, GGUF_MAX_STRING_BYTES + 1); gw_bytes(&w, "x", 1);
    expect_error(&w, GGUF_ERR_LIMIT, "exceeds the limit of 67108864 bytes");
    one_kv(&w); gw_key(&w, "s", GGUF_TYPE_STRING); gw_u64(&w, UINT64_MAX); gw_bytes(&w, "x", 1);
    expect_error(&w, GGUF_ERR_LIMIT, "string length 18446744073709551615");
}

static void test_value_types(void) {
    gw w = {0};
    one_kv(&w); gw_key(&w, "k", 13); gw_u8(&w, 0);
    expect_error(&w, GGUF_ERR_TYPE, "key 'k': unknown value type 13");
    one_kv(&w); gw_key(&w, "k", UINT32_MAX); gw_u8(&w, 0);
    expect_error(&w, GGUF_ERR_TYPE, "unknown value type 4294967295");
    one_kv(&w); gw_array(&w, "k", 13, 1); gw_u8(&w, 0);
    expect_error(&w, GGUF_ERR_TYPE, "unknown array element type 13");
    one_kv(&w); gw_array(&w, "k", GGUF_TYPE_ARRAY, 1); gw_u32(&w, GGUF_TYPE_UINT8); gw_u64(&w, 1); gw_u8(&w, 0);
    expect_error(&w, GGUF_ERR_TYPE, "nested array");
    one_kv(&w); gw_key(&w, "k", GGUF_TYPE_BOOL); gw_u8(&w, 2);
    expect_error(&w, GGUF_ERR_TYPE, "bool byte 2");
    one_kv(&w); gw_array(&w, "k", GGUF_TYPE_BOOL, 3); gw_u8(&w, 0); gw_u8(&w, 1); gw_u8(&w, 255);
    expect_error(&w, GGUF_ERR_TYPE, "array element 2 is bool byte 255");
    one_kv(&w); gw_key(&w, "k", GGUF_TYPE_UINT64); gw_u32(&w, 1);
    expect_error(&w, GGUF_ERR_TRUNCATED, "UINT64 at offset 37 needs 8 bytes, the file has 4 left");
}

static void test_huge_arrays(void) {
    gw w = {0};
    one_kv(&w); gw_array(&w, "k", GGUF_TYPE_UINT32, 1ull << 62); gw_u32(&w, 1);
    expect_error(&w, GGUF_ERR_TRUNCATED, "array of 4611686018427387904 UINT32");
    one_kv(&w); gw_array(&w, "k", GGUF_TYPE_STRING, GGUF_MAX_STRING_ARRAY_COUNT + 1); gw_str(&w, "a");
    expect_error(&w, GGUF_ERR_LIMIT, "array of 16777217 strings exceeds the limit");
    one_kv(&w); gw_array(&w, "k", GGUF_TYPE_STRING, 100); gw_str(&w, "a"); gw_str(&w, "b");
    expect_error(&w, GGUF_ERR_TRUNCATED, "array of 100 strings");
    one_kv(&w); gw_array(&w, "k", GGUF_TYPE_STRING, 3); gw_str(&w, "a"); gw_u64(&w, 50); gw_bytes(&w, "bc", 2);
    gw_bytes(&w, "padpadpadpad", 12);
    expect_error(&w, GGUF_ERR_TRUNCATED, "array element 1: string of 50 bytes");
    one_kv(&w); gw_array(&w, "k", GGUF_TYPE_STRING, 2); gw_u64(&w, 1ull << 40); gw_bytes(&w, "abcdefgh", 8);
    expect_error(&w, GGUF_ERR_LIMIT, "array element 0: string length 1099511627776");
}

static void test_duplicate_key(void) {
    gw w = {0};
    gw_header(&w, 3, 0, 3);
    gw_key(&w, "a.b", GGUF_TYPE_UINT8); gw_u8(&w, 1);
    gw_key(&w, "a.c", GGUF_TYPE_UINT8); gw_u8(&w, 1);
    gw_key(&w, "a.b", GGUF_TYPE_STRING); gw_str(&w, "x");
    expect_error(&w, GGUF_ERR_DUPLICATE, "duplicate key 'a.b' (pairs 0 and 2)");
}

static void test_alignment_key(void) {
    gw w = {0};
    gw_header(&w, 3, 0, 1); gw_key(&w, "general.alignment", GGUF_TYPE_UINT32); gw_u32(&w, 0);
    expect_error(&w, GGUF_ERR_ALIGNMENT, "alignment 0 is not a nonzero power of two");
    gw_header(&w, 3, 0, 1); gw_key(&w, "general.alignment", GGUF_TYPE_UINT32); gw_u32(&w, 3);
    expect_error(&w, GGUF_ERR_ALIGNMENT, "alignment 3");
    gw_header(&w, 3, 0, 1); gw_key(&w, "general.alignment", GGUF_TYPE_UINT32); gw_u32(&w, 0x80000001u);
    expect_error(&w, GGUF_ERR_ALIGNMENT, "alignment 2147483649");
    gw_header(&w, 3, 0, 1); gw_key(&w, "general.alignment", GGUF_TYPE_UINT64); gw_u64(&w, 32);
    expect_error(&w, GGUF_ERR_TYPE, "key 'general.alignment': type is UINT64, expected UINT32");
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Malformed files: tensors */

static void test_tensor_names(void) {
    gw w = {0};
    char long_name[GGUF_MAX_TENSOR_NAME_BYTES + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    gw_tensor t = {long_name, GGML_TYPE_F32, 1, {8, 1, 1, 1}, 0};
    tensor_file(&w, &t, 1, 0, 32);
    expect_error(&w, GGUF_ERR_LIMIT, "tensor name length 257");
    t.name = "";
    tensor_file(&w, &t, 1, 0, 32);
    expect_error(&w, GGUF_ERR_LIMIT, "empty tensor name");
    gw_tensor two[2] = {{"w", GGML_TYPE_F32, 1, {8, 1, 1, 1}, 0}, {"w", GGML_TYPE_F32, 1, {8, 1, 1, 1}, 32}};
    tensor_file(&w, two, 2, 0, 64);
    expect_error(&w, GGUF_ERR_DUPLICATE, "duplicate tensor name 'w' (tensors 0 and 1)");
    /* Control bytes and length in a name reach the message printable and cut. */
    t.name = "bad\x01\x7f\xff-name-that-goes-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on";
    t.n_dims = 5;
    tensor_file(&w, &t, 1, 0, 32);
    expect_error(&w, GGUF_ERR_TENSOR, "tensor 'bad?\?\?-name-that-goes-on-and-on-and-on-and-on-and-on-and-on-and-...'");
}

static void test_shapes(void) {
    gw w = {0};
    gw_tensor t = {"w", GGML_TYPE_F32, 0, {8, 1, 1, 1}, 0};
    tensor_file(&w, &t, 1, 0, 32);
    expect_error(&w, GGUF_ERR_TENSOR, "tensor 'w': n_dims 0");
    t.n_dims = 5;
    tensor_file(&w, &t, 1, 0, 32);
    expect_error(&w, GGUF_ERR_TENSOR, "n_dims 5 at offset");
    t = (gw_tensor){"w", GGML_TYPE_F32, 2, {8, 0, 1, 1}, 0};
    tensor_file(&w, &t, 1, 0, 32);
    expect_error(&w, GGUF_ERR_TENSOR, "dimension 1 of shape [8, 0] is 0");
    t = (gw_tensor){"w", GGML_TYPE_F32, 4, {1ull << 16, 1ull << 16, 1ull << 16, 1ull << 16}, 0};
    tensor_file(&w, &t, 1, 0, 32);
    expect_error(&w, GGUF_ERR_TENSOR, "shape [65536, 65536, 65536, 65536] has more than 2^63-1 elements");
    t = (gw_tensor){"w", GGML_TYPE_F32, 2, {UINT64_MAX, 2, 1, 1}, 0};
    tensor_file(&w, &t, 1, 0, 32);
    expect_error(&w, GGUF_ERR_TENSOR, "more than 2^63-1 elements");
    t = (gw_tensor){"w", GGML_TYPE_Q4_0, 1, {48, 1, 1, 1}, 0};
    tensor_file(&w, &t, 1, 0, 32);
    expect_error(&w, GGUF_ERR_TENSOR, "type Q4_0 stores rows in blocks of 32 elements, but ne[0] is 48");
    t = (gw_tensor){"w", GGML_TYPE_F64, 1, {1ull << 62, 1, 1, 1}, 0}; /* 2^62 elements fit, 2^65 bytes do not */
    tensor_file(&w, &t, 1, 0, 32);
    expect_error(&w, GGUF_ERR_TENSOR, "byte size of F64 [4611686018427387904] overflows");
    t = (gw_tensor){"w", GGML_TYPE_F32, 2, {1ull << 31, 1ull << 31, 1, 1}, 0};
    tensor_file(&w, &t, 1, 0, 32);
    expect_error(&w, GGUF_ERR_TENSOR, "overflows 64 bits");
    t = (gw_tensor){"w", 4, 1, {32, 1, 1, 1}, 0}; /* Q4_2: removed from ggml */
    tensor_file(&w, &t, 1, 0, 32);
    expect_error(&w, GGUF_ERR_TYPE, "unknown ggml type 4");
    t.type = 1000;
    tensor_file(&w, &t, 1, 0, 32);
    expect_error(&w, GGUF_ERR_TYPE, "unknown ggml type 1000");
}

static void test_offsets(void) {
    gw w = {0};
    gw_tensor t = {"w", GGML_TYPE_F32, 1, {8, 1, 1, 1}, 16};
    tensor_file(&w, &t, 1, 0, 64);
    expect_error(&w, GGUF_ERR_TENSOR, "data offset 16 (at file offset 49) is not a multiple of the alignment 32");
    t.offset = 32;
    tensor_file(&w, &t, 1, 64, 128);
    expect_error(&w, GGUF_ERR_TENSOR, "not a multiple of the alignment 64");
    gw_tensor two[2] = {{"a", GGML_TYPE_F32, 1, {16, 1, 1, 1}, 0}, {"b", GGML_TYPE_F32, 1, {8, 1, 1, 1}, 32}};
    tensor_file(&w, two, 2, 0, 64);
    expect_error(&w, GGUF_ERR_TENSOR, "tensor 'a' data [0, 64) overlaps tensor 'b' data [32, 64)");
    two[0].offset = 64; two[1].offset = 32; two[1].ne[0] = 16; /* file order differs from data order */
    tensor_file(&w, two, 2, 0, 128);
    expect_error(&w, GGUF_ERR_TENSOR, "tensor 'b' data [32, 96) overlaps tensor 'a' data [64, 128)");
    two[0].offset = two[1].offset = 0;
    tensor_file(&w, two, 2, 0, 128);
    expect_error(&w, GGUF_ERR_TENSOR, "overlaps");
}

static void test_data_past_end(void) {
    gw w = {0};
    gw_tensor ts[2] = {{"first", GGML_TYPE_F32, 1, {8, 1, 1, 1}, 0}, {"blk.3.attn_q.weight", GGML_TYPE_F32, 1,
                                                                       {64, 1, 1, 1}, 32}};
    tensor_file(&w, ts, 2, 0, 200); /* needs 32 + 256 */
    expect_error(&w, GGUF_ERR_TRUNCATED, "tensor 'blk.3.attn_q.weight': data [offset 32, 256 bytes) ends past the "
                                         "file (size ");
    ts[1].offset = UINT64_MAX - 31; /* aligned, and offset + nbytes wraps: must not */
    tensor_file(&w, ts, 2, 0, 64);
    expect_error(&w, GGUF_ERR_TRUNCATED, "data [offset 18446744073709551584, 256 bytes) ends past the file");
    ts[1].offset = 1ull << 62;
    tensor_file(&w, ts, 2, 0, 64);
    expect_error(&w, GGUF_ERR_TRUNCATED, "ends past the file");
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* API edges */

static void test_arguments_and_messages(void) {
    gguf_file *f = (gguf_file *)&f;
    char error[16];
    uint8_t byte = 0;
    CHECK_STATUS(gguf_open(NULL, 0, &f, error, sizeof error), GGUF_ERR_ARGUMENT);
    CHECK(f == NULL && strcmp(error, "data is NULL") == 0);
    CHECK_STATUS(gguf_open(&byte, 1, NULL, NULL, 0), GGUF_ERR_ARGUMENT);
    CHECK_STATUS(gguf_open(&byte, 0, &f, NULL, 100), GGUF_ERR_TRUNCATED); /* NULL buffer: capacity ignored */
    memset(error, 'x', sizeof error);
    CHECK_STATUS(gguf_open(&byte, 1, &f, error, 1), GGUF_ERR_TRUNCATED);
    CHECK(error[0] == 0 && error[1] == 'x');
    CHECK_STATUS(gguf_open(&byte, 1, &f, error, 8), GGUF_ERR_TRUNCATED);
    CHECK(strlen(error) == 7 && error[8] == 'x');
    gguf_close(NULL);
    CHECK(strcmp(gguf_status_name(GGUF_ERR_RANGE), "GGUF_ERR_RANGE") == 0);
    CHECK(strcmp(gguf_status_name(99), "GGUF_ERR_?") == 0 && strcmp(gguf_status_name(-1), "GGUF_ERR_?") == 0);
    CHECK(strcmp(gguf_value_type_name(GGUF_TYPE_FLOAT64), "FLOAT64") == 0);
    CHECK(strcmp(gguf_value_type_name(13), "?") == 0);
}

int main(void) {
    run("sample file: every scalar type", test_scalars);
    run("getters: coercion rules", test_coercions);
    run("arrays: numbers and strings, O(1) elements", test_arrays);
    run("tensors at alignments default, 1, 2, 8, 32, 64, 4096", test_tensors_and_alignments);
    run("version 2 accepted", test_version_2);
    run("header-only file", test_empty_file);
    run("2000 keys and tensors: lookups", test_many_names);
    run("truncated at every byte offset", test_truncation_everywhere);
    run("bad magic", test_bad_magic);
    run("versions 0, 1, 4 and big-endian refused", test_versions);
    run("huge counts", test_huge_counts);
    run("strings: past end, over limits, empty key", test_strings);
    run("value types: unknown, nested array, bool not 0/1", test_value_types);
    run("arrays: huge counts, elements past end", test_huge_arrays);
    run("duplicate key", test_duplicate_key);
    run("general.alignment 0, 3, odd, wrong type", test_alignment_key);
    run("tensor names: too long, empty, duplicate, unprintable", test_tensor_names);
    run("tensor shapes: n_dims 0 and 5, ne 0, overflows, blocks, types", test_shapes);
    run("tensor offsets: misaligned, overlapping", test_offsets);
    run("tensor data past the end", test_data_past_end);
    run("arguments and message buffers", test_arguments_and_messages);
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
