/*
 * ggml_parity.c — a diagnostic (not a test): compares the LLM plugin's activation quantization and dot products
 * with ggml's own CPU kernels, loaded from the libggml-cpu.so that llama-cpp-python ships, on real weight rows.
 * Quantization is bit-exact; dot products differ in the last bits wherever the order of float additions differs,
 * which is what keeps greedy decoding from matching llama.cpp at near ties.
 *   make ggml-parity GGML_CPU_LIB=/path/to/llama_cpp/lib/libggml-cpu.so MODEL=.cache/models/gemma3-270m-Q4_K_M.gguf
 */
#define _GNU_SOURCE 1
#include "gguf.h"
#include "quants.h"
#include "ggml_types.h"
#include <dlfcn.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* tokens per multi-token check: one whole 8-token tile and a partial one */
#define NTOK 12
typedef void (*vec_dot_t)(int n, float *s, size_t bs, const void *vx, size_t bx, const void *vy, size_t by, int nrc);
typedef void (*quant_t)(const float *x, void *y, long k);

/* ggml's repack of 8 Q4_K rows into one interleaved block per super-block (make_block_q4_Kx8 in ggml-cpu/repack.cpp,
 * interleave 8): llama.cpp multiplies Q4_K weights with ggml_gemv/gemm_q4_K_8x8_q8_K on AVX2 CPUs, not vec_dot. */
typedef struct { uint16_t d[8], dmin[8]; uint8_t scales[96], qs[1024]; } block_q4_Kx8;
typedef struct { uint16_t d, dmin; uint8_t scales[12], qs[128]; } block_q4_K_;
static void make_q4_Kx8(const block_q4_K_ *in[8], block_q4_Kx8 *out) {
  for (int i = 0; i < 8; i++) { out->d[i] = in[i]->d; out->dmin[i] = in[i]->dmin; }
  for (int i = 0; i < 128; i++) memcpy(&out->qs[i * 8], &in[i % 8]->qs[(i / 8) * 8], 8);
  uint8_t sc[8], mn[8];
  for (int half = 0; half < 2; half++)
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 8; j++) {
        const uint8_t *q = in[j]->scales;
        sc[j] = half ? (uint8_t)(((q[i] & 192) >> 2) | (q[i + 8] & 15)) : (uint8_t)(q[i] & 63);
        mn[j] = half ? (uint8_t)(((q[i + 4] & 192) >> 2) | ((q[i + 8] & 240) >> 4)) : (uint8_t)(q[i + 4] & 63);
      }
      uint8_t *o = out->scales + half * 48 + i * 12;
      for (int j = 0; j < 4; j++) {
        o[j] = (uint8_t)((sc[j] & 63) + ((sc[j + 4] & 48) << 2));
        o[j + 4] = (uint8_t)((mn[j] & 63) + ((mn[j + 4] & 48) << 2));
        o[j + 8] = (uint8_t)((sc[j + 4] & 15) + ((mn[j + 4] & 15) << 4));
      }
    }
}
typedef void (*gemv_t)(int n, float *s, size_t bs, const void *vx, const void *vy, int nr, int nc);
int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: ggml_parity MODEL.gguf libggml-cpu.so\n"); return 2; }
  void *lib = dlopen(argv[2], RTLD_NOW);
  if (!lib) { puts(dlerror()); return 1; }
  void (*init)(void) = (void (*)(void))dlsym(lib, "ggml_cpu_init"); if (init) init(); else puts("no ggml_cpu_init");
  int fd = open(argv[1], O_RDONLY); struct stat st; fstat(fd, &st);
  uint8_t *d = mmap(0, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  gguf_file *g; char e[256]; if (gguf_open(d, st.st_size, &g, e, sizeof e)) { puts(e); return 1; }
  const char *names[] = {"blk.0.attn_q.weight","blk.0.ffn_down.weight","blk.0.ffn_gate.weight","blk.1.attn_v.weight","blk.0.attn_output.weight","token_embd.weight", NULL};
  srand(7);
  for (int ni = 0; names[ni]; ni++) {
    const gguf_tensor *t = gguf_find_tensor(g, names[ni]); if (!t) continue;
    const char *tn = ggml_traits(t->type)->name; int k = (int)t->ne[0];
    char vd[64], qn[64]; uint32_t dt = llm_vec_dot_type(t->type);
    const char *dtn = ggml_traits(dt)->name;
    snprintf(vd, sizeof vd, "ggml_vec_dot_%s_%s", tn, dtn); for (char *p = vd; *p; p++) if (*p>='A'&&*p<='Z' && *p != 'K') *p += 32;
    snprintf(qn, sizeof qn, "quantize_row_%s", dtn); for (char *p = qn; *p; p++) if (*p>='A'&&*p<='Z' && *p != 'K') *p += 32;
    vec_dot_t vdot = (vec_dot_t)dlsym(lib, vd); quant_t quant = (quant_t)dlsym(lib, qn);
    if (!vdot || !quant) { printf("%s: missing %s or %s\n", names[ni], vd, qn); continue; }
    uint64_t rb = ggml_row_bytes(t->type, k); int rows = 64, diffq = 0, diffd = 0; double maxrel = 0;
    float *x = malloc(k * 4); uint8_t *xq1 = malloc(k * 4), *xq2 = malloc(k * 4), *xq4 = malloc(k * 4 * NTOK);
    for (int trial = 0; trial < 20; trial++) {
      for (int i = 0; i < k; i++) { float u = (float)rand()/RAND_MAX - 0.5f; x[i] = u * (trial % 3 == 0 ? 40.f : 2.f) + (i % 97 == 0 ? 30.f * u : 0); }
      quant(x, xq1, k); llm_quantize_row(dt, x, xq2, k);
      uint64_t qb = llm_quantized_row_bytes(dt, k); if (memcmp(xq1, xq2, qb)) diffq++;
      if (t->type == GGML_TYPE_Q4_K) { /* 8 consecutive rows at a time through ggml's repacked kernel */
        gemv_t gemv = (gemv_t)dlsym(lib, "ggml_gemv_q4_K_8x8_q8_K"), gemm = (gemv_t)dlsym(lib, "ggml_gemm_q4_K_8x8_q8_K");
        void (*qmat)(const float *, void *, int64_t) = (void (*)(const float *, void *, int64_t))dlsym(lib, "ggml_quantize_mat_q8_K_4x8");
        int nb = k / 256; block_q4_Kx8 *packed = malloc(sizeof(block_q4_Kx8) * nb);
        for (int r0 = 0; r0 < rows; r0 += 8) {
          const uint8_t *w = t->data + rb * (uint64_t)(((r0 * 997 + trial * 31) % (int)t->ne[1]) / 8 * 8);
          for (int b = 0; b < nb; b++) {
            const block_q4_K_ *in[8];
            for (int j = 0; j < 8; j++) in[j] = (const block_q4_K_ *)(const void *)(w + rb * j) + b;
            make_q4_Kx8(in, packed + b);
          }
          /* one token: gemv; four tokens (x and three variants of it): gemm on ggml's interleaved Q8_K x 4 */
          float a[8], b[8], m[32], g[32], x4[4 * 2048];
          gemv(k, a, 0, packed, xq1, 1, 8);
          llm_matvec_rows(t->type, w, rb, 8, k, xq1, b);
          for (int j = 0; j < 4; j++) {
            for (int e = 0; e < k; e++) x4[j * k + e] = x[e] * (1.0f + 0.25f * (float)j) - 0.01f * (float)j;
            llm_quantize_row(dt, x4 + j * k, xq4 + j * qb, k);
          }
          uint8_t *q8x4 = malloc(qb * 4);
          qmat(x4, q8x4, k);
          gemm(k, g, 8, packed, q8x4, 4, 8);
          free(q8x4);
          llm_matmul_rows(t->type, w, rb, 8, k, xq4, qb, 4, m, 8);
          for (int j = 0; j < 8; j++) {
            if (a[j] != b[j]) { diffd++; double rel = fabs(a[j]-b[j])/(fabs(a[j])+1e-9); if (rel > maxrel) maxrel = rel; }
            for (int tk = 0; tk < 4; tk++)
              if (g[tk * 8 + j] != m[tk * 8 + j]) { diffd++; double rel = fabs(g[tk*8+j]-m[tk*8+j])/(fabs(g[tk*8+j])+1e-9); if (rel > maxrel) maxrel = rel; }
          }
        }
        free(packed);
        continue;
      }
      for (int r = 0; r < rows; r++) {
        const uint8_t *w = t->data + rb * (uint64_t)((r * 997 + trial * 31) % (int)t->ne[1]);
        /* the forward path's kernels: the single-token tile, and the multi-token tile (the row against NTOK tokens:
         * x and variants of it; NTOK is more than one whole tile of the widest multi-token tile, so a partial
         * one runs too). Q6_K from 8 tokens on adds in the order of ggml's tiled matmul, not vec_dot's: 4 tokens. */
        const int nt = t->type == GGML_TYPE_Q6_K ? 4 : NTOK;
        float a, b, m[NTOK], x4[NTOK * 2048]; vdot(k, &a, 0, w, 0, xq1, 0, 1);
        llm_matvec_rows(t->type, w, rb, 1, k, xq1, &b);
        for (int j = 0; j < nt; j++) {
          for (int e = 0; e < k; e++) x4[j * k + e] = x[e] * (1.0f + 0.25f * (float)j) - 0.01f * (float)j;
          quant(x4 + j * k, xq4 + j * qb, k);
        }
        llm_matmul_rows(t->type, w, rb, 1, k, xq4, qb, nt, m, 1);
        if (a != b) { diffd++; double rel = fabs(a-b)/(fabs(a)+1e-9); if (rel > maxrel) maxrel = rel; }
        for (int j = 0; j < nt; j++) {
          float g; vdot(k, &g, 0, w, 0, xq4 + j * qb, 0, 1);
          if (g != m[j]) { diffd++; double rel = fabs(g-m[j])/(fabs(g)+1e-9); if (rel > maxrel) maxrel = rel; }
        }
      }
    }
    printf("%-26s %-5s dot %-5s: quantize differs %d/20, dot differs %d/%d (max rel %.2e)\n", names[ni], tn, dtn, diffq, diffd, 20*rows, maxrel);
  }
  return 0;
}
