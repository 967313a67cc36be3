/*
 * bench_quants.c — single-thread speed of the quantized kernels (make bench-quants).
 *
 * For every weight type and every ISA level this CPU runs:
 *   matvec  [2048 rows, k = 2048] x one token (decode): GB/s of weights streamed and GFLOP/s (2 * rows * k / s)
 *   matmul  the same weights x 64 tokens (prefill): GFLOP/s
 * and, on the default level only, a matvec over a 2048-wide matrix of 128 MiB or more, so the weights come from
 * DRAM rather than cache, as a decode step's do.
 * Usage: bench_quants [type ...]   (type names as in GGUF: Q4_K, Q8_0, ...; default all)
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ggml_types.h"
#include "quants.h"

/* This thread's CPU time: on a shared machine it leaves out the slices other processes take from us. */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint8_t rnd8(void) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint8_t)(rng >> 56);
}

/* Random quant bits with small fp16 scales in every block (values do not change the speed, only nans would). */
static uint8_t *random_weights(uint32_t type, int64_t rows, int64_t k) {
    const ggml_type_traits *t = ggml_traits(type);
    const uint64_t bytes = llm_quantized_row_bytes(type, k) * (uint64_t)rows;
    uint8_t *w = aligned_alloc(64, (bytes + 63) / 64 * 64);
    const uint16_t small = llm_fp32_to_fp16(0.01f);
    for (uint64_t i = 0; i < bytes; i++) w[i] = rnd8();
    for (uint64_t b = 0; b < bytes / t->block_bytes; b++) {
        uint8_t *blk = w + b * t->block_bytes;
        if (type == GGML_TYPE_F32) {
            const float f = 0.01f;
            memcpy(blk, &f, 4);
        } else if (type == GGML_TYPE_F16) {
            memcpy(blk, &small, 2);
        } else if (type == GGML_TYPE_BF16) {
            const uint16_t h = llm_fp32_to_bf16(0.01f);
            memcpy(blk, &h, 2);
        } else if (type == GGML_TYPE_Q6_K) {
            memcpy(blk + 208, &small, 2);
        } else {
            memcpy(blk, &small, 2); /* d, and for Q4_1/Q5_1/Q4_K/Q5_K also m or dmin */
            memcpy(blk + 2, &small, 2);
        }
    }
    return w;
}

static uint8_t *quantized_activations(uint32_t dot_type, int64_t n_tok, int64_t k) {
    const uint64_t row = llm_quantized_row_bytes(dot_type, k);
    uint8_t *x = malloc(row * (uint64_t)n_tok);
    float *f = malloc(sizeof(float) * (size_t)k);
    for (int64_t t = 0; t < n_tok; t++) {
        for (int64_t i = 0; i < k; i++) f[i] = (float)(int8_t)rnd8() / 64.0f;
        llm_quantize_row(dot_type, f, x + row * (uint64_t)t, k);
    }
    free(f);
    return x;
}

/* Seconds per call of a matmul: the best of 40 batches of at least 2 ms. Short batches and the minimum keep the
 * number meaningful on a shared machine, where some batches run without interference. */
static double time_matmul(llm_isa isa, uint32_t type, const uint8_t *w, int64_t rows, int64_t k, const uint8_t *x,
                          int64_t n_tok, float *out) {
    const uint64_t wb = llm_quantized_row_bytes(type, k), xb = llm_quantized_row_bytes(llm_vec_dot_type(type), k);
    llm_matmul_rows_isa(isa, type, w, wb, rows, k, x, xb, n_tok, out, rows); /* warm up */
    double best = 1e30;
    for (int batch = 0; batch < 40; batch++) {
        int calls = 0;
        const double t0 = now();
        double t;
        do {
            llm_matmul_rows_isa(isa, type, w, wb, rows, k, x, xb, n_tok, out, rows);
            calls++;
        } while ((t = now() - t0) < 0.002);
        if (t / calls < best) best = t / calls;
    }
    return best;
}

static void bench_type(uint32_t type) {
    const int64_t rows = 2048, k = 2048, n_tok = 64;
    const uint32_t dot = llm_vec_dot_type(type);
    const double bytes = (double)llm_quantized_row_bytes(type, k) * rows, flops = 2.0 * rows * k;
    uint8_t *w = random_weights(type, rows, k), *x = quantized_activations(dot, n_tok, k);
    float *out = malloc(sizeof(float) * rows * n_tok);
    for (int isa = 0; isa < LLM_ISA_COUNT; isa++) {
        if (!llm_cpu_supports((llm_isa)isa)) continue;
        const double tv = time_matmul((llm_isa)isa, type, w, rows, k, x, 1, out);
        const double tm = time_matmul((llm_isa)isa, type, w, rows, k, x, n_tok, out);
        printf("%-5s %-11s | %8.1f GB/s %7.1f GFLOP/s | %8.1f GFLOP/s\n", ggml_traits(type)->name,
               llm_isa_name((llm_isa)isa), bytes / tv / 1e9, flops / tv / 1e9, flops * n_tok / tm / 1e9);
    }
    free(w), free(x), free(out);

    /* DRAM-bound decode on the default level. */
    const int64_t big_rows = (int64_t)((128.0 * 1048576) / (bytes / rows)) / 64 * 64 + 64;
    w = random_weights(type, big_rows, k);
    x = quantized_activations(dot, 1, k);
    out = malloc(sizeof(float) * big_rows);
    const llm_isa isa = llm_cpu_isa();
    const double t = time_matmul(isa, type, w, big_rows, k, x, 1, out);
    printf("%-5s %-11s | %8.1f GB/s from DRAM (%lld x %lld, %.0f MiB)\n", ggml_traits(type)->name, llm_isa_name(isa),
           bytes / rows * big_rows / t / 1e9, (long long)big_rows, (long long)k, bytes / rows * big_rows / 1048576);
    free(w), free(x), free(out);
}

int main(int argc, char **argv) {
    static const uint32_t all[] = {GGML_TYPE_F32,  GGML_TYPE_F16,  GGML_TYPE_BF16, GGML_TYPE_Q4_0,
                                   GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q8_0,
                                   GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K};
    printf("single thread; matvec = [2048, 2048] x 1 token, matmul = x 64 tokens; default ISA %s\n",
           llm_isa_name(llm_cpu_isa()));
    printf("%-5s %-11s | %-29s | %s\n", "type", "isa", "matvec", "matmul");
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        int wanted = argc < 2;
        for (int a = 1; a < argc; a++) wanted |= strcmp(argv[a], ggml_traits(all[i])->name) == 0;
        if (wanted) bench_type(all[i]);
    }
    return 0;
}
