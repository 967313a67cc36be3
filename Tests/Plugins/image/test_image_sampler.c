/*
 * test_image_sampler.c — the pieces of Plugins/image that need no model: the noise stream (splitmix64 + Box-Muller
 * against values printed by reference_digits.py --dump-noise), the training schedule, the DDIM timesteps, the pixel
 * rounding, the prompt's class and the checks of px_image_input. Run by `make plugin-tests` under ASan and UBSan.
 */
#include "image_plugin.h"
#include "image_test.h"

#include <math.h>

static void test_splitmix64(void) {
    /* splitmix64's published first outputs for state 0 */
    image_rng rng;
    image_rng_seed(&rng, 0);
    CHECK(image_rng_next(&rng) == 0xE220A8397B1DCDAFull);
    CHECK(image_rng_next(&rng) == 0x6E789E6AA1B965F4ull);
    CHECK(image_rng_next(&rng) == 0x06C45D188009454Full);
}

static void test_normals(void) {
    /* reference_digits.py --dump-noise 1 5 and --dump-noise 123456789012345 3 */
    static const double seed1[] = {-0.028249746095854695, -1.065617648414326, -0.22791952286763514,
                                   0.083094168471501056, 0.10309095168573973};
    static const double seed_big[] = {-0.080347375657968789, -0.574406348877469, 2.0469542724344572};
    image_rng rng;
    image_rng_seed(&rng, 1);
    for (int i = 0; i < 5; i++) CHECK(fabs(image_rng_normal(&rng) - seed1[i]) <= 1e-15);
    image_rng_seed(&rng, 123456789012345ull);
    for (int i = 0; i < 3; i++) CHECK(fabs(image_rng_normal(&rng) - seed_big[i]) <= 1e-15);
}

static void test_schedule(void) {
    /* numpy: cumprod(1 - linspace(1e-4, 0.02, 1000)) */
    image_schedule s;
    image_schedule_init(&s);
    CHECK(s.alphas_cumprod[0] == 0.9999);
    CHECK(fabs(s.alphas_cumprod[1] - 0.9997800920720721) <= 1e-16);
    CHECK(fabs(s.alphas_cumprod[499] - 0.07858724288177824) <= 1e-16);
    CHECK(fabs(s.alphas_cumprod[998] - 4.118193638138445e-05) <= 1e-19);
    CHECK(fabs(s.alphas_cumprod[999] - 4.035829765375676e-05) <= 1e-19);
}

static void test_timesteps(void) {
    CHECK(image_timestep(25, 0) == 960 && image_timestep(25, 24) == 0);
    CHECK(image_timestep(1, 0) == 0);
    CHECK(image_timestep(3, 0) == 666 && image_timestep(3, 1) == 333 && image_timestep(3, 2) == 0);
    CHECK(image_timestep(1000, 0) == 999 && image_timestep(1000, 999) == 0);
    CHECK(image_timestep(7, 0) == 6 * 142);
}

static void test_pixels(void) {
    CHECK(image_pixel(-1.0) == 0 && image_pixel(-5.0) == 0 && image_pixel(1.0) == 255 && image_pixel(7.0) == 255);
    CHECK(image_pixel(0.0) == 128); /* 127.5 rounds half away from zero */
    CHECK(image_pixel(-0.5) == 64 && image_pixel(0.5) == 191);
    CHECK(image_pixel(NAN) == 0);
}

static void test_prompt_class(void) {
    CHECK(image_prompt_class("a handwritten 7") == 7);
    CHECK(image_prompt_class("0 or 1") == 0);
    CHECK(image_prompt_class("a digit") == IMAGE_CLASS_NONE);
    CHECK(image_prompt_class("") == IMAGE_CLASS_NONE);
    CHECK(image_prompt_class(NULL) == IMAGE_CLASS_NONE);
    CHECK(image_prompt_class("\xd9\xa3 then 4") == 4); /* an Arabic-Indic three is not an ASCII digit */
}

/* image_input_read on `in`; returns its status and leaves the message in `error`. */
static char error[256];
static image_sampling sampling;
static uint32_t n_images;

static px_status read_input(const px_image_input *in) {
    static const image_config config = {25, 3.0};
    error[0] = '\0';
    return image_input_read(in, &config, &sampling, &n_images, error, sizeof error);
}

static px_image_input input(void) {
    px_image_input in;
    memset(&in, 0, sizeof in);
    in.header = (px_header)PX_HEADER_INIT(px_image_input);
    in.prompt = "a 3";
    return in;
}

static void test_input_defaults(void) {
    px_image_input in = input();
    CHECK(read_input(&in) == PX_OK);
    CHECK(sampling.width == 8 && sampling.height == 8 && n_images == 1 && sampling.n_steps == 25);
    CHECK(sampling.guidance == 3.0 && sampling.cls == 3);
    in.width = 16, in.height = 64, in.n_images = 16, in.n_steps = 1000, in.guidance = 20.0f, in.prompt = "none";
    CHECK(read_input(&in) == PX_OK);
    CHECK(sampling.width == 16 && sampling.height == 64 && n_images == 16 && sampling.n_steps == 1000);
    CHECK(sampling.guidance == 20.0 && sampling.cls == IMAGE_CLASS_NONE);
    in.guidance = 1.0f, in.negative_prompt = "";
    CHECK(read_input(&in) == PX_OK && sampling.guidance == 1.0);
}

/* A field set to a bad value is refused with `status` and a message naming it. */
static void expect_refused(px_image_input in, px_status status, const char *field) {
    px_status got = read_input(&in);
    if (got != status || strstr(error, field) == NULL) {
        printf("  %s: got status %d '%s', want %d naming it\n", field, got, error, status);
        case_failed = 1;
    }
}

static void test_input_refused(void) {
    px_image_input in = input();
    in.width = 12;
    expect_refused(in, PX_ERR_INVALID_ARGUMENT, "width");
    in = input(), in.width = 72;
    expect_refused(in, PX_ERR_INVALID_ARGUMENT, "width");
    in = input(), in.height = 4;
    expect_refused(in, PX_ERR_INVALID_ARGUMENT, "height");
    in = input(), in.n_images = 17;
    expect_refused(in, PX_ERR_INVALID_ARGUMENT, "n_images");
    in = input(), in.n_steps = 1001;
    expect_refused(in, PX_ERR_INVALID_ARGUMENT, "n_steps");
    in = input(), in.guidance = 0.5f;
    expect_refused(in, PX_ERR_INVALID_ARGUMENT, "guidance");
    in = input(), in.guidance = 20.5f;
    expect_refused(in, PX_ERR_INVALID_ARGUMENT, "guidance");
    in = input(), in.guidance = NAN;
    expect_refused(in, PX_ERR_INVALID_ARGUMENT, "guidance");
    in = input(), in.negative_prompt = "blurry";
    expect_refused(in, PX_ERR_UNSUPPORTED, "negative_prompt");
    px_tensor image;
    memset(&image, 0, sizeof image);
    in = input(), in.init_image = &image;
    expect_refused(in, PX_ERR_UNSUPPORTED, "init_image");
    in = input(), in.strength = 0.5f;
    expect_refused(in, PX_ERR_UNSUPPORTED, "strength");
}

int main(void) {
    run("splitmix64 first outputs", test_splitmix64);
    run("normals of the request stream", test_normals);
    run("alphas_cumprod", test_schedule);
    run("DDIM timesteps", test_timesteps);
    run("pixel rounding", test_pixels);
    run("class of the prompt", test_prompt_class);
    run("input defaults and ranges", test_input_defaults);
    run("input refused naming the field", test_input_refused);
    return finish_tests();
}
