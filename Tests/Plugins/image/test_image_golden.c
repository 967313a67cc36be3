/*
 * test_image_golden.c — the network and the sampler of Plugins/image against the independent numpy reference
 * (reference_digits.py) on the trained model: for every golden case the noise (1e-6), the guided eps of image 0 at
 * the first timestep (1e-4), x after the last step (1e-3) and the pixels (within 1). Then the file checks: a
 * truncated copy, a mis-shaped tensor, a tensor of another type and a metadata value the plugin does not implement
 * are refused with a message, never a crash (ASan and UBSan watch). A missing model or golden file FAILS.
 */
#include "image_plugin.h"
#include "image_test.h"

#include <math.h>

static test_model model;
static golden_file golden;
static int have_model, have_golden;

/* Runs one golden case with the plugin's functions and compares. */
static void check_case(const golden_case *c) {
    const uint64_t plane = (uint64_t)c->width * c->height, all = plane * c->n_images;
    double *x = malloc(all * sizeof *x), *eps = malloc(plane * sizeof *eps);
    float *scratch = malloc(image_denoise_scratch_floats(c->height, c->width) * sizeof *scratch);
    if (x == NULL || eps == NULL || scratch == NULL) {
        CHECK(!"out of memory");
        goto done;
    }
    image_rng rng;
    image_rng_seed(&rng, c->seed);
    double worst_noise = 0, worst_eps = 0, worst_x = 0;
    int worst_pixel = 0;
    for (uint64_t i = 0; i < all; i++) {
        x[i] = image_rng_normal(&rng);
        worst_noise = fmax(worst_noise, fabs(x[i] - golden_f32(c->noise, i)));
    }
    image_schedule schedule;
    image_schedule_init(&schedule);
    image_sampling sampling = {c->height, c->width, c->n_steps, c->cls, c->guidance};
    for (uint32_t step = 0; step < c->n_steps; step++)
        for (uint32_t j = 0; j < c->n_images; j++)
            image_denoise_step(&model.weights, &schedule, &sampling, step, x + j * plane, scratch,
                               step == 0 && j == 0 ? eps : NULL);
    for (uint64_t p = 0; p < plane; p++) worst_eps = fmax(worst_eps, fabs(eps[p] - golden_f32(c->first_eps, p)));
    for (uint64_t i = 0; i < all; i++) {
        worst_x = fmax(worst_x, fabs(x[i] - golden_f32(c->final_x, i)));
        int d = abs((int)image_pixel(x[i]) - (int)c->pixels[i]);
        worst_pixel = d > worst_pixel ? d : worst_pixel;
    }
    printf("  seed %llu class %u %ux%u x%u, %u steps, g %.1f: |noise| %.1e |first eps| %.1e |final x| %.1e |pixel| %d\n",
           (unsigned long long)c->seed, c->cls, c->width, c->height, c->n_images, c->n_steps, (double)c->guidance,
           worst_noise, worst_eps, worst_x, worst_pixel);
    CHECK(worst_noise <= 1e-6);
    CHECK(worst_eps <= 1e-4);
    CHECK(worst_x <= 1e-3);
    CHECK(worst_pixel <= 1);
done:
    free(x);
    free(eps);
    free(scratch);
}

static void test_files_present(void) {
    CHECK(have_model);
    CHECK(have_golden);
}

static void test_golden_cases(void) {
    REQUIRE(have_model && have_golden);
    CHECK(golden.n_cases > 0);
    for (uint32_t i = 0; i < golden.n_cases; i++) check_case(&golden.cases[i]);
}

/* gguf_open + image_format_read on an exact-size copy of `bytes`; returns the first failing status (a px_status
 * for the format, or PX_ERR_FORMAT for the reader) and leaves the message in `error`. */
static px_status check_bytes(const uint8_t *bytes, uint64_t size, char *error, size_t capacity) {
    uint8_t *copy = malloc(size > 0 ? size : 1);
    if (copy == NULL) return PX_ERR_OUT_OF_MEMORY;
    memcpy(copy, bytes, size);
    gguf_file *file = NULL;
    image_config config;
    image_layout layout;
    px_status status = gguf_open(copy, size, &file, error, capacity) == GGUF_OK
                           ? image_format_read(file, &config, &layout, error, capacity)
                           : PX_ERR_FORMAT;
    gguf_close(file);
    free(copy);
    return status;
}

/* The offset of the first occurrence of a GGUF string (u64 length + bytes) in the header, or 0. */
static uint64_t find_string(const uint8_t *bytes, uint64_t size, const char *text) {
    uint64_t n = strlen(text);
    for (uint64_t at = 8; at + n <= size && at < 65536; at++)
        if (memcmp(bytes + at, text, n) == 0 && bytes[at - 8] == (uint8_t)n && bytes[at - 7] == 0) return at;
    return 0;
}

static void expect(const uint8_t *bytes, uint64_t size, px_status want, const char *needle) {
    char error[512] = {0};
    px_status got = check_bytes(bytes, size, error, sizeof error);
    printf("  -> %d: %s\n", got, error);
    CHECK(got == want);
    CHECK(strstr(error, needle) != NULL);
}

static void test_truncated(void) {
    REQUIRE(have_model);
    char error[512];
    CHECK(check_bytes(model.bytes, model.size, error, sizeof error) == PX_OK);
    /* every cut inside the header, then a spread of cuts through the data */
    uint64_t header = gguf_data_offset(model.gguf);
    for (uint64_t cut = 0; cut < model.size; cut += cut < header ? 1 : 997) {
        px_status status = check_bytes(model.bytes, cut, error, sizeof error);
        if (status == PX_OK || error[0] == '\0') {
            printf("  cut at %llu of %llu: status %d, message '%s'\n", (unsigned long long)cut,
                   (unsigned long long)model.size, status, error);
            CHECK(!"a truncated file was accepted or refused without a message");
            return;
        }
    }
    expect(model.bytes, model.size - 1, PX_ERR_FORMAT, "");
}

/* A copy of the model with one change; the caller frees it. */
static uint8_t *patched(void) {
    uint8_t *copy = malloc(model.size);
    if (copy != NULL) memcpy(copy, model.bytes, model.size);
    return copy;
}

static void test_misshaped_tensor(void) {
    REQUIRE(have_model);
    uint8_t *copy = patched();
    uint64_t at = find_string(model.bytes, model.size, "time1.weight");
    if (copy == NULL || at == 0) free(copy);
    REQUIRE(copy != NULL && at != 0);
    /* after the name: u32 n_dims (2), u64 ne[0] (32), u64 ne[1] (64); swap them (same bytes, so the reader accepts) */
    uint8_t *dims = copy + at + strlen("time1.weight");
    CHECK(le32(dims) == 2 && le32(dims + 4) == 32 && le32(dims + 12) == 64);
    dims[4] = 64, dims[12] = 32;
    expect(copy, model.size, PX_ERR_FORMAT, "tensor 'time1.weight' has shape [32, 64], expected [64, 32]");
    free(copy);
}

static void test_wrong_type(void) {
    REQUIRE(have_model);
    uint8_t *copy = patched();
    uint64_t at = find_string(model.bytes, model.size, "conv_out.bias");
    if (copy == NULL || at == 0) free(copy);
    REQUIRE(copy != NULL && at != 0);
    /* after the name: u32 n_dims (1), u64 ne[0] (1), u32 type: F32 (0) -> I32 (26), also 4 bytes per element */
    uint8_t *type = copy + at + strlen("conv_out.bias") + 4 + 8;
    CHECK(le32(type) == 0);
    type[0] = 26;
    expect(copy, model.size, PX_ERR_FORMAT, "tensor 'conv_out.bias' has type I32, expected F32");
    free(copy);
}

static void test_wrong_metadata(void) {
    REQUIRE(have_model);
    uint8_t *copy = patched();
    uint64_t at = find_string(model.bytes, model.size, "px-digits-ddim.channels");
    if (copy == NULL || at == 0) free(copy);
    REQUIRE(copy != NULL && at != 0);
    /* after the key: u32 value type (UINT32 = 4), u32 value (32) -> 16 */
    uint8_t *value = copy + at + strlen("px-digits-ddim.channels");
    CHECK(le32(value) == 4 && le32(value + 4) == 32);
    value[4] = 16;
    expect(copy, model.size, PX_ERR_UNSUPPORTED, "metadata key 'px-digits-ddim.channels' is 16");
    /* another architecture */
    memcpy(copy, model.bytes, model.size);
    at = find_string(model.bytes, model.size, "px-digits-ddim");
    CHECK(at != 0);
    if (at != 0) {
        copy[at] = 'q';
        expect(copy, model.size, PX_ERR_UNSUPPORTED, "architecture 'qx-digits-ddim' is not px-digits-ddim");
    }
    free(copy);
}

int main(void) {
    printf("model %s, golden cases %s\n", model_path(), golden_path());
    have_model = load_model(model_path(), &model) == 0;
    have_golden = load_golden(golden_path(), &golden) == 0;
    run("the trained model and the golden file exist", test_files_present);
    run("golden cases: noise, first eps, final x, pixels", test_golden_cases);
    run("a truncated model is refused", test_truncated);
    run("a mis-shaped tensor is refused", test_misshaped_tensor);
    run("a tensor of another type is refused", test_wrong_type);
    run("metadata the plugin does not implement is refused", test_wrong_metadata);
    free_model(&model);
    free(golden.bytes);
    return finish_tests();
}
