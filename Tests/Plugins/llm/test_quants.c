/*
 * test_quants.c — the quantized CPU kernels (Plugins/llm/quants*.c) against independent references.
 * Run from Tests/Plugins/llm (make plugin-tests does). One line per case, then "N passed, N failed".
 *
 * 1. Dequantization and f32 -> f16/bf16 rounding against golden files from the gguf Python package
 *    (golden/quants_golden.py). Tolerance: bit-exact (0 ulp). Every product there is exact in f32 or rounds once
 *    in the same order as numpy, so any difference is a bug, not an ordering effect.
 * 2. Dot products, every weight type x every ISA path this CPU runs, against a float64 dot of the dequantized weight
 *    row with the dequantized activation. Only the f32 summation of exact integer block sums remains, so we require
 *    |got - ref| <= 1e-5 * sum_i |w_i * x_i| (normwise: a relative error against |ref| itself is unbounded when the
 *    terms cancel, while f32 summation of k / 16 or fewer terms per lane stays near sqrt(k / 16) * 2^-24 ~ 1e-6
 *    of sum |w x|). Every path must also agree with the scalar path to the same bound.
 * 3. Q8_0 / Q8_1 / Q8_K quantize round trips: each element within half a step of its input (plus the fp16
 *    rounding of the step) and the carried sums (Q8_1 s, Q8_K bsums) exact. Q8_0 bytes equal the gguf package's
 *    (ggml's portable reference) except within 1e-4 of a half step, where that reference (1 / (amax / 127),
 *    round half away) and ggml's x86 path (127 / amax, round half even), which we follow, legitimately differ;
 *    and they equal a numpy emulation of the x86 path exactly. Q8_K bytes equal a numpy emulation of
 *    quantize_row_q8_K_ref exactly (gguf has no Q8_K quantizer).
 */
#define _POSIX_C_SOURCE 200809L /* setenv */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml_types.h"
#include "quants.h"

static int n_passed, n_failed;

static void check(int ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "PASS" : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (ok) n_passed++;
    else n_failed++;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void) { /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static float uniform(float lo, float hi) {
    return lo + (hi - lo) * (float)(rnd() >> 8) / 16777216.0f;
}

static float normal(void) { /* Box-Muller */
    const float u = uniform(1e-7f, 1.0f), v = uniform(0.0f, 1.0f);
    return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Distance in ulps between two floats (0 for equal bits; nans equal only to the same bits). */
static int64_t ulp_distance(float a, float b) {
    const uint32_t ua = f32_bits(a), ub = f32_bits(b);
    if (ua == ub) return 0;
    if (isnan(a) || isnan(b)) return INT64_MAX;
    const int64_t ia = (ua & 0x80000000u) ? -(int64_t)(ua & 0x7fffffffu) : (int64_t)ua;
    const int64_t ib = (ub & 0x80000000u) ? -(int64_t)(ub & 0x7fffffffu) : (int64_t)ub;
    return ia > ib ? ia - ib : ib - ia;
}

static uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(*size ? *size : 1);
    if (buf != NULL && fread(buf, 1, *size, f) != *size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static const char *type_name(uint32_t type) {
    const ggml_type_traits *t = ggml_traits(type);
    return t ? t->name : "?";
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Golden files

typedef struct golden {
    uint32_t kind, type, n_rows, k;
    char name[33];
    const uint8_t *payload;
    size_t payload_bytes;
} golden;

static void golden_dequantize(const golden *g) {
    const uint64_t row_bytes = llm_quantized_row_bytes(g->type, g->k);
    const size_t want = g->n_rows * (row_bytes + (size_t)g->k * 4);
    if (row_bytes == 0 || g->payload_bytes != want) {
        check(0, "%s: payload size %zu, expected %zu", g->name, g->payload_bytes, want);
        return;
    }
    float *got = malloc((size_t)g->k * sizeof(float)), ref;
    int64_t worst = 0;
    size_t worst_at = 0;
    for (uint32_t r = 0; r < g->n_rows; r++) {
        llm_dequantize_row(g->type, g->payload + r * row_bytes, got, g->k);
        const uint8_t *refs = g->payload + g->n_rows * row_bytes + (size_t)r * g->k * 4;
        for (uint32_t i = 0; i < g->k; i++) {
            memcpy(&ref, refs + (size_t)i * 4, 4);
            const int64_t d = ulp_distance(got[i], ref);
            if (d > worst) worst = d, worst_at = (size_t)r * g->k + i;
        }
    }
    check(worst == 0, "dequantize %-4s %-20s %u rows x %u: max %lld ulp (element %zu), tolerance 0", type_name(g->type),
          g->name, g->n_rows, g->k, (long long)worst, worst_at);
    free(got);
}

static void golden_convert(const golden *g) {
    const size_t n = (size_t)g->n_rows * g->k;
    if (g->payload_bytes != n * 6) {
        check(0, "%s: payload size %zu", g->name, g->payload_bytes);
        return;
    }
    uint16_t *got = malloc(n * 2), ref;
    float x;
    size_t bad = 0, first_bad = 0;
    llm_quantize_row(g->type, (const float *)(const void *)g->payload, got, (int64_t)n);
    for (size_t i = 0; i < n; i++) {
        memcpy(&ref, g->payload + n * 4 + i * 2, 2);
        memcpy(&x, g->payload + i * 4, 4);
        if (got[i] != ref && bad++ == 0) first_bad = i;
    }
    memcpy(&x, g->payload + first_bad * 4, 4);
    check(bad == 0, "convert f32 -> %-4s %-14s %zu values: %zu differ (first %.9g)", type_name(g->type), g->name, n,
          bad, bad ? (double)x : 0.0);
    free(got);
}

/* Q8_0 bytes against ggml's x86 path (exact) and against the gguf package's reference rounding (exact except within
 * 1e-4 of a tie, where round-half-even and round-half-away or 127/amax vs 1/(amax/127) may differ by one). */
static void golden_quantize_q8_0(const golden *g) {
    const size_t n = (size_t)g->n_rows * g->k, nb = n / 32, bytes = nb * 34;
    if (g->payload_bytes != n * 4 + 2 * bytes) {
        check(0, "%s: payload size %zu", g->name, g->payload_bytes);
        return;
    }
    const float *x = (const float *)(const void *)g->payload;
    const uint8_t *ref_gguf = g->payload + n * 4, *ref_x86 = ref_gguf + bytes;
    uint8_t *got = malloc(bytes);
    for (uint32_t r = 0; r < g->n_rows; r++)
        llm_quantize_row(GGML_TYPE_Q8_0, x + (size_t)r * g->k, got + r * (bytes / g->n_rows), g->k);
    check(memcmp(got, ref_x86, bytes) == 0, "quantize Q8_0 %s: bytes equal ggml's x86 path (numpy emulation)", g->name);

    size_t ties = 0, bad = 0;
    for (size_t b = 0; b < nb; b++) {
        const uint8_t *p = got + b * 34, *q = ref_gguf + b * 34;
        if (memcmp(p, q, 2) != 0) bad++;
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[b * 32 + j]));
        for (int j = 0; j < 32; j++) {
            if (p[2 + j] == q[2 + j]) continue;
            const double v = fabs((double)x[b * 32 + j] * 127.0 / amax), frac = v - floor(v);
            const int step = abs((int)(int8_t)p[2 + j] - (int)(int8_t)q[2 + j]);
            if (fabs(frac - 0.5) < 1e-4 && step == 1) ties++;
            else bad++;
        }
    }
    check(bad == 0, "quantize Q8_0 %s: bytes equal gguf's except %zu tie-roundings (%zu other differences)", g->name,
          ties, bad);
    free(got);
}

/* Q8_K bytes against a numpy emulation of ggml's reference quantizer (exact). */
static void golden_quantize_q8_K(const golden *g) {
    const size_t n = (size_t)g->n_rows * g->k, bytes = n / 256 * 292;
    if (g->payload_bytes != n * 4 + bytes) {
        check(0, "%s: payload size %zu", g->name, g->payload_bytes);
        return;
    }
    uint8_t *got = malloc(bytes);
    for (uint32_t r = 0; r < g->n_rows; r++)
        llm_quantize_row(GGML_TYPE_Q8_K, (const float *)(const void *)g->payload + (size_t)r * g->k,
                         got + r * (bytes / g->n_rows), g->k);
    check(memcmp(got, g->payload + n * 4, bytes) == 0, "quantize Q8_K %s: bytes equal ggml's reference (numpy)",
          g->name);
    free(got);
}

static void golden_tests(void) {
    size_t size;
    char *index = (char *)read_file("golden/index.txt", &size);
    if (index == NULL) {
        check(0, "golden/index.txt is missing (run golden/quants_golden.py)");
        return;
    }
    index = realloc(index, size + 1);
    index[size] = 0;
    for (char *line = strtok(index, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char path[256];
        snprintf(path, sizeof path, "golden/%s", line);
        size_t n;
        uint8_t *buf = read_file(path, &n);
        if (buf == NULL || n < 52 || memcmp(buf, "PXQG", 4) != 0) {
            check(0, "golden file %s unreadable", path);
            free(buf);
            continue;
        }
        golden g;
        memcpy(&g.kind, buf + 4, 16);
        memcpy(g.name, buf + 20, 32);
        g.name[32] = 0;
        g.payload = buf + 52;
        g.payload_bytes = n - 52;
        if (g.kind == 1) golden_dequantize(&g);
        else if (g.kind == 2) golden_quantize_q8_0(&g);
        else if (g.kind == 3) golden_convert(&g);
        else if (g.kind == 4) golden_quantize_q8_K(&g);
        else check(0, "golden file %s has unknown kind %u", path, g.kind);
        free(buf);
    }
    free(index);
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Dot products

/* A random but valid row of `type`: random quant bits, every fp16 scale replaced by a sane value. */
static void random_row(uint32_t type, uint8_t *row, int64_t k) {
    const uint64_t bytes = llm_quantized_row_bytes(type, k);
    for (uint64_t i = 0; i < bytes; i++) row[i] = (uint8_t)rnd();
    uint16_t *h = (uint16_t *)(void *)row;
    const ggml_type_traits *t = ggml_traits(type);
    const int64_t nb = k / t->block_size;
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *blk = row + b * t->block_bytes;
        const float sign = (rnd() & 1) ? 1.0f : -1.0f;
        uint16_t d = llm_fp32_to_fp16(sign * uniform(1e-3f, 1e-1f)), m = llm_fp32_to_fp16(-uniform(0.0f, 0.5f));
        switch (type) {
        case GGML_TYPE_F32: ((float *)(void *)row)[b] = normal(); break;
        case GGML_TYPE_F16: h[b] = llm_fp32_to_fp16(normal()); break;
        case GGML_TYPE_BF16: h[b] = llm_fp32_to_bf16(normal()); break;
        case GGML_TYPE_Q4_1:
        case GGML_TYPE_Q5_1:
            memcpy(blk, &d, 2);
            memcpy(blk + 2, &m, 2);
            break;
        case GGML_TYPE_Q4_0:
        case GGML_TYPE_Q5_0:
        case GGML_TYPE_Q8_0: memcpy(blk, &d, 2); break;
        case GGML_TYPE_Q4_K:
        case GGML_TYPE_Q5_K:
            d = llm_fp32_to_fp16(uniform(1e-4f, 1e-2f)), m = llm_fp32_to_fp16(uniform(1e-4f, 1e-2f));
            memcpy(blk, &d, 2);
            memcpy(blk + 2, &m, 2);
            break;
        case GGML_TYPE_Q6_K:
            d = llm_fp32_to_fp16(sign * uniform(1e-4f, 1e-2f));
            memcpy(blk + 208, &d, 2);
            break;
        default: break;
        }
    }
}

static void random_activation(float *x, int64_t k) {
    for (int64_t i = 0; i < k; i++) x[i] = normal();
    if (k >= 64)
        for (int i = 32; i < 64; i++) x[i] *= 1e-3f; /* a quiet block */
    x[k / 3] = 25.0f;                                 /* an outlier */
}

typedef struct dot_problem {
    uint32_t type, dot_type;
    int64_t k, n_rows, n_tok;
    uint64_t w_row_bytes, x_row_bytes;
    uint8_t *w;          /* [n_rows, k] of type, exactly sized so ASan sees any overread */
    uint8_t *xq;         /* [n_tok, k] of dot_type */
    double *ref, *norm;  /* [n_tok, n_rows]: float64 dot and sum |w_i x_i| */
    float *scalar;       /* [n_tok, n_rows]: the scalar path's answer */
} dot_problem;

/* Q8_1's block sum comes from its fp16 s field, as in ggml, so the reference takes it from there as well:
 * ref += m_b * (s_b - d_b * sum q) for each block of the weight row. */
static double q8_1_sum_correction(const dot_problem *p, const uint8_t *wrow, const uint8_t *xrow) {
    double c = 0;
    const size_t wb = p->type == GGML_TYPE_Q4_1 ? 20 : 24;
    for (int64_t b = 0; b < p->k / 32; b++) {
        uint16_t m, d, s;
        memcpy(&m, wrow + b * wb + 2, 2);
        memcpy(&d, xrow + b * 36, 2);
        memcpy(&s, xrow + b * 36 + 2, 2);
        int sum = 0;
        for (int j = 0; j < 32; j++) sum += (int8_t)xrow[b * 36 + 4 + j];
        c += (double)llm_fp16_to_fp32(m) * ((double)llm_fp16_to_fp32(s) - (double)llm_fp16_to_fp32(d) * sum);
    }
    return c;
}

static void dot_problem_make(dot_problem *p, uint32_t type, int64_t k, int64_t n_rows, int64_t n_tok) {
    p->type = type;
    p->dot_type = llm_vec_dot_type(type);
    p->k = k, p->n_rows = n_rows, p->n_tok = n_tok;
    p->w_row_bytes = llm_quantized_row_bytes(type, k);
    p->x_row_bytes = llm_quantized_row_bytes(p->dot_type, k);
    p->w = malloc(p->w_row_bytes * n_rows);
    p->xq = malloc(p->x_row_bytes * n_tok);
    p->ref = malloc(sizeof(double) * n_rows * n_tok);
    p->norm = malloc(sizeof(double) * n_rows * n_tok);
    p->scalar = malloc(sizeof(float) * n_rows * n_tok);
    float *x = malloc(sizeof(float) * k), *wd = malloc(sizeof(float) * n_rows * k), *xd = malloc(sizeof(float) * k);
    for (int64_t r = 0; r < n_rows; r++) {
        random_row(type, p->w + r * p->w_row_bytes, k);
        llm_dequantize_row(type, p->w + r * p->w_row_bytes, wd + r * k, k);
    }
    for (int64_t t = 0; t < n_tok; t++) {
        const uint8_t *xrow = p->xq + t * p->x_row_bytes;
        random_activation(x, k);
        llm_quantize_row(p->dot_type, x, p->xq + t * p->x_row_bytes, k);
        llm_dequantize_row(p->dot_type, xrow, xd, k);
        for (int64_t r = 0; r < n_rows; r++) {
            double s = 0, a = 0;
            for (int64_t i = 0; i < k; i++) {
                const double v = (double)wd[r * k + i] * (double)xd[i];
                s += v;
                a += fabs(v);
            }
            if (p->dot_type == GGML_TYPE_Q8_1) s += q8_1_sum_correction(p, p->w + r * p->w_row_bytes, xrow);
            p->ref[t * n_rows + r] = s;
            p->norm[t * n_rows + r] = a;
        }
    }
    llm_matmul_rows_isa(LLM_ISA_SCALAR, type, p->w, p->w_row_bytes, n_rows, k, p->xq, p->x_row_bytes, n_tok, p->scalar,
                        n_rows);
    free(x), free(wd), free(xd);
}

static void dot_problem_free(dot_problem *p) {
    free(p->w), free(p->xq), free(p->ref), free(p->norm), free(p->scalar);
}

/* Runs one ISA both as matvec (each token alone) and as one matmul over all tokens; worst normwise errors. */
static void dot_case(const dot_problem *p, llm_isa isa) {
    const int64_t n = p->n_rows * p->n_tok;
    float *mv = malloc(sizeof(float) * n), *mm = malloc(sizeof(float) * (n + 3 * p->n_tok));
    int rc = 0;
    for (int64_t t = 0; t < p->n_tok; t++)
        rc |= llm_matmul_rows_isa(isa, p->type, p->w, p->w_row_bytes, p->n_rows, p->k, p->xq + t * p->x_row_bytes, 0, 1,
                                  mv + t * p->n_rows, p->n_rows);
    const int64_t stride = p->n_rows + 3; /* a wider output, as when a worker writes its slice of rows */
    rc |= llm_matmul_rows_isa(isa, p->type, p->w, p->w_row_bytes, p->n_rows, p->k, p->xq, p->x_row_bytes, p->n_tok,
                              mm, stride);
    double worst_ref = 0, worst_scalar = 0;
    for (int64_t t = 0; t < p->n_tok; t++)
        for (int64_t r = 0; r < p->n_rows; r++) {
            const int64_t i = t * p->n_rows + r;
            const double norm = p->norm[i] > 0 ? p->norm[i] : 1;
            const double got[2] = {mv[i], mm[t * stride + r]};
            for (int v = 0; v < 2; v++) {
                const double e_ref = fabs(got[v] - p->ref[i]) / norm, e_sc = fabs(got[v] - p->scalar[i]) / norm;
                if (!(e_ref <= worst_ref)) worst_ref = e_ref; /* a nan makes the case fail */
                if (!(e_sc <= worst_scalar)) worst_scalar = e_sc;
            }
        }
    check(rc == 0 && worst_ref < 1e-5 && worst_scalar < 1e-5,
          "dot %-4s k=%-5lld %2lld rows x %lld tokens %-10s: err vs f64 %.1e, vs scalar %.1e (bound 1e-5 of sum|wx|)",
          type_name(p->type), (long long)p->k, (long long)p->n_rows, (long long)p->n_tok, llm_isa_name(isa), worst_ref,
          worst_scalar);
    free(mv), free(mm);
}

static void dot_tests(void) {
    static const uint32_t types[] = {GGML_TYPE_F32,  GGML_TYPE_F16,  GGML_TYPE_BF16, GGML_TYPE_Q4_0,
                                     GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q8_0,
                                     GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K};
    static const int64_t ks[] = {32, 256, 576, 640, 1536, 2048, 2560, 37, 100};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const uint32_t block = ggml_traits(types[ti])->block_size;
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
            if (ks[ki] % block != 0) continue;
            dot_problem p;
            dot_problem_make(&p, types[ti], ks[ki], 13, 7);
            for (int isa = 0; isa < LLM_ISA_COUNT; isa++)
                if (llm_cpu_supports((llm_isa)isa)) dot_case(&p, (llm_isa)isa);
            dot_problem_free(&p);
        }
        /* more tokens than the driver's 64-token chunk, so a matmul spans two chunks */
        dot_problem p;
        dot_problem_make(&p, types[ti], 256, 9, 70);
        for (int isa = 0; isa < LLM_ISA_COUNT; isa++)
            if (llm_cpu_supports((llm_isa)isa)) dot_case(&p, (llm_isa)isa);
        dot_problem_free(&p);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Activation quantization round trips

static void round_trip(uint32_t dot_type, int64_t k) {
    float *x = malloc(sizeof(float) * k), *y = malloc(sizeof(float) * k);
    uint8_t *q = malloc(llm_quantized_row_bytes(dot_type, k));
    random_activation(x, k);
    for (int64_t i = 64; i < 96 && i < k; i++) x[i] *= 1e-6f; /* steps in fp16's subnormal range */
    llm_quantize_row(dot_type, x, q, k);
    llm_dequantize_row(dot_type, q, y, k);
    const int is_k = dot_type == GGML_TYPE_Q8_K, block = is_k ? 256 : 32;
    const size_t block_bytes = is_k ? 292 : dot_type == GGML_TYPE_Q8_1 ? 36 : 34, qs_at = is_k ? 4 : block_bytes - 32;
    double worst = 0;
    int sums_ok = 1;
    for (int64_t b = 0; b < k / block; b++) {
        const uint8_t *blk = q + b * block_bytes;
        const int8_t *qs = (const int8_t *)(blk + qs_at);
        float amax = 0, d_used;
        for (int j = 0; j < block; j++) amax = fmaxf(amax, fabsf(x[b * block + j]));
        /* The step the rounding used (amax / 127) and the one stored (fp16 for Q8_0/Q8_1): error <= half the first
         * plus 127 times their difference. */
        const double step = amax / 127.0;
        if (is_k) memcpy(&d_used, blk, 4);
        else {
            uint16_t h;
            memcpy(&h, blk, 2);
            d_used = llm_fp16_to_fp32(h);
        }
        const double bound = 0.5 * step * (1 + 1e-6) + 127 * fabs(fabs((double)d_used) - step) + 1e-30;
        for (int j = 0; j < block; j++) {
            const double e = fabs((double)x[b * block + j] - y[b * block + j]) / bound;
            if (e > worst) worst = e;
        }
        int sum = 0;
        for (int j = 0; j < block; j++) sum += qs[j];
        if (dot_type == GGML_TYPE_Q8_1) {
            uint16_t s;
            memcpy(&s, blk + 2, 2);
            sums_ok &= s == llm_fp32_to_fp16((amax / 127.f) * (float)sum);
        }
        if (is_k) {
            int16_t bs[16];
            memcpy(bs, blk + 4 + 256, 32);
            for (int g = 0; g < 16; g++) {
                int s16 = 0;
                for (int j = 0; j < 16; j++) s16 += qs[16 * g + j];
                sums_ok &= bs[g] == s16;
            }
        }
    }
    check(worst <= 1.0 && sums_ok, "round trip %-4s k=%-5lld: worst error %.3f of the bound, carried sums %s",
          type_name(dot_type), (long long)k, worst, sums_ok ? "exact" : "WRONG");
    free(x), free(y), free(q);
}

// ---------------------------------------------------------------------------------------------------------------
// API edges and dispatch

static void api_tests(void) {
    static const uint32_t pairs[][2] = {
        {GGML_TYPE_Q4_0, GGML_TYPE_Q8_0}, {GGML_TYPE_Q5_0, GGML_TYPE_Q8_0}, {GGML_TYPE_Q8_0, GGML_TYPE_Q8_0},
        {GGML_TYPE_Q4_1, GGML_TYPE_Q8_1}, {GGML_TYPE_Q5_1, GGML_TYPE_Q8_1}, {GGML_TYPE_Q4_K, GGML_TYPE_Q8_K},
        {GGML_TYPE_Q5_K, GGML_TYPE_Q8_K}, {GGML_TYPE_Q6_K, GGML_TYPE_Q8_K}, {GGML_TYPE_F16, GGML_TYPE_F16},
        {GGML_TYPE_BF16, GGML_TYPE_BF16}, {GGML_TYPE_F32, GGML_TYPE_F32}, {GGML_TYPE_Q2_K, GGML_TYPE_COUNT},
    };
    int paired = 1;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) paired &= llm_vec_dot_type(pairs[i][0]) == pairs[i][1];
    check(paired, "vec dot types pair as in ggml's CPU backend");
    check(llm_quantized_row_bytes(GGML_TYPE_Q8_1, 64) == 72 && llm_quantized_row_bytes(GGML_TYPE_Q8_K, 512) == 584 &&
              llm_quantized_row_bytes(GGML_TYPE_Q4_K, 100) == 0 && llm_quantized_row_bytes(GGML_TYPE_Q2_K, 256) == 0 &&
              llm_quantized_row_bytes(GGML_TYPE_F16, 37) == 74,
          "row bytes (Q8_1 is 36 bytes per block, partial blocks and unsupported types give 0)");
    float x[256] = {0}, out[4];
    uint8_t q[292];
    check(llm_quantize_row(GGML_TYPE_Q4_K, x, q, 256) == -1 && llm_quantize_row(GGML_TYPE_Q8_0, x, q, 48) == -1 &&
              llm_dequantize_row(GGML_TYPE_Q2_K, q, x, 256) == -1 &&
              llm_matvec_rows(GGML_TYPE_Q8_K, q, 292, 1, 256, q, out) == -1 &&
              llm_matvec_rows(GGML_TYPE_Q4_K, q, 100, 1, 256, q, out) == -1,
          "invalid types, lengths and strides are refused");
    check(llm_quantize_row(GGML_TYPE_Q8_K, x, q, 256) == 0 && q[0] == 0 && q[4] == 0 && q[291] == 0,
          "an all-zero Q8_K block has d = 0, zero quants and zero bsums");

    /* PLEXUS_CPU_ISA was set to avx2 in main before the first kernel call. */
    const llm_isa want = llm_cpu_choose_isa("avx2");
    check(llm_cpu_isa() == want, "PLEXUS_CPU_ISA=avx2 selects %s", llm_isa_name(llm_cpu_isa()));
    check(llm_cpu_choose_isa("scalar") == LLM_ISA_SCALAR && llm_cpu_supports(llm_cpu_choose_isa(NULL)) &&
              llm_cpu_choose_isa("no-such-isa") == llm_cpu_choose_isa(NULL) &&
              llm_cpu_supports(llm_cpu_choose_isa("avx512vnni")),
          "ISA override: names, unknown names and fallback to a supported level (best here: %s)",
          llm_isa_name(llm_cpu_choose_isa(NULL)));
    for (int isa = 0; isa < LLM_ISA_COUNT; isa++) printf("     cpu supports %-10s %s\n", llm_isa_name((llm_isa)isa),
                                                       llm_cpu_supports((llm_isa)isa) ? "yes" : "no");

    dot_problem p;
    dot_problem_make(&p, GGML_TYPE_Q4_K, 512, 5, 1);
    float a[5], b[5];
    llm_matvec_rows(GGML_TYPE_Q4_K, p.w, p.w_row_bytes, 5, 512, p.xq, a);
    llm_matmul_rows_isa(want, GGML_TYPE_Q4_K, p.w, p.w_row_bytes, 5, 512, p.xq, 0, 1, b, 5);
    check(memcmp(a, b, sizeof a) == 0, "llm_matvec_rows runs the overridden path (bit-identical to %s)",
          llm_isa_name(want));
    dot_problem_free(&p);
}

int main(void) {
    setenv("PLEXUS_CPU_ISA", "avx2", 1);
    api_tests();
    golden_tests();
    static const int64_t rt_ks[] = {32, 256, 2048, 2560};
    for (size_t i = 0; i < 4; i++) {
        round_trip(GGML_TYPE_Q8_0, rt_ks[i]);
        round_trip(GGML_TYPE_Q8_1, rt_ks[i]);
        if (rt_ks[i] % 256 == 0) round_trip(GGML_TYPE_Q8_K, rt_ks[i]);
    }
    dot_tests();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed == 0 ? 0 : 1;
}
