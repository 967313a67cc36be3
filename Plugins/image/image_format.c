/*
 * image_format.c — the checks of image_format.h: one table of the 25 tensors (name, numpy shape, field of
 * image_weights), one table of the metadata the plugin implements.
 */
#include "image_format.h"

#include "ggml_types.h"
#include "image_sampler.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- the tensors ---------------------------------------------------------------------------------------------- */

typedef struct tensor_spec {
    const char *name;
    uint32_t n_dims;
    uint64_t shape[GGUF_MAX_DIMS]; /* numpy order, outermost first (GGUF's ne reversed) */
    size_t field;                  /* offsetof(image_weights, the pointer it binds) */
} tensor_spec;

#define C IMAGE_CHANNELS
#define E IMAGE_EMBED_DIM
#define BLOCK(k)                                                                                                     \
    {"block." #k ".cond.weight", 2, {C, E}, offsetof(image_weights, block[k].cond_w)},                               \
    {"block." #k ".cond.bias", 1, {C}, offsetof(image_weights, block[k].cond_b)},                                    \
    {"block." #k ".conv.weight", 4, {C, C, 3, 3}, offsetof(image_weights, block[k].conv_w)},                         \
    {"block." #k ".conv.bias", 1, {C}, offsetof(image_weights, block[k].conv_b)}

_Static_assert(IMAGE_BLOCKS == 4, "the tensor table lists four blocks");

static const tensor_spec tensors[IMAGE_TENSOR_COUNT] = {
    {"time1.weight", 2, {E, IMAGE_TIME_DIM}, offsetof(image_weights, time1_w)},
    {"time1.bias", 1, {E}, offsetof(image_weights, time1_b)},
    {"time2.weight", 2, {E, E}, offsetof(image_weights, time2_w)},
    {"time2.bias", 1, {E}, offsetof(image_weights, time2_b)},
    {"class_embed.weight", 2, {IMAGE_CLASSES + 1, E}, offsetof(image_weights, class_embed)},
    {"conv_in.weight", 4, {C, 1, 3, 3}, offsetof(image_weights, conv_in_w)},
    {"conv_in.bias", 1, {C}, offsetof(image_weights, conv_in_b)},
    BLOCK(0),
    BLOCK(1),
    BLOCK(2),
    BLOCK(3),
    {"conv_out.weight", 4, {1, C, 3, 3}, offsetof(image_weights, conv_out_w)},
    {"conv_out.bias", 1, {1}, offsetof(image_weights, conv_out_b)},
};

#undef BLOCK
#undef C
#undef E

const char *image_tensor_name(uint32_t i) { return i < IMAGE_TENSOR_COUNT ? tensors[i].name : NULL; }

/* "[32, 1, 3, 3]": dims outermost first; `ne` (GGUF order) when reversed != 0, else numpy order. */
static void format_shape(char *out, size_t size, const uint64_t *dims, uint32_t n, int reversed) {
    size_t used = 0;
    out[0] = '\0';
    for (uint32_t j = 0; j < n && used < size; j++) {
        uint64_t v = dims[reversed ? n - 1 - j : j];
        int w = snprintf(out + used, size - used, "%s%llu", j == 0 ? "[" : ", ", (unsigned long long)v);
        if (w < 0) return;
        used += (size_t)w;
    }
    if (used < size) snprintf(out + used, size - used, "]");
}

static px_status check_tensor(const gguf_file *file, const tensor_spec *spec, const gguf_tensor **out, char *e, size_t c) {
    const gguf_tensor *t = gguf_find_tensor(file, spec->name);
    if (t == NULL) {
        snprintf(e, c, "tensor '%s' is missing", spec->name);
        return PX_ERR_FORMAT;
    }
    if (t->type != GGML_TYPE_F32) {
        const ggml_type_traits *traits = ggml_traits(t->type);
        snprintf(e, c, "tensor '%s' has type %s, expected F32", spec->name, traits != NULL ? traits->name : "unknown");
        return PX_ERR_FORMAT;
    }
    int same = t->n_dims == spec->n_dims;
    for (uint32_t j = 0; same && j < spec->n_dims; j++) same = t->ne[j] == spec->shape[spec->n_dims - 1 - j];
    if (!same) {
        char have[96], want[96];
        format_shape(have, sizeof have, t->ne, t->n_dims, 1);
        format_shape(want, sizeof want, spec->shape, spec->n_dims, 0);
        snprintf(e, c, "tensor '%s' has shape %s, expected %s", spec->name, have, want);
        return PX_ERR_FORMAT;
    }
    *out = t;
    return PX_OK;
}

/* The first tensor of the file that is not in the table, or NULL. */
static const gguf_tensor *foreign_tensor(const gguf_file *file) {
    for (uint64_t i = 0; i < gguf_tensor_count(file); i++) {
        const gguf_tensor *t = gguf_tensor_at(file, i);
        int known = 0;
        for (uint32_t k = 0; !known && k < IMAGE_TENSOR_COUNT; k++)
            known = strlen(tensors[k].name) == t->name.len && memcmp(tensors[k].name, t->name.ptr, t->name.len) == 0;
        if (!known) return t;
    }
    return NULL;
}

static px_status read_tensors(const gguf_file *file, image_layout *layout, char *e, size_t c) {
    memset(layout, 0, sizeof *layout);
    for (uint32_t i = 0; i < IMAGE_TENSOR_COUNT; i++) {
        const gguf_tensor *t = NULL;
        px_status status = check_tensor(file, &tensors[i], &t, e, c);
        if (status != PX_OK) return status;
        uint64_t elements = 1;
        for (uint32_t j = 0; j < tensors[i].n_dims; j++) elements *= tensors[i].shape[j];
        layout->source[i] = t->data;
        layout->bytes[i] = elements * sizeof(float);
        layout->offset[i] = layout->total_bytes;
        layout->total_bytes += (layout->bytes[i] + 63) / 64 * 64;
    }
    const gguf_tensor *extra = foreign_tensor(file);
    if (extra != NULL) {
        snprintf(e, c, "tensor '%.*s' is not part of %s", (int)(extra->name.len > 100 ? 100 : extra->name.len),
                 extra->name.ptr, IMAGE_ARCHITECTURE);
        return PX_ERR_FORMAT;
    }
    return PX_OK;
}

/* ---- the metadata ----------------------------------------------------------------------------------------------- */

/* A key under the architecture's prefix as a number: an unsigned integer of at most 32 bits, or a float. */
static px_status read_number(const gguf_file *file, const char *suffix, int is_float, double *out, char *e, size_t c) {
    char key[96];
    snprintf(key, sizeof key, "%s.%s", IMAGE_ARCHITECTURE, suffix);
    uint32_t integer = 0;
    int status = is_float ? gguf_get_f64(file, key, out) : gguf_get_u32(file, key, &integer);
    if (status == GGUF_OK) {
        if (!is_float) *out = integer;
        return PX_OK;
    }
    const gguf_kv *kv = gguf_find_key(file, key);
    if (kv == NULL) snprintf(e, c, "metadata key '%s' is missing", key);
    else if (status == GGUF_ERR_RANGE) snprintf(e, c, "metadata key '%s' does not fit an unsigned 32-bit integer", key);
    else
        snprintf(e, c, "metadata key '%s' has type %s, expected %s", key, gguf_value_type_name(kv->type),
                 is_float ? "FLOAT32 or FLOAT64" : "an integer");
    return PX_ERR_FORMAT;
}

typedef struct fixed_value {
    const char *suffix;
    int is_float;
    double value; /* what this plugin implements; floats match to 1e-6 relative (FLOAT32 storage) */
} fixed_value;

static const fixed_value fixed[] = {
    {"channels", 0, IMAGE_CHANNELS},
    {"blocks", 0, IMAGE_BLOCKS},
    {"classes", 0, IMAGE_CLASSES},
    {"train_timesteps", 0, 1000},
    {"beta_start", 1, 1e-4},
    {"beta_end", 1, 0.02},
    {"image_size", 0, IMAGE_DEFAULT_SIDE},
};

static px_status read_metadata(const gguf_file *file, image_config *config, char *e, size_t c) {
    gguf_string arch = {0};
    if (gguf_get_string(file, "general.architecture", &arch) != GGUF_OK) {
        snprintf(e, c, "metadata key 'general.architecture' is missing or not a string");
        return PX_ERR_FORMAT;
    }
    if (arch.len != strlen(IMAGE_ARCHITECTURE) || memcmp(arch.ptr, IMAGE_ARCHITECTURE, arch.len) != 0) {
        snprintf(e, c, "architecture '%.*s' is not %s", (int)(arch.len > 64 ? 64 : arch.len), arch.ptr, IMAGE_ARCHITECTURE);
        return PX_ERR_UNSUPPORTED;
    }
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        double v = 0;
        px_status status = read_number(file, fixed[i].suffix, fixed[i].is_float, &v, e, c);
        if (status != PX_OK) return status;
        int same = fixed[i].is_float ? fabs(v - fixed[i].value) <= 1e-6 * fixed[i].value : v == fixed[i].value;
        if (!same) {
            snprintf(e, c, "metadata key '%s.%s' is %.9g; this plugin implements %.9g", IMAGE_ARCHITECTURE,
                     fixed[i].suffix, v, fixed[i].value);
            return PX_ERR_UNSUPPORTED;
        }
    }
    double steps = 0, guidance = 0;
    px_status status = read_number(file, "default_steps", 0, &steps, e, c);
    if (status == PX_OK) status = read_number(file, "default_guidance", 1, &guidance, e, c);
    if (status != PX_OK) return status;
    if (steps < 1 || steps > IMAGE_TRAIN_TIMESTEPS) {
        snprintf(e, c, "metadata key '%s.default_steps' is %.0f, outside 1..1000", IMAGE_ARCHITECTURE, steps);
        return PX_ERR_FORMAT;
    }
    if (!(guidance >= 1.0 && guidance <= IMAGE_GUIDANCE_MAX)) {
        snprintf(e, c, "metadata key '%s.default_guidance' is %g, outside [1, 20]", IMAGE_ARCHITECTURE, guidance);
        return PX_ERR_FORMAT;
    }
    config->default_steps = (uint32_t)steps;
    config->default_guidance = guidance;
    return PX_OK;
}

px_status image_format_read(const gguf_file *file, image_config *config, image_layout *layout, char *error,
                            size_t capacity) {
    px_status status = read_metadata(file, config, error, capacity);
    return status == PX_OK ? read_tensors(file, layout, error, capacity) : status;
}

void image_pack_tensor(uint32_t i, const uint8_t *source, float *packed) {
    const tensor_spec *spec = &tensors[i];
    if (spec->n_dims != 4) {
        uint64_t elements = 1;
        for (uint32_t j = 0; j < spec->n_dims; j++) elements *= spec->shape[j];
        memcpy(packed, source, elements * sizeof(float));
        return;
    }
    /* [out, in, 3, 3] -> [3 * 3, in, out] */
    const uint64_t outs = spec->shape[0], ins = spec->shape[1];
    for (uint64_t o = 0; o < outs; o++)
        for (uint64_t in = 0; in < ins; in++)
            for (uint64_t tap = 0; tap < 9; tap++)
                memcpy(&packed[(tap * ins + in) * outs + o], source + ((o * ins + in) * 9 + tap) * sizeof(float), sizeof(float));
}

void image_weights_bind(const image_layout *layout, const void *base, image_weights *weights) {
    for (uint32_t i = 0; i < IMAGE_TENSOR_COUNT; i++) {
        const float *data = (const float *)(const void *)((const uint8_t *)base + layout->offset[i]);
        memcpy((uint8_t *)weights + tensors[i].field, &data, sizeof data);
    }
}
