/*
 * test_gguf_models.c — the GGUF reader on the two real models, mapped with mmap, against golden listings written by
 * an independent reader (golden/gguf_tensors.py, the `gguf` PyPI package): every key-value pair and every tensor
 * (name, type, dims, offset, nbytes, first bytes of data) must match. Also times gguf_open.
 *
 * The models come from scripts/fetch-models into $PLEXUS_MODEL_CACHE (default <repo>/.cache/models, which is
 * ../../../.cache/models from this test's working directory). A missing model is a failure, not a skip: CI fetches
 * them.
 */
#define _POSIX_C_SOURCE 200809L

#include "ggml_types.h"
#include "gguf.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int case_failed, n_passed, n_failed;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);         \
            case_failed = 1;                                                          \
        }                                                                             \
    } while (0)

static void report(const char *model, const char *what) {
    printf("%s %s: %s\n", case_failed ? "FAIL" : "PASS", model, what);
    if (case_failed) n_failed++;
    else n_passed++;
    case_failed = 0;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* The golden rendering: must stay identical to golden/gguf_tensors.py (its docstring has the format). */

#define TEXT_BYTES 80
#define HEAD_BYTES 256
#define FNV_OFFSET 0xcbf29ce484222325ull

static uint64_t fnv(const void *data, uint64_t n, uint64_t h) {
    const uint8_t *p = data;
    for (uint64_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* A growing text buffer; lines end with '\n'. */
typedef struct text {
    char *buf;
    size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
        if (t->buf == NULL) abort();
    }
    va_start(ap, fmt);
    vsnprintf(t->buf + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

static void put_escaped(text *t, const char *s, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x21 && c <= 0x7e && c != '\\' && c != '"') put(t, "%c", c);
        else put(t, "\\x%02x", c);
    }
}

static void put_text(text *t, gguf_string s) {
    put(t, "\"");
    put_escaped(t, s.ptr, s.len < TEXT_BYTES ? s.len : TEXT_BYTES);
    put(t, "\"");
}

static int is_unsigned(uint32_t type) {
    return type == GGUF_TYPE_UINT8 || type == GGUF_TYPE_UINT16 || type == GGUF_TYPE_UINT32 ||
           type == GGUF_TYPE_UINT64 || type == GGUF_TYPE_BOOL;
}

/* Element i of an array, rendered through the typed element getters. */
static void put_element(text *t, const gguf_array *a, uint64_t i) {
    uint64_t u; int64_t s; float f; double d; int b; gguf_string str;
    if (a->type == GGUF_TYPE_STRING && gguf_array_string(a, i, &str) == GGUF_OK) put_text(t, str);
    else if (a->type == GGUF_TYPE_BOOL && gguf_array_bool(a, i, &b) == GGUF_OK) put(t, "%d", b);
    else if (is_unsigned(a->type) && gguf_array_u64(a, i, &u) == GGUF_OK) put(t, "%" PRIu64, u);
    else if (a->type == GGUF_TYPE_FLOAT32 && gguf_array_f32(a, i, &f) == GGUF_OK) put(t, "%.9g", f);
    else if (a->type == GGUF_TYPE_FLOAT64 && gguf_array_f64(a, i, &d) == GGUF_OK) put(t, "%.17g", d);
    else if (gguf_array_i64(a, i, &s) == GGUF_OK) put(t, "%" PRId64, s);
    else put(t, "?");
}

static void put_array(text *t, const gguf_array *a) {
    uint64_t h = FNV_OFFSET;
    gguf_string s;
    put(t, " ARRAY[%s] count=%" PRIu64, gguf_value_type_name(a->type), a->count);
    if (a->type == GGUF_TYPE_STRING) {
        for (uint64_t i = 0; i < a->count && gguf_array_string(a, i, &s) == GGUF_OK; i++) {
            uint8_t len[8];
            for (int k = 0; k < 8; k++) len[k] = (uint8_t)(s.len >> (8 * k));
            h = fnv(s.ptr, s.len, fnv(len, 8, h));
        }
    } else {
        h = fnv(a->data, a->nbytes, h);
    }
    put(t, " fnv=%016" PRIx64, h);
    if (a->count) {
        put(t, " first=");
        put_element(t, a, 0);
        put(t, " last=");
        put_element(t, a, a->count - 1);
    }
}

static void put_kv(text *t, const gguf_kv *kv) {
    put(t, "kv ");
    put_escaped(t, kv->key.ptr, kv->key.len);
    switch (kv->type) {
    case GGUF_TYPE_STRING:
        put(t, " STRING len=%" PRIu64 " fnv=%016" PRIx64 " ", kv->value.str.len,
            fnv(kv->value.str.ptr, kv->value.str.len, FNV_OFFSET));
        put_text(t, kv->value.str);
        break;
    case GGUF_TYPE_ARRAY: put_array(t, &kv->value.arr); break;
    case GGUF_TYPE_FLOAT32: put(t, " FLOAT32 %.9g", kv->value.f64); break;
    case GGUF_TYPE_FLOAT64: put(t, " FLOAT64 %.17g", kv->value.f64); break;
    default:
        if (is_unsigned(kv->type)) put(t, " %s %" PRIu64, gguf_value_type_name(kv->type), kv->value.u64);
        else put(t, " %s %" PRId64, gguf_value_type_name(kv->type), kv->value.i64);
    }
    put(t, "\n");
}

static void put_tensor(text *t, const gguf_tensor *x) {
    put(t, "tensor ");
    put_escaped(t, x->name.ptr, x->name.len);
    put(t, " %s dims=", ggml_traits(x->type)->name);
    for (uint32_t d = 0; d < x->n_dims; d++) put(t, d ? ",%" PRIu64 : "%" PRIu64, x->ne[d]);
    put(t, " offset=%" PRIu64 " nbytes=%" PRIu64 " head=%016" PRIx64 "\n", x->offset, x->nbytes,
        fnv(x->data, x->nbytes < HEAD_BYTES ? x->nbytes : HEAD_BYTES, FNV_OFFSET));
}

static text render(const gguf_file *f, uint64_t size) {
    text t = {0};
    put(&t, "file_size %" PRIu64 "\nversion %" PRIu32 "\nalignment %" PRIu32 "\ndata_offset %" PRIu64 "\n", size,
        gguf_version(f), gguf_alignment(f), gguf_data_offset(f));
    put(&t, "kv_count %" PRIu64 "\ntensor_count %" PRIu64 "\n", gguf_kv_count(f), gguf_tensor_count(f));
    for (uint64_t i = 0; i < gguf_kv_count(f); i++) put_kv(&t, gguf_kv_at(f, i));
    for (uint64_t i = 0; i < gguf_tensor_count(f); i++) put_tensor(&t, gguf_tensor_at(f, i));
    return t;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Checks per model */

static char *read_file(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) return NULL;
    text t = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) put(&t, "%.*s", (int)n, chunk);
    fclose(fp);
    if (t.buf == NULL) put(&t, "");
    return t.buf;
}

/* Compares the rendering with the golden file (its '#' lines skipped), printing the first differences. */
static void compare_golden(const char *golden_path, const char *got) {
    char *want = read_file(golden_path);
    if (want == NULL) {
        printf("  cannot read %s: run golden/gguf_tensors.py\n", golden_path);
        case_failed = 1;
        return;
    }
    const char *w = want, *g = got;
    int line = 0, shown = 0;
    while (*w || *g) {
        if (*w == '#') { w = strchr(w, '\n'); w = w ? w + 1 : ""; continue; }
        line++;
        size_t wn = strcspn(w, "\n"), gn = strcspn(g, "\n");
        if ((wn != gn || memcmp(w, g, wn) != 0) && shown++ < 5) {
            printf("  line %d differs\n    want: %.*s\n    got:  %.*s\n", line, (int)(wn > 300 ? 300 : wn), w,
                   (int)(gn > 300 ? 300 : gn), g);
            case_failed = 1;
        }
        w += wn + (w[wn] == '\n');
        g += gn + (g[gn] == '\n');
    }
    if (shown > 5) printf("  ... %d differing lines in all\n", shown);
    free(want);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Median of 5 opens: the first one also pages in the metadata. */
static double time_open(const uint8_t *data, uint64_t size) {
    double ms[5];
    for (int i = 0; i < 5; i++) {
        gguf_file *f = NULL;
        double t0 = now_ms();
        int rc = gguf_open(data, size, &f, NULL, 0);
        ms[i] = now_ms() - t0;
        CHECK(rc == GGUF_OK);
        gguf_close(f);
    }
    for (int i = 1; i < 5; i++)
        for (int j = i; j > 0 && ms[j] < ms[j - 1]; j--) { double x = ms[j]; ms[j] = ms[j - 1]; ms[j - 1] = x; }
    return ms[2];
}

static void check_lookups(const gguf_file *f) {
    for (uint64_t i = 0; i < gguf_tensor_count(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        char name[GGUF_MAX_TENSOR_NAME_BYTES + 1];
        memcpy(name, t->name.ptr, t->name.len);
        name[t->name.len] = 0;
        CHECK(gguf_find_tensor(f, name) == t);
    }
    for (uint64_t i = 0; i < gguf_kv_count(f); i++) {
        const gguf_kv *kv = gguf_kv_at(f, i);
        char key[256];
        if (kv->key.len >= sizeof key) continue;
        memcpy(key, kv->key.ptr, kv->key.len);
        key[kv->key.len] = 0;
        CHECK(gguf_find_key(f, key) == kv);
    }
}

static int string_is(gguf_string s, const char *want) {
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

/* A few values through the typed getters, as a model loader will read them (values from the golden listings). */
static void check_smollm(const gguf_file *f) {
    uint32_t u; float x; gguf_string s; gguf_array a; int b;
    CHECK(gguf_get_string(f, "general.architecture", &s) == GGUF_OK && string_is(s, "llama"));
    CHECK(gguf_get_u32(f, "llama.block_count", &u) == GGUF_OK && u == 30);
    CHECK(gguf_get_u32(f, "llama.attention.head_count_kv", &u) == GGUF_OK && u == 3);
    CHECK(gguf_get_f32(f, "llama.rope.freq_base", &x) == GGUF_OK && x == 100000.0f);
    CHECK(gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &b) == GGUF_OK && b == 0);
    CHECK(gguf_get_array(f, "tokenizer.ggml.tokens", &a) == GGUF_OK && a.count == 49152);
    CHECK(gguf_array_string(&a, 0, &s) == GGUF_OK && string_is(s, "<|endoftext|>"));
    CHECK(gguf_get_array(f, "tokenizer.ggml.merges", &a) == GGUF_OK && a.count == 48900);
    CHECK(gguf_array_string(&a, 48899, &s) == GGUF_OK && string_is(s, "ect able"));
    const gguf_tensor *t = gguf_find_tensor(f, "token_embd.weight");
    CHECK(t && t->type == GGML_TYPE_Q8_0 && t->ne[0] == 576 && t->ne[1] == 49152 && t->nbytes == 30081024);
}

static void check_gemma(const gguf_file *f) {
    uint32_t u; int32_t i; float x; gguf_string s; gguf_array a; int b;
    CHECK(gguf_get_string(f, "general.architecture", &s) == GGUF_OK && string_is(s, "gemma3"));
    CHECK(gguf_get_u32(f, "gemma3.context_length", &u) == GGUF_OK && u == 32768);
    CHECK(gguf_get_u32(f, "gemma3.attention.sliding_window", &u) == GGUF_OK && u == 512);
    CHECK(gguf_get_f32(f, "gemma3.rope.freq_base", &x) == GGUF_OK && x == 1000000.0f);
    CHECK(gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &b) == GGUF_OK && b == 1);
    CHECK(gguf_get_array(f, "tokenizer.ggml.tokens", &a) == GGUF_OK && a.count == 262144);
    CHECK(gguf_array_string(&a, 0, &s) == GGUF_OK && string_is(s, "<pad>"));
    CHECK(gguf_array_string(&a, 262143, &s) == GGUF_OK && string_is(s, "<unused6241>"));
    CHECK(gguf_get_array(f, "tokenizer.ggml.scores", &a) == GGUF_OK && gguf_array_f32(&a, 0, &x) == GGUF_OK &&
          x == -1000.0f);
    CHECK(gguf_get_array(f, "tokenizer.ggml.token_type", &a) == GGUF_OK && gguf_array_i32(&a, 0, &i) == GGUF_OK &&
          i == 3);
    const gguf_tensor *t = gguf_find_tensor(f, "token_embd.weight");
    CHECK(t && t->type == GGML_TYPE_Q8_0 && t->ne[0] == 640 && t->ne[1] == 262144 && t->nbytes == 178257920);
}

static void test_model(const char *dir, const char *stem, void (*check_values)(const gguf_file *)) {
    char path[4096], golden[512], model[256];
    snprintf(model, sizeof model, "%s.gguf", stem);
    snprintf(path, sizeof path, "%s/%s.gguf", dir, stem);
    snprintf(golden, sizeof golden, "golden/%s.txt", stem);
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
        printf("  model %s not found: run scripts/fetch-models (it downloads into $PLEXUS_MODEL_CACHE, default "
               "<repo>/.cache/models)\n", path);
        case_failed = 1;
        if (fd >= 0) close(fd);
        report(model, "present");
        return;
    }
    uint64_t size = (uint64_t)st.st_size;
    const uint8_t *data = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    CHECK(data != MAP_FAILED);
    report(model, "present and mapped");
    if (data == MAP_FAILED) return;
    char error[512];
    gguf_file *f = NULL;
    int rc = gguf_open(data, size, &f, error, sizeof error);
    if (rc != GGUF_OK) printf("  %s: %s\n", gguf_status_name(rc), error);
    CHECK(rc == GGUF_OK);
    if (f) printf("  open: %.2f ms median of 5 (%" PRIu64 " keys, %" PRIu64 " tensors, %" PRIu64 " bytes)\n",
                  time_open(data, size), gguf_kv_count(f), gguf_tensor_count(f), size);
    report(model, "opens");
    if (f) {
        text t = render(f, size);
        compare_golden(golden, t.buf);
        free(t.buf);
        report(model, "matches the golden listing of every key and tensor");
        check_lookups(f);
        report(model, "every key and tensor found by name");
        check_values(f);
        report(model, "typed getters");
    }
    gguf_close(f);
    munmap((void *)data, (size_t)size);
}

int main(void) {
    const char *dir = getenv("PLEXUS_MODEL_CACHE");
    if (dir == NULL || dir[0] == 0) dir = "../../../.cache/models";
    test_model(dir, "SmolLM2-135M-Instruct.Q4_1", check_smollm);
    test_model(dir, "gemma3-270m-Q4_K_M", check_gemma);
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
