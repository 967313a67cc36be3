/*
 * test_fuzz_gguf.c — fuzzing the GGUF reader. Two builds of one file:
 *   - with -DPLEXUS_LIBFUZZER: LLVMFuzzerTestOneInput only, for libFuzzer (`make fuzz-gguf`);
 *   - without (as `make plugin-tests` builds it): a main() running a deterministic mutation fuzz under ASan/UBSan,
 *     from small valid synthetic files and from the first 64 KiB of each real model if present. Iterations:
 *     PLEXUS_FUZZ_ITERATIONS (default 200000). `test_fuzz_gguf --write-seeds DIR` writes the seeds as files.
 * Every input must either open and then satisfy the reader's promises (checked below, every pointer it hands out
 * touched), or fail cleanly with a status and a message. Any violation aborts under libFuzzer and fails the test.
 */
#define _POSIX_C_SOURCE 200809L

#include "ggml_types.h"
#include "gguf.h"
#include "gguf_test_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef PLEXUS_LIBFUZZER
static void violation(const char *what) {
    fprintf(stderr, "violation: %s\n", what);
    abort(); /* libFuzzer saves the input as a crash */
}
#else
static int violations;

static void violation(const char *what) {
    fprintf(stderr, "violation: %s\n", what);
    violations++;
}
#endif

#define PROMISE(cond) do { if (!(cond)) violation(#cond); } while (0)

static volatile uint8_t sink;

/* Reads the first and last byte of [p, p + n): ASan reports it if the reader handed out memory outside the input. */
static void touch(const void *p, uint64_t n) {
    if (n) sink ^= ((const uint8_t *)p)[0] ^ ((const uint8_t *)p)[n - 1];
}

static int inside(const uint8_t *data, size_t size, const void *p, uint64_t n) {
    const uint8_t *q = p;
    return q >= data && (uint64_t)(q - data) <= size && n <= size - (uint64_t)(q - data);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* What an opened file promises */

static void exercise_element(const uint8_t *data, size_t size, const gguf_array *a, uint64_t i) {
    uint32_t u32; int32_t i32; uint64_t u64; int64_t i64; float f32; double f64; int b; gguf_string s;
    (void)gguf_array_u32(a, i, &u32); (void)gguf_array_i32(a, i, &i32);
    (void)gguf_array_u64(a, i, &u64); (void)gguf_array_i64(a, i, &i64);
    (void)gguf_array_f32(a, i, &f32); (void)gguf_array_f64(a, i, &f64);
    (void)gguf_array_bool(a, i, &b);
    if (gguf_array_string(a, i, &s) == GGUF_OK) {
        PROMISE(a->type == GGUF_TYPE_STRING && inside(data, size, s.ptr, s.len));
        touch(s.ptr, s.len);
    }
}

static void exercise_kv(const uint8_t *data, size_t size, const gguf_file *f, const gguf_kv *kv) {
    PROMISE(kv->key.len > 0 && inside(data, size, kv->key.ptr, kv->key.len));
    touch(kv->key.ptr, kv->key.len);
    char key[256];
    if (kv->key.len < sizeof key && memchr(kv->key.ptr, 0, kv->key.len) == NULL) {
        memcpy(key, kv->key.ptr, kv->key.len);
        key[kv->key.len] = 0;
        PROMISE(gguf_find_key(f, key) == kv); /* keys are unique */
        uint32_t u32; int32_t i32; uint64_t u64; int64_t i64; float f32; double f64; int b; gguf_string s;
        gguf_array a;
        (void)gguf_get_u32(f, key, &u32); (void)gguf_get_i32(f, key, &i32);
        (void)gguf_get_u64(f, key, &u64); (void)gguf_get_i64(f, key, &i64);
        (void)gguf_get_f32(f, key, &f32); (void)gguf_get_f64(f, key, &f64);
        (void)gguf_get_bool(f, key, &b); (void)gguf_get_string(f, key, &s); (void)gguf_get_array(f, key, &a);
    }
    if (kv->type == GGUF_TYPE_STRING) {
        PROMISE(inside(data, size, kv->value.str.ptr, kv->value.str.len));
        touch(kv->value.str.ptr, kv->value.str.len);
    }
    if (kv->type != GGUF_TYPE_ARRAY) return;
    const gguf_array *a = &kv->value.arr;
    PROMISE(a->type != GGUF_TYPE_ARRAY && inside(data, size, a->data, a->nbytes));
    touch(a->data, a->nbytes);
    /* The first and last 128 elements: enough to cross every boundary without quadratic time. */
    for (uint64_t i = 0; i < a->count && i < 128; i++) exercise_element(data, size, a, i);
    for (uint64_t i = a->count > 256 ? a->count - 128 : 128; i < a->count; i++) exercise_element(data, size, a, i);
    gguf_string s;
    PROMISE(gguf_array_string(a, a->count, &s) == GGUF_ERR_RANGE);
}

static int compare_offsets(const void *a, const void *b) {
    uint64_t x = (*(const gguf_tensor *const *)a)->offset, y = (*(const gguf_tensor *const *)b)->offset;
    return (x > y) - (x < y);
}

static void exercise_tensors(const uint8_t *data, size_t size, const gguf_file *f) {
    uint64_t n = gguf_tensor_count(f), align = gguf_alignment(f);
    const gguf_tensor **sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (sorted == NULL) abort();
    for (uint64_t i = 0; i < n; i++) {
        const gguf_tensor *t = sorted[i] = gguf_tensor_at(f, i);
        PROMISE(t->n_dims >= 1 && t->n_dims <= 4 && ggml_traits(t->type) != NULL);
        for (uint32_t d = 0; d < 4; d++) PROMISE(t->ne[d] >= 1 && (d < t->n_dims || t->ne[d] == 1));
        PROMISE(t->offset % align == 0);
        PROMISE(t->nbytes == ggml_row_bytes(t->type, t->ne[0]) * t->ne[1] * t->ne[2] * t->ne[3]);
        PROMISE(inside(data, size, t->data, t->nbytes));
        PROMISE(t->data == data + gguf_data_offset(f) + t->offset);
        touch(t->data, t->nbytes);
        touch(t->name.ptr, t->name.len);
        char name[GGUF_MAX_TENSOR_NAME_BYTES + 1];
        if (memchr(t->name.ptr, 0, t->name.len) == NULL) {
            memcpy(name, t->name.ptr, t->name.len);
            name[t->name.len] = 0;
            PROMISE(gguf_find_tensor(f, name) == t); /* names are unique */
        }
    }
    qsort(sorted, n, sizeof *sorted, compare_offsets);
    for (uint64_t i = 1; i < n; i++) PROMISE(sorted[i - 1]->offset + sorted[i - 1]->nbytes <= sorted[i]->offset);
    free(sorted);
}

/* Opens one input and checks every promise; returns the status. */
static int check_input(const uint8_t *data, size_t size) {
    gguf_file *f = NULL;
    char error[256];
    int rc = gguf_open(data, size, &f, error, sizeof error);
    if (rc != GGUF_OK) {
        PROMISE(f == NULL && error[0] != 0 && rc > GGUF_OK && rc <= GGUF_ERR_NOMEM);
        return rc;
    }
    uint32_t align = gguf_alignment(f);
    PROMISE(align != 0 && (align & (align - 1)) == 0 && gguf_data_offset(f) % align == 0);
    PROMISE(gguf_version(f) == 2 || gguf_version(f) == 3);
    for (uint64_t i = 0; i < gguf_kv_count(f); i++) exercise_kv(data, size, f, gguf_kv_at(f, i));
    exercise_tensors(data, size, f);
    gguf_close(f);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_input(data, size);
    return 0;
}

#ifndef PLEXUS_LIBFUZZER
/* ---------------------------------------------------------------------------------------------------------------- */
/* Deterministic mutation fuzz */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void) { /* splitmix64: seeded, so every run fuzzes the same inputs */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t below(size_t n) { return n ? (size_t)(next_random() % n) : 0; }

/* A seed: its bytes and where its integer fields are (empty for model prefixes: random offsets then). */
typedef struct seed {
    const char *name;
    gw w;
    size_t iterations;
} seed;

static uint64_t interesting(size_t size) {
    static const uint64_t values[] = {0, 1, 2, 3, 4, 5, 7, 8, 13, 31, 32, 33, 64, 255, 256, 4096, 65535, 65536,
                                      0x7fffffffull, 0x80000000ull, 0xffffffffull, 0x100000000ull,
                                      0x7fffffffffffffffull, 0x8000000000000000ull, UINT64_MAX, UINT64_MAX - 31};
    size_t k = below(sizeof values / sizeof values[0] + 4);
    if (k < sizeof values / sizeof values[0]) return values[k];
    if (k == sizeof values / sizeof values[0]) return size;
    if (k == sizeof values / sizeof values[0] + 1) return size - 1;
    return next_random() >> below(64);
}

/* Picks an offset, half the time in the first 2 KiB, where the header and most metadata sit. */
static size_t pick(size_t len) { return below(2) && len > 2048 ? below(2048) : below(len); }

/* One random edit of buf[0, *len) (capacity cap). */
static void mutate(const seed *s, uint8_t *buf, size_t *len, size_t cap) {
    size_t n = *len;
    if (n == 0) return;
    switch (below(8)) {
    case 0: buf[pick(n)] ^= (uint8_t)(1u << below(8)); break;
    case 1: buf[pick(n)] = (uint8_t)interesting(n); break;
    case 2: case 3: { /* a hostile integer over an integer field (or anywhere, for model prefixes) */
        size_t at, width;
        if (s->w.n_ints) { int k = (int)below((size_t)s->w.n_ints); at = s->w.int_at[k]; width = s->w.int_bytes[k]; }
        else { at = pick(n); width = below(2) ? 8 : 4; }
        uint64_t v = interesting(n);
        for (size_t i = 0; i < width && at + i < n; i++) buf[at + i] = (uint8_t)(v >> (8 * i));
        break;
    }
    case 4: *len = below(n); break; /* truncate */
    case 5: { /* insert 1..16 random bytes, or a hostile integer before an integer field */
        int as_int = s->w.n_ints > 0 && below(2);
        size_t k = as_int ? (below(2) ? 8 : 4) : 1 + below(16);
        size_t at = as_int ? s->w.int_at[below((size_t)s->w.n_ints)] : pick(n);
        uint64_t v = interesting(n);
        if (n + k > cap || at > n) break;
        memmove(buf + at + k, buf + at, n - at);
        for (size_t i = 0; i < k; i++) buf[at + i] = as_int ? (uint8_t)(v >> (8 * i)) : (uint8_t)next_random();
        *len = n + k;
        break;
    }
    case 6: { /* delete 1..16 bytes */
        size_t at = pick(n), k = 1 + below(16);
        if (k > n - at) k = n - at;
        memmove(buf + at, buf + at + k, n - at - k);
        *len = n - k;
        break;
    }
    default: { /* copy a chunk over another place: duplicate keys, names, offsets */
        size_t from = pick(n), to = pick(n), k = 1 + below(32);
        if (k > n - from) k = n - from;
        if (k > n - to) k = n - to;
        memmove(buf + to, buf + from, k);
        break;
    }
    }
}

/* Runs `iterations` mutants of the seed, each an exact-size heap copy so ASan sees reads past its end. */
static void fuzz_seed(const seed *s, int histogram[GGUF_ERR_RANGE + 1]) {
    size_t cap = s->w.len + 64;
    uint8_t *buf = malloc(cap);
    if (buf == NULL) abort();
    for (size_t it = 0; it < s->iterations; it++) {
        size_t len = s->w.len;
        memcpy(buf, s->w.buf, len);
        for (size_t k = 1 + below(4); k > 0; k--) mutate(s, buf, &len, cap);
        uint8_t *input = malloc(len ? len : 1);
        if (input == NULL) abort();
        memcpy(input, buf, len);
        int rc = check_input(input, len);
        histogram[rc >= 0 && rc <= GGUF_ERR_RANGE ? rc : GGUF_ERR_RANGE]++;
        free(input);
    }
    free(buf);
}

/* A model-like seed: a vocab, scores, token types and 12 tensors of the K-quant and plain types in 1 to 4 dims. */
static void gw_model_like(gw *w) {
    static const uint32_t types[] = {GGML_TYPE_Q4_K, GGML_TYPE_Q6_K, GGML_TYPE_F16, GGML_TYPE_BF16,
                                     GGML_TYPE_Q5_K, GGML_TYPE_Q8_0};
    gw_tensor ts[12];
    char names[12][32];
    uint64_t offset = 0;
    for (int i = 0; i < 12; i++) {
        snprintf(names[i], sizeof names[i], "blk.%d.ffn_up.weight", i);
        uint32_t type = types[i % 6];
        uint32_t n_dims = (uint32_t)(1 + i % 4);
        uint64_t ne1 = n_dims >= 2 ? 1 + (uint64_t)(i % 3) : 1, ne2 = n_dims >= 3 ? 1 + (uint64_t)(i % 2) : 1;
        ts[i] = (gw_tensor){names[i], type, n_dims, {ggml_traits(type)->block_size, ne1, ne2, 1}, offset};
        offset += (gw_tensor_bytes(&ts[i]) + 31) / 32 * 32;
    }
    gw_header(w, 3, 12, 5);
    gw_key(w, "general.architecture", GGUF_TYPE_STRING); gw_str(w, "llama");
    gw_key(w, "llama.block_count", GGUF_TYPE_UINT32); gw_u32(w, 12);
    gw_array(w, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, 40);
    for (int i = 0; i < 40; i++) { char tok[16]; snprintf(tok, sizeof tok, "tok%d", i); gw_str(w, tok); }
    gw_array(w, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, 40);
    for (int i = 0; i < 40; i++) gw_f32(w, -(float)i);
    gw_array(w, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, 40);
    for (int i = 0; i < 40; i++) gw_u32(w, 1);
    gw_tensors(w, ts, 12, 32, offset);
}

/* The first 64 KiB of a model: header and the start of its metadata. */
static int model_prefix(gw *w, const char *dir, const char *file) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) return 0;
    uint8_t chunk[65536];
    size_t n = fread(chunk, 1, sizeof chunk, fp);
    fclose(fp);
    gw_bytes(w, chunk, n);
    return n > 0;
}

static int write_seeds(const char *dir, seed *seeds, int n) {
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.seed", dir, seeds[i].name);
        FILE *fp = fopen(path, "wb");
        if (fp == NULL || fwrite(seeds[i].w.buf, 1, seeds[i].w.len, fp) != seeds[i].w.len) return 1;
        fclose(fp);
        printf("%s\n", path);
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *env = getenv("PLEXUS_FUZZ_ITERATIONS");
    size_t total = env ? (size_t)strtoull(env, NULL, 10) : 200000;
    const char *dir = getenv("PLEXUS_MODEL_CACHE");
    if (dir == NULL || dir[0] == 0) dir = "../../../.cache/models";
    seed seeds[6] = {{.name = "sample-v3"}, {.name = "sample-v2-align64"}, {.name = "model-like"},
                      {.name = "sample-align1"}};
    gw_sample(&seeds[0].w, 3, 0);
    gw_sample(&seeds[1].w, 2, 64);
    gw_model_like(&seeds[2].w);
    gw_sample(&seeds[3].w, 3, 1);
    int n = 4;
    static const char *models[] = {"SmolLM2-135M-Instruct.Q4_1.gguf", "gemma3-270m-Q4_K_M.gguf"};
    for (int m = 0; m < 2; m++) {
        seeds[n].name = models[m];
        if (model_prefix(&seeds[n].w, dir, models[m])) n++;
        else printf("note: %s/%s absent: fuzzing without its prefix\n", dir, models[m]);
    }
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) return write_seeds(argv[2], seeds, n);
    /* Synthetic seeds get most of the budget: every byte of them is structure. */
    for (int i = 0; i < n; i++) seeds[i].iterations = i < 4 ? total * 2 / 9 : total / 18;
    int passed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        int histogram[GGUF_ERR_RANGE + 1] = {0};
        int before = violations;
        fuzz_seed(&seeds[i], histogram);
        printf("%s fuzz %s (%zu bytes): %zu mutants, %d opened;", violations == before ? "PASS" : "FAIL",
               seeds[i].name, seeds[i].w.len, seeds[i].iterations, histogram[GGUF_OK]);
        for (int k = 1; k <= GGUF_ERR_RANGE; k++)
            if (histogram[k]) printf(" %s %d", gguf_status_name(k) + 9, histogram[k]);
        printf("\n");
        if (violations == before) passed++;
        else failed++;
        gw_free(&seeds[i].w);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
#endif
