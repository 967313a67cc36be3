/*
 * image_test.h — what the image plugin's C tests share: a tiny harness (CHECK, run), whole-file reads into exact-size
 * heap copies (so ASan flags any read past the end), the trained model and the golden cases of
 * reference_digits.py. Tests run from Tests/Plugins/image (make plugin-tests does).
 */
#ifndef PLEXUS_IMAGE_TEST_H
#define PLEXUS_IMAGE_TEST_H

#include "gguf.h"
#include "image_format.h"
#include "image_sampler.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int case_failed, n_passed, n_failed;

#define CHECK(cond)                                                                                                  \
    do {                                                                                                             \
        if (!(cond)) {                                                                                               \
            printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);                                       \
            case_failed = 1;                                                                                         \
        }                                                                                                            \
    } while (0)

/* Like CHECK, but ends the test case when it fails (for what the rest of the case needs). */
#define REQUIRE(cond)                                                                                                \
    do {                                                                                                             \
        if (!(cond)) {                                                                                               \
            printf("  %s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #cond);                                    \
            case_failed = 1;                                                                                         \
            return;                                                                                                  \
        }                                                                                                            \
    } while (0)

static inline void run(const char *name, void (*fn)(void)) {
    case_failed = 0;
    fn();
    printf("%s %s\n", case_failed ? "FAIL" : "PASS", name);
    fflush(stdout);
    if (case_failed) n_failed++;
    else n_passed++;
}

static inline int finish_tests(void) {
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed == 0 ? 0 : 1;
}

/* The trained model and its golden cases; PLEXUS_DIGITS_MODEL / PLEXUS_DIGITS_GOLDEN override the paths. */
static inline const char *model_path(void) {
    const char *p = getenv("PLEXUS_DIGITS_MODEL");
    return p != NULL ? p : "../../../.cache/models/digits-ddim.gguf";
}

static inline const char *golden_path(void) {
    const char *p = getenv("PLEXUS_DIGITS_GOLDEN");
    return p != NULL ? p : "../../../.cache/digits/golden.bin";
}

#define MISSING_HINT                                                                                                 \
    ".ci/run makes it: python3 scripts/train_digits_ddim.py (the model), then python3 "                            \
    "Tests/Plugins/image/reference_digits.py .cache/models/digits-ddim.gguf --out .cache/digits/golden.bin "        \
    "(the golden cases), both with PYTHONPATH=.cache/pydeps"

/* The whole file in an exact-size heap block, or NULL (with a message unless `quiet`) when it cannot be read. */
static inline uint8_t *read_file_bytes(const char *path, uint64_t *size, int quiet) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (!quiet) printf("  cannot open %s\n  %s\n", path, MISSING_HINT);
        return NULL;
    }
    uint8_t *data = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        data = malloc(n > 0 ? (size_t)n : 1);
        if (data != NULL && fread(data, 1, (size_t)n, f) != (size_t)n) {
            free(data);
            data = NULL;
        }
    }
    fclose(f);
    if (data == NULL && !quiet) printf("  cannot read %s\n", path);
    *size = data != NULL ? (uint64_t)n : 0;
    return data;
}

static inline uint8_t *read_file(const char *path, uint64_t *size) { return read_file_bytes(path, size, 0); }

/* A checked model: the parsed file, its config, and the weights packed as the plugin packs them. */
typedef struct test_model {
    uint8_t *bytes;
    uint64_t size;
    gguf_file *gguf;
    image_config config;
    image_layout layout;
    void *packed;
    image_weights weights;
} test_model;

static inline void free_model(test_model *m) {
    gguf_close(m->gguf);
    free(m->bytes);
    free(m->packed);
    memset(m, 0, sizeof *m);
}

/* Loads, checks and packs the model file; 0 on success. */
static inline int load_model(const char *path, test_model *m) {
    memset(m, 0, sizeof *m);
    char error[512] = {0};
    if ((m->bytes = read_file(path, &m->size)) == NULL) return -1;
    if (gguf_open(m->bytes, m->size, &m->gguf, error, sizeof error) != GGUF_OK ||
        image_format_read(m->gguf, &m->config, &m->layout, error, sizeof error) != PX_OK) {
        printf("  %s: %s\n", path, error);
        free_model(m);
        return -1;
    }
    m->packed = aligned_alloc(64, (m->layout.total_bytes + 63) / 64 * 64);
    if (m->packed == NULL) {
        free_model(m);
        return -1;
    }
    for (uint32_t i = 0; i < IMAGE_TENSOR_COUNT; i++)
        image_pack_tensor(i, m->layout.source[i], (float *)(void *)((uint8_t *)m->packed + m->layout.offset[i]));
    image_weights_bind(&m->layout, m->packed, &m->weights);
    return 0;
}

/* One golden case of reference_digits.py; the arrays point into the golden file's bytes. */
typedef struct golden_case {
    uint64_t seed;
    uint32_t cls, width, height, n_images, n_steps;
    float guidance;
    const uint8_t *noise;     /* f32 [n_images, H, W] little-endian, unaligned */
    const uint8_t *first_eps; /* f32 [H, W] */
    const uint8_t *final_x;   /* f32 [n_images, H, W] */
    const uint8_t *pixels;    /* u8 [n_images, H, W] */
} golden_case;

typedef struct golden_file {
    uint8_t *bytes;
    uint64_t size;
    uint32_t n_cases;
    golden_case cases[32];
} golden_file;

static inline uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static inline float golden_f32(const uint8_t *array, uint64_t i) {
    uint32_t bits = le32(array + 4 * i);
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* Reads and bounds-checks the golden file; 0 on success. */
static inline int load_golden(const char *path, golden_file *g) {
    memset(g, 0, sizeof *g);
    if ((g->bytes = read_file(path, &g->size)) == NULL) return -1;
    const uint8_t *p = g->bytes, *end = g->bytes + g->size;
    if (g->size < 12 || memcmp(p, "PXDG", 4) != 0 || le32(p + 4) != 1 || le32(p + 8) > 32) goto bad;
    g->n_cases = le32(p + 8);
    p += 12;
    for (uint32_t i = 0; i < g->n_cases; i++) {
        golden_case *c = &g->cases[i];
        if (end - p < 32) goto bad;
        c->seed = (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
        c->cls = le32(p + 8);
        c->width = le32(p + 12);
        c->height = le32(p + 16);
        c->n_images = le32(p + 20);
        c->n_steps = le32(p + 24);
        uint32_t bits = le32(p + 28);
        memcpy(&c->guidance, &bits, sizeof bits);
        p += 32;
        if (c->width == 0 || c->width > 64 || c->height == 0 || c->height > 64 || c->n_images == 0 || c->n_images > 16 ||
            c->cls > 10 || c->n_steps == 0 || c->n_steps > 1000)
            goto bad;
        uint64_t plane = (uint64_t)c->width * c->height, all = plane * c->n_images;
        if ((uint64_t)(end - p) < 4 * all + 4 * plane + 4 * all + all) goto bad;
        c->noise = p;
        c->first_eps = p + 4 * all;
        c->final_x = c->first_eps + 4 * plane;
        c->pixels = c->final_x + 4 * all;
        p = c->pixels + all;
    }
    if (p != end) goto bad;
    return 0;
bad:
    printf("  %s is not a golden file of reference_digits.py (PXDG version 1)\n", path);
    free(g->bytes);
    g->bytes = NULL;
    return -1;
}

#endif
