/*
 * llm_cuda.h — the LLM plugin on a CUDA device, through the host's services only: kernels compiled by the host's
 * NVRTC service (llm_kernels.cu), weights and activations in host-allocated device buffers, work enqueued on the
 * step's stream, decode steps recorded once per batch size as graphs (ABI 1.1) and replayed.
 *
 * A step (llm_cuda_step) uploads the batch (one mem_write), runs the transformer, picks greedy tokens on the
 * device, and enqueues the read-back of what the items asked for; step_finish (llm_cuda_step_finish) samples the
 * rest on the host and emits.
 */
#ifndef PLEXUS_LLM_CUDA_H
#define PLEXUS_LLM_CUDA_H

#include "llm_forward.h"

/** Chunks per row of the device's greedy argmax (ARGMAX_CHUNKS in llm_kernels.cu). */
#define LLM_CUDA_ARGMAX_CHUNKS 64

/** The kernels of llm_kernels.cu. */
typedef struct llm_cuda_kernels {
    px_function *matmul, *matmul_multi, *matmul_mma, *embed, *rmsnorm, *residual_norm, *add_bias, *prepare_qkv, *attention, *glu,
        *argmax_chunks, *argmax_rows;
} llm_cuda_kernels;

/** Device addresses of the activations [max_tokens, ...] (see llm_kernels.cu for the shapes). */
typedef struct llm_cuda_activations {
    uint64_t x, xb, q, k, v, att, proj, gate, up, logits, argmax, part_v, part_i;
} llm_cuda_activations;

/** Byte offsets of the batch arrays inside the upload buffer (`io`); the host image is `staging`. */
typedef struct llm_cuda_io_layout {
    uint64_t token, pos, item, out_rows, pages, cos[2], sin[2], bytes;
} llm_cuda_io_layout;

/** A decode step recorded for one batch size. */
typedef struct llm_cuda_graph {
    px_graph *graph;
    uint32_t n_out;
    uint64_t weights, kv, activations, io; /* the addresses it recorded: a move of any buffer invalidates it */
} llm_cuda_graph;

typedef struct llm_cuda {
    px_module *module;
    llm_cuda_kernels k;
    px_buffer *activations; /* device, PX_RESIDENCY_ACTIVATIONS */
    px_buffer *io;          /* device, the batch arrays */
    uint8_t *staging;       /* host image of io */
    llm_cuda_io_layout layout;
    uint32_t max_pages;     /* pages per sequence: ceil(context_length / page_tokens) */
    /* addresses for the current call */
    uint64_t weights, kv, activations_base, io_base, page_bytes;
    llm_cuda_activations a;
    /* graphs, by batch size 1..max_items (index n - 1); NULL when the host has no graph service or graphs are off */
    llm_cuda_graph *graphs;
    int use_graphs;
    int use_mma;            /* products of >= 16 tokens on the tensor cores (option cuda_mma) */
    /* the step in flight between llm_cuda_step and llm_cuda_step_finish */
    llm_batch pending;
    uint8_t *want_logits;   /* [max_items] 1: row r's logits were read back (else only its greedy token) */
    int32_t *greedy;        /* [max_items] device argmax per row, read back */
} llm_cuda;

/** Sets up the model on the device of `load_stream`: checks the model fits the kernels, compiles them, uploads
 *  the tensor data into a device weights buffer (releasing the file mapping), allocates activations. */
px_status llm_cuda_load(px_model *model, px_stream *load_stream, int use_graphs, int use_mma, char *error, size_t capacity);
void llm_cuda_free(px_model *model);

/** Runs the batch on the device and enqueues the read-back of its outputs. */
px_status llm_cuda_step(px_model *model, const px_step *step, llm_batch *batch);
/** Emits what llm_cuda_step read back (the stream has completed). */
px_status llm_cuda_step_finish(px_model *model, const px_step *step);

/** Launches the transformer over the batch already uploaded (llm_cuda_forward.c). */
px_status llm_cuda_forward(px_model *model, px_stream *stream, uint32_t n_tokens, uint32_t n_out);

#endif
