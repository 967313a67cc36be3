/*
 * test_image_plugin.c — the image plugin through its entry points, driven by a fake host (serial parallel_for,
 * heap buffers, recording sinks): model_create (CPU, a CUDA placement refused, bad options and files refused,
 * nothing leaked), model_info, request_create's checks, and steps that batch every golden case together
 * (different sizes, classes, timesteps and units per item) while the host moves the weights between steps. The
 * emitted images must equal the plain sampler's bit for bit and the reference's pixels within 1; progress, FINAL
 * and cancellation follow Specs/plugin-abi.md §9.
 */
#include "image_plugin.h"
#include "image_test.h"

#include <math.h>

/* ---- the fake host ------------------------------------------------------------------------------------------- */

struct px_buffer {
    uint8_t *data;
    uint64_t bytes;
    uint32_t memory, residency;
};

struct px_sink {
    int cancelled;
    int finals;             /* FINALs emitted (must end at 1) */
    uint32_t reason;
    int violations;         /* emits after FINAL, malformed tensors, progress going backwards */
    uint32_t done, total, n_progress;
    uint32_t n_images;
    uint8_t *images[IMAGE_MAX_IMAGES]; /* [H, W, 3] copies, by index */
};

static int live_buffers, moves;
static char last_error[512];
static const uint32_t workers = 3;

static void fake_set_error(const px_host *h, const char *message) {
    (void)h;
    snprintf(last_error, sizeof last_error, "%s", message);
}

static void fake_log(const px_host *h, px_scope *scope, uint32_t level, const char *message) {
    (void)h, (void)scope, (void)level, (void)message;
}

static const void *fake_get_extension(const px_host *h, const char *id) {
    (void)h, (void)id;
    return NULL;
}

static px_buffer *new_buffer(uint64_t bytes, uint32_t memory, uint32_t residency) {
    px_buffer *b = calloc(1, sizeof *b);
    if (b == NULL || (b->data = aligned_alloc(256, (bytes + 255) / 256 * 256)) == NULL) return free(b), NULL;
    b->bytes = bytes, b->memory = memory, b->residency = residency;
    live_buffers++;
    return b;
}

static px_status fake_mem_alloc(const px_host *h, px_scope *scope, const px_alloc_desc *d, px_buffer **out) {
    (void)h, (void)scope;
    if (d->bytes == 0 || d->memory > PX_MEMORY_DEVICE) return PX_ERR_INVALID_ARGUMENT;
    return (*out = new_buffer(d->bytes, d->memory, d->residency)) != NULL ? PX_OK : PX_ERR_OUT_OF_MEMORY;
}

static px_status fake_mem_map_file(const px_host *h, px_scope *scope, const char *path, uint64_t offset, uint64_t bytes,
                                   px_buffer **out) {
    (void)scope;
    uint64_t size = 0;
    uint8_t *data = offset == 0 && bytes == 0 ? read_file_bytes(path, &size, 1) : NULL;
    if (data == NULL) {
        h->set_error(h, "cannot open the file");
        return PX_ERR_IO;
    }
    px_buffer *b = calloc(1, sizeof *b);
    if (b == NULL) return free(data), PX_ERR_OUT_OF_MEMORY;
    b->data = data, b->bytes = size, b->memory = PX_MEMORY_FILE, b->residency = PX_RESIDENCY_WEIGHTS;
    live_buffers++;
    *out = b;
    return PX_OK;
}

static void fake_mem_free(const px_host *h, px_buffer *b) {
    (void)h;
    if (b == NULL) return;
    free(b->data);
    free(b);
    live_buffers--;
}

static px_status fake_mem_address(const px_host *h, px_buffer *b, px_buffer_view *view) {
    (void)h;
    view->host = b->data, view->device = 0, view->bytes = b->bytes, view->memory = b->memory;
    return PX_OK;
}

static px_status fake_mem_write(const px_host *h, px_stream *s, px_buffer *dst, uint64_t offset, const void *src,
                                uint64_t bytes) {
    (void)h, (void)s;
    if (offset > dst->bytes || bytes > dst->bytes - offset) return PX_ERR_INVALID_ARGUMENT;
    memcpy(dst->data + offset, src, bytes);
    return PX_OK;
}

static px_status fake_stream_info(const px_host *h, px_stream *s, px_stream_info *info) {
    (void)h, (void)s;
    info->device = PX_DEVICE_CPU, info->device_index = 0, info->cpu_workers = workers, info->priority = 0;
    info->native = NULL, info->arch = 0;
    return PX_OK;
}

static px_status fake_ok_stream(const px_host *h, px_stream *s) {
    (void)h, (void)s;
    return PX_OK;
}

/* Serial, last index first, worker = index % workers: results must not depend on order or worker. */
static px_status fake_parallel_for(const px_host *h, px_stream *s, uint32_t n, px_task_fn fn, void *context) {
    (void)h, (void)s;
    for (uint32_t i = n; i-- > 0;) fn(context, i, i % workers);
    return PX_OK;
}

static int32_t fake_is_cancelled(const px_host *h, px_sink *sink) {
    (void)h;
    return sink->cancelled;
}

static px_status fake_emit_tensor(const px_host *h, px_sink *sink, const px_tensor_out *o) {
    (void)h;
    const px_tensor *t = &o->tensor;
    if (sink->finals > 0 || o->role != PX_OUT_IMAGE || t->dtype != PX_DTYPE_U8 || t->ndim != 3 || t->shape[2] != 3 ||
        t->bytes != (uint64_t)(t->shape[0] * t->shape[1] * 3) || o->index >= IMAGE_MAX_IMAGES || sink->images[o->index] != NULL) {
        sink->violations++;
        return PX_ERR_INVALID_ARGUMENT;
    }
    if ((sink->images[o->index] = malloc(t->bytes)) == NULL) return PX_ERR_OUT_OF_MEMORY;
    memcpy(sink->images[o->index], t->data, t->bytes);
    sink->n_images++;
    return PX_OK;
}

static px_status fake_emit_progress(const px_host *h, px_sink *sink, uint32_t done, uint32_t total) {
    (void)h;
    if (sink->finals > 0 || done <= sink->done || done > total || (sink->total != 0 && total != sink->total))
        sink->violations++;
    sink->done = done, sink->total = total, sink->n_progress++;
    return PX_OK;
}

static px_status fake_emit_final(const px_host *h, px_sink *sink, const px_final *final) {
    (void)h;
    if (sink->finals++ > 0) sink->violations++;
    sink->reason = final->reason;
    return PX_OK;
}

static const px_host host = {
    .header = PX_HEADER_INIT(px_host),
    .abi_major = PX_ABI_MAJOR,
    .abi_minor = PX_ABI_MINOR,
    .name = "fake",
    .version = "0",
    .set_error = fake_set_error,
    .log = fake_log,
    .get_extension = fake_get_extension,
    .mem_alloc = fake_mem_alloc,
    .mem_map_file = fake_mem_map_file,
    .mem_free = fake_mem_free,
    .mem_address = fake_mem_address,
    .mem_write = fake_mem_write,
    .stream_info = fake_stream_info,
    .stream_synchronize = fake_ok_stream,
    .parallel_for = fake_parallel_for,
    .is_cancelled = fake_is_cancelled,
    .emit_tensor = fake_emit_tensor,
    .emit_progress = fake_emit_progress,
    .emit_final = fake_emit_final,
};

/* What the host does between steps: moves every weights buffer (not file mappings) to a new address, so a plugin
 * that kept an old address reads freed memory (ASan). The fake tracks buffers through the model it loaded. */
static void move_weights(px_model *m) {
    px_buffer *b = m->weights;
    uint8_t *moved = aligned_alloc(256, (b->bytes + 255) / 256 * 256);
    if (moved == NULL) return;
    memcpy(moved, b->data, b->bytes);
    free(b->data);
    b->data = moved;
    moves++;
}

static void free_sink(px_sink *s) {
    for (int i = 0; i < IMAGE_MAX_IMAGES; i++) free(s->images[i]);
    memset(s, 0, sizeof *s);
}

/* ---- the plugin ------------------------------------------------------------------------------------------------ */

static px_plugin *plugin;
static const px_model_api *api;
static px_stream *stream = (px_stream *)&host; /* any non-NULL handle: the fake ignores streams */
static px_scope *scope = (px_scope *)&host;
static golden_file golden;
static int have_files;

static px_model_desc model_desc(const char *path, uint32_t device) {
    static const char *paths[1];
    paths[0] = path;
    px_model_desc d;
    memset(&d, 0, sizeof d);
    d.header = (px_header)PX_HEADER_INIT(px_model_desc);
    d.id = "digits", d.paths = paths, d.n_paths = 1, d.device = device, d.scope = scope, d.load_stream = stream;
    return d;
}

static void test_init(void) {
    px_init_args args = {PX_HEADER_INIT(px_init_args), PX_ABI_MAJOR, PX_ABI_MINOR, "libplexus-image.so", scope};
    CHECK(plexus_plugin_entry.init(&host, &args, &plugin) == PX_OK);
    api = plexus_plugin_entry.get_extension(plugin, PX_EXT_MODELS);
    CHECK(api != NULL && api->kinds == (1u << PX_KIND_IMAGE) && api->step_finish == NULL);
    CHECK(plexus_plugin_entry.get_extension(plugin, "plexus.other/1") == NULL);
}

static void test_load_refused(void) {
    REQUIRE(api != NULL);
    px_model *m = NULL;
    px_model_desc d = model_desc(model_path(), PX_DEVICE_CUDA);
    CHECK(api->model_create(plugin, &d, &m) == PX_ERR_UNSUPPORTED && m == NULL);
    printf("  CUDA: %s\n", last_error);
    CHECK(strstr(last_error, "CPU only") != NULL);
    px_option option = {"guidance_rescale", "1"};
    d = model_desc(model_path(), PX_DEVICE_CPU);
    d.options = &option, d.n_options = 1;
    CHECK(api->model_create(plugin, &d, &m) == PX_ERR_INVALID_ARGUMENT && strstr(last_error, "guidance_rescale") != NULL);
    d = model_desc("no-such-model.gguf", PX_DEVICE_CPU);
    CHECK(api->model_create(plugin, &d, &m) == PX_ERR_IO);
    d = model_desc("test_image_plugin.c", PX_DEVICE_CPU); /* not a GGUF file */
    CHECK(api->model_create(plugin, &d, &m) == PX_ERR_FORMAT && strstr(last_error, "not a valid GGUF") != NULL);
    uint32_t score = 1;
    CHECK(api->probe(plugin, "test_image_plugin.c", &score) == PX_OK && score == 0);
    CHECK(live_buffers == 0);
}

static px_model *load(void) {
    px_model *m = NULL;
    px_model_desc d = model_desc(model_path(), PX_DEVICE_CPU);
    px_option option = {"max_batch_items", "8"};
    d.options = &option, d.n_options = 1;
    if (api->model_create(plugin, &d, &m) != PX_OK) {
        printf("  model_create: %s\n", last_error);
        return NULL;
    }
    return m;
}

static void test_model_info(void) {
    REQUIRE(api != NULL && have_files);
    uint32_t score = 0;
    CHECK(api->probe(plugin, model_path(), &score) == PX_OK && score == 100);
    px_model *m = load();
    REQUIRE(m != NULL);
    px_model_info info;
    memset(&info, 0, sizeof info);
    info.header = (px_header)PX_HEADER_INIT(px_model_info);
    CHECK(api->model_info(m, &info) == PX_OK);
    CHECK(info.kind == PX_KIND_IMAGE && strcmp(info.architecture, "px-digits-ddim") == 0);
    CHECK(info.default_width == 8 && info.default_height == 8 && info.default_steps == 25);
    CHECK(info.max_batch_items == 8 && info.kv_page_tokens == 0);
    CHECK(info.weight_bytes >= 4 * (32 * 32 * 9 * 4) && info.weight_bytes < 1000000);
    api->model_destroy(m);
    CHECK(live_buffers == 0);
}

/* A request for a golden case (or a plain one when `c` is NULL). */
static px_status create(px_model *m, const golden_case *c, px_image_input *in, px_sink *sink, px_request **out) {
    static char prompts[64][32];
    static int next;
    memset(in, 0, sizeof *in);
    in->header = (px_header)PX_HEADER_INIT(px_image_input);
    in->prompt = "a handwritten 3";
    if (c != NULL) {
        char *prompt = prompts[next++ % 64];
        if (c->cls == IMAGE_CLASS_NONE) snprintf(prompt, 32, "a handwritten digit");
        else snprintf(prompt, 32, "a handwritten %u", c->cls);
        in->prompt = prompt, in->width = c->width, in->height = c->height, in->n_images = c->n_images;
        in->n_steps = c->n_steps, in->guidance = c->guidance, in->seed = c->seed;
    }
    px_request_desc d = {PX_HEADER_INIT(px_request_desc), 1, PX_KIND_IMAGE, 0, sink, in};
    return api->request_create(m, &d, out);
}

static void test_request_refused(void) {
    REQUIRE(api != NULL && have_files);
    px_model *m = load();
    REQUIRE(m != NULL);
    px_sink sink = {0};
    px_image_input in;
    px_request *r = NULL;
    CHECK(create(m, NULL, &in, &sink, &r) == PX_OK);
    api->request_destroy(m, r);
    memset(&in, 0, sizeof in);
    in.header = (px_header)PX_HEADER_INIT(px_image_input);
    in.width = 20;
    px_request_desc d = {PX_HEADER_INIT(px_request_desc), 1, PX_KIND_IMAGE, 0, &sink, &in};
    CHECK(api->request_create(m, &d, &r) == PX_ERR_INVALID_ARGUMENT && strstr(last_error, "width 20") != NULL);
    in.width = 0, in.negative_prompt = "ugly";
    CHECK(api->request_create(m, &d, &r) == PX_ERR_UNSUPPORTED && strstr(last_error, "negative_prompt") != NULL);
    in.negative_prompt = NULL, in.header.size = offsetof(px_image_input, seed); /* too old a struct */
    CHECK(api->request_create(m, &d, &r) == PX_ERR_INVALID_ARGUMENT);
    d.kind = PX_KIND_LLM;
    CHECK(api->request_create(m, &d, &r) == PX_ERR_INVALID_ARGUMENT);
    api->model_destroy(m);
    CHECK(live_buffers == 0);
}

/* The pixels the plain functions give for a case (the golden test checks those against the reference). */
static uint8_t *plain_pixels(px_model *m, const golden_case *c) {
    const uint64_t plane = (uint64_t)c->width * c->height, all = plane * c->n_images;
    double *x = malloc(all * sizeof *x);
    float *scratch = malloc(image_denoise_scratch_floats(c->height, c->width) * sizeof *scratch);
    uint8_t *pixels = malloc(all);
    if (x == NULL || scratch == NULL || pixels == NULL) return free(x), free(scratch), free(pixels), NULL;
    image_weights w;
    image_weights_bind(&m->layout, m->weights->data, &w);
    image_rng rng;
    image_rng_seed(&rng, c->seed);
    for (uint64_t i = 0; i < all; i++) x[i] = image_rng_normal(&rng);
    image_sampling s = {c->height, c->width, c->n_steps, c->cls, c->guidance};
    for (uint32_t step = 0; step < c->n_steps; step++)
        for (uint32_t j = 0; j < c->n_images; j++) image_denoise_step(&w, &m->schedule, &s, step, x + j * plane, scratch, NULL);
    for (uint64_t i = 0; i < all; i++) pixels[i] = image_pixel(x[i]);
    free(x);
    free(scratch);
    return pixels;
}

/* Runs a step over items[0..n) with the given units each; the weights move first. */
static px_status step(px_model *m, px_request **requests, px_sink **sinks, const uint32_t *units, uint32_t n) {
    static uint64_t number;
    px_step_item items[16];
    memset(items, 0, sizeof items);
    for (uint32_t i = 0; i < n; i++) {
        items[i].header = (px_header)PX_HEADER_INIT(px_step_item);
        items[i].request = requests[i], items[i].sink = sinks[i], items[i].units = units[i];
    }
    px_step s;
    memset(&s, 0, sizeof s);
    s.header = (px_header)PX_HEADER_INIT(px_step);
    s.number = ++number, s.stream = stream, s.items = items, s.n_items = n, s.item_stride = sizeof items[0];
    move_weights(m);
    return api->step(m, &s);
}

static void test_batched_golden(void) {
    REQUIRE(api != NULL && have_files);
    px_model *m = load();
    REQUIRE(m != NULL);
    uint32_t n = golden.n_cases < 8 ? golden.n_cases : 8;
    px_request *requests[8] = {0};
    px_sink sinks[8];
    px_image_input inputs[8];
    memset(sinks, 0, sizeof sinks);
    for (uint32_t i = 0; i < n; i++) CHECK(create(m, &golden.cases[i], &inputs[i], &sinks[i], &requests[i]) == PX_OK);
    /* units vary by item and by step: 0 (a poll), 1, 2, 7; every request sees every step until it ends */
    for (uint32_t round = 0, left = n; left > 0 && round < 1000; round++) {
        uint32_t units[8];
        px_request *live[8];
        px_sink *owners[8];
        uint32_t k = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (sinks[i].finals > 0) continue;
            units[k] = (round + i) % 4 == 0 ? 0 : (round + i) % 4 == 3 ? 7 : (round + i) % 4;
            live[k] = requests[i], owners[k++] = &sinks[i];
        }
        CHECK(step(m, live, owners, units, k) == PX_OK);
        left = 0;
        for (uint32_t i = 0; i < n; i++) left += sinks[i].finals == 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        const golden_case *c = &golden.cases[i];
        px_sink *s = &sinks[i];
        CHECK(s->finals == 1 && s->reason == PX_FINISH_STOP && s->violations == 0);
        CHECK(s->done == c->n_steps && s->total == c->n_steps && s->n_images == c->n_images);
        uint8_t *plain = plain_pixels(m, c);
        const uint64_t plane = (uint64_t)c->width * c->height;
        int same = plain != NULL, worst = 0;
        for (uint32_t j = 0; j < c->n_images && plain != NULL; j++) {
            const uint8_t *rgb = s->images[j];
            if (rgb == NULL) {
                same = 0;
                continue;
            }
            for (uint64_t p = 0; p < plane; p++) {
                same &= rgb[3 * p] == plain[j * plane + p] && rgb[3 * p + 1] == rgb[3 * p] && rgb[3 * p + 2] == rgb[3 * p];
                int d = abs((int)rgb[3 * p] - (int)c->pixels[j * plane + p]);
                worst = d > worst ? d : worst;
            }
        }
        printf("  case %u (%ux%u x%u, %u steps): %u progress reports, batched == plain: %s, |pixel - reference| %d\n", i,
               c->width, c->height, c->n_images, c->n_steps, s->n_progress, same ? "yes" : "NO", worst);
        CHECK(same);
        CHECK(worst <= 1);
        free(plain);
        api->request_destroy(m, requests[i]);
        free_sink(s);
    }
    api->model_destroy(m);
    CHECK(live_buffers == 0);
}

static void test_cancel_and_limits(void) {
    REQUIRE(api != NULL && have_files);
    px_model *m = load();
    REQUIRE(m != NULL);
    px_sink sinks[9], *s[9];
    memset(sinks, 0, sizeof sinks);
    px_image_input in[9];
    px_request *r[9] = {0};
    for (int i = 0; i < 9; i++) {
        s[i] = &sinks[i];
        CHECK(create(m, NULL, &in[i], &sinks[i], &r[i]) == PX_OK);
    }
    uint32_t units[9] = {1, 0, 1, 1, 1, 1, 1, 1, 1};
    CHECK(step(m, r, s, units, 2) == PX_OK);
    CHECK(sinks[0].done == 1 && sinks[0].total == 25 && sinks[0].finals == 0);
    CHECK(sinks[1].n_progress == 0 && sinks[1].finals == 0); /* units 0: just a poll */
    sinks[0].cancelled = 1;
    units[0] = 0;
    CHECK(step(m, r, s, units, 2) == PX_OK);
    CHECK(sinks[0].finals == 1 && sinks[0].reason == PX_FINISH_CANCELLED && sinks[0].n_images == 0);
    CHECK(step(m, r, s, units, 9) == PX_ERR_INVALID_ARGUMENT && strstr(last_error, "max_batch_items") != NULL);
    for (int i = 0; i < 9; i++) {
        CHECK(sinks[i].violations == 0);
        api->request_destroy(m, r[i]);
        free_sink(&sinks[i]);
    }
    api->model_destroy(m);
    CHECK(live_buffers == 0);
}

int main(void) {
    printf("model %s, golden cases %s\n", model_path(), golden_path());
    have_files = load_golden(golden_path(), &golden) == 0;
    FILE *f = fopen(model_path(), "rb");
    if (f == NULL) printf("  cannot open %s\n  %s\n", model_path(), MISSING_HINT);
    else fclose(f);
    have_files = have_files && f != NULL;
    run("init and the models extension", test_init);
    run("model_create refuses CUDA, bad options and bad files, leaking nothing", test_load_refused);
    run("model_info of the loaded model", test_model_info);
    run("request_create refuses bad inputs naming the field", test_request_refused);
    run("golden cases batched together, weights moving between steps", test_batched_golden);
    run("cancel, polls and max_batch_items", test_cancel_and_limits);
    if (plugin != NULL) plexus_plugin_entry.deinit(plugin);
    free(golden.bytes);
    printf("  (the fake host moved the weights %d times)\n", moves);
    return finish_tests();
}
