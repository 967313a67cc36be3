/*
 * image_format.h — what a px-digits-ddim GGUF file must hold (Specs/image-plugin.md, "File metadata"): the
 * architecture, the metadata values this plugin implements, and 25 F32 tensors of fixed shapes. Reading checks all
 * of it against a parsed file (no host needed) and lays the tensors out for the one packed copy the plugin keeps.
 */
#ifndef PLEXUS_IMAGE_FORMAT_H
#define PLEXUS_IMAGE_FORMAT_H

#include "gguf.h"
#include "image_net.h"
#include "plexus_plugin.h"

#include <stddef.h>
#include <stdint.h>

#define IMAGE_ARCHITECTURE "px-digits-ddim"
#define IMAGE_TENSOR_COUNT (9 + 4 * IMAGE_BLOCKS)
#define IMAGE_DEFAULT_SIDE 8 /* the trained size (image_size) and the default width and height */

/** What a file may choose: the request defaults. Everything else in its metadata is fixed by the plugin. */
typedef struct image_config {
    uint32_t default_steps; /* 1..1000 */
    double default_guidance; /* 1..20 */
} image_config;

/** Where each tensor lies, in the spec's order: in the parsed file and in the packed copy. */
typedef struct image_layout {
    const uint8_t *source[IMAGE_TENSOR_COUNT]; /* the tensor's data inside the file's mapping (valid while it is) */
    uint64_t offset[IMAGE_TENSOR_COUNT];       /* bytes from the start of the packed copy (image_pack_tensor's
                                                  layout); multiples of 64 */
    uint64_t bytes[IMAGE_TENSOR_COUNT];        /* f32 elements * 4 */
    uint64_t total_bytes;                      /* size of the packed copy */
} image_layout;

/**
 * Checks `file` (architecture, every metadata key, every tensor's name, type and shape, no other tensors) and fills
 * `config` and `layout`. On failure returns PX_ERR_FORMAT (missing, mistyped or mis-shaped) or PX_ERR_UNSUPPORTED
 * (another architecture, or values this plugin does not implement) with a message naming the key or tensor.
 */
px_status image_format_read(const gguf_file *file, image_config *config, image_layout *layout, char *error,
                            size_t capacity);

/** Name of tensor `i` in the spec's order (the order of image_layout). */
const char *image_tensor_name(uint32_t i);

/** Writes tensor `i` (its file data at `source`, any alignment) into `packed` ([layout.bytes[i]] bytes, float
 *  aligned) in the layout image_weights documents: as in the file, except 3x3 convolution weights, tap-major. */
void image_pack_tensor(uint32_t i, const uint8_t *source, float *packed);

/** Points every field of `weights` into the packed copy starting at `base` (aligned to 64 bytes). */
void image_weights_bind(const image_layout *layout, const void *base, image_weights *weights);

#endif
