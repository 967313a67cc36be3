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
#include "quants_ggml_order.h"
#include "ggml_types.h"
#include <dlfcn.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
typedef void (*vec_dot_t)(int n, float *s, size_t bs, const void *vx, size_t bx, const void *vy, size_t by, int nrc);
typedef void (*quant_t)(const float *x, void *y, long k);
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
    float *x = malloc(k * 4); uint8_t *xq1 = malloc(k * 4), *xq2 = malloc(k * 4);
    for (int trial = 0; trial < 20; trial++) {
      for (int i = 0; i < k; i++) { float u = (float)rand()/RAND_MAX - 0.5f; x[i] = u * (trial % 3 == 0 ? 40.f : 2.f) + (i % 97 == 0 ? 30.f * u : 0); }
      quant(x, xq1, k); llm_quantize_row(dt, x, xq2, k);
      uint64_t qb = llm_quantized_row_bytes(dt, k); if (memcmp(xq1, xq2, qb)) diffq++;
      for (int r = 0; r < rows; r++) {
        const uint8_t *w = t->data + rb * (uint64_t)((r * 997 + trial * 31) % (int)t->ne[1]);
        float a, b; vdot(k, &a, 0, w, 0, xq1, 0, 1);
        if (llm_ggml_order_matvec(t->type, w, rb, 1, k, xq1, &b) != 0) llm_matvec_rows(t->type, w, rb, 1, k, xq1, &b);
        if (a != b) { diffd++; double rel = fabs(a-b)/(fabs(a)+1e-9); if (rel > maxrel) maxrel = rel; }
      }
    }
    printf("%-26s %-5s dot %-5s: quantize differs %d/20, dot differs %d/%d (max rel %.2e)\n", names[ni], tn, dtn, diffq, diffd, 20*rows, maxrel);
  }
  return 0;
}
