/*
 * llm_kernels.cu — the LLM plugin's CUDA kernels, compiled at run time by the host's NVRTC service
 * (module_compile) for the card's architecture. No headers: half and bfloat16 conversions are PTX.
 *
 * Shapes (row-major, f32 unless noted):
 *   x, xb, proj [n_tokens, n_embd]   q, att [n_tokens, n_head * head_dim]   k, v [n_tokens, n_head_kv * head_dim]
 *   gate, up [n_tokens, n_ff]        logits [n_out, n_vocab]
 *   batch arrays (uploaded every step): token[n_tokens] i32, pos[n_tokens] u32, item[n_tokens] u32,
 *   pages[n_items, max_pages] u32 (each item's KV page list), out_rows[n_out] u32, rope cos/sin [n_tokens, n_rot/2]
 * KV arena: page p = [n_layer][2 (K, V)][page_tokens][n_head_kv * head_dim] f16 (as llm_attention.c).
 * Weights keep their GGUF layout; every product dequantizes 8 consecutive elements of a row at a time.
 *
 * Every kernel reads the per-step values it needs from device memory, never from its arguments, except the token
 * count: a decode step of a given batch size is the same launches with the same arguments, so it can be captured
 * once as a graph and replayed.
 */

typedef unsigned char u8;
typedef signed char i8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define INFINITY __int_as_float(0x7f800000)

enum {
    T_F32 = 0, T_F16 = 1, T_Q4_0 = 2, T_Q4_1 = 3, T_Q5_0 = 6, T_Q5_1 = 7, T_Q8_0 = 8,
    T_Q4_K = 12, T_Q5_K = 13, T_Q6_K = 14, T_BF16 = 30
};

__device__ __forceinline__ float h2f(u16 h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

__device__ __forceinline__ u16 f2h(float f) {
    u16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

__device__ __forceinline__ float round_f16(float f) { return h2f(f2h(f)); }

__device__ __forceinline__ float bf2f(u16 b) { return __uint_as_float(((u32)b) << 16); }

__device__ __forceinline__ u16 ld16(const u8 *p) { return (u16)(p[0] | (p[1] << 8)); }

__device__ __forceinline__ u32 ld32(const u8 *p) { return (u32)p[0] | ((u32)p[1] << 8) | ((u32)p[2] << 16) | ((u32)p[3] << 24); }

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result. */
__device__ float block_sum(float v) {
    __shared__ float partial[32];
    v = warp_sum(v);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    __syncthreads();
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    float total = 0.0f;
    for (int w = 0; w < warps; w++) total += partial[w];
    return total;
}

/* 1 / sqrt(mean square + eps) from a row's sum of squares. */
__device__ __forceinline__ float rms_inverse(float sum_of_squares, u32 n, float eps) {
    return 1.0f / sqrtf(sum_of_squares / (float)n + eps);
}

/* rms_inverse of x [n] (global or shared memory), summed over the block; every thread gets it. */
__device__ float block_rms_inverse(const float *x, u32 n, float eps) {
    float sum = 0.0f;
    for (u32 i = threadIdx.x; i < n; i += blockDim.x) sum += x[i] * x[i];
    return rms_inverse(block_sum(sum), n, eps);
}

/* Q4_K / Q5_K: sub-block j's 6-bit scale and minimum from the 12 scale bytes (ggml's get_scale_min_k4). */
__device__ __forceinline__ void scale_min_k4(int j, const u8 *q, float *sc, float *m) {
    if (j < 4) {
        *sc = (float)(q[j] & 63);
        *m = (float)(q[j + 4] & 63);
    } else {
        *sc = (float)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (float)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* Elements [e, e + 8) of a row of `type` (e a multiple of 8), dequantized into y. */
__device__ __forceinline__ void dequant8(int type, const u8 *row, u32 e, float y[8]) {
    switch (type) {
    case T_F32: {
        const float *p = (const float *)row + e;
        for (int i = 0; i < 8; i++) y[i] = p[i];
        break;
    }
    case T_F16: {
        const u16 *p = (const u16 *)row + e;
        for (int i = 0; i < 8; i++) y[i] = h2f(p[i]);
        break;
    }
    case T_BF16: {
        const u16 *p = (const u16 *)row + e;
        for (int i = 0; i < 8; i++) y[i] = bf2f(p[i]);
        break;
    }
    case T_Q4_0: case T_Q4_1: {
        const int q41 = type == T_Q4_1;
        const u8 *b = row + (e / 32) * (q41 ? 20 : 18);
        const u32 j = e % 32;
        const float d = h2f(ld16(b)), m = q41 ? h2f(ld16(b + 2)) : -8.0f * d;
        const u8 *qs = b + (q41 ? 4 : 2) + (j & 15);
        const int shift = j < 16 ? 0 : 4;
        for (int i = 0; i < 8; i++) y[i] = (float)((qs[i] >> shift) & 0xF) * d + m;
        break;
    }
    case T_Q5_0: case T_Q5_1: {
        const int q51 = type == T_Q5_1;
        const u8 *b = row + (e / 32) * (q51 ? 24 : 22);
        const u32 j = e % 32;
        const float d = h2f(ld16(b)), m = q51 ? h2f(ld16(b + 2)) : -16.0f * d;
        const u32 qh = ld32(b + (q51 ? 4 : 2));
        const u8 *qs = b + (q51 ? 8 : 6) + (j & 15);
        const int shift = j < 16 ? 0 : 4;
        for (int i = 0; i < 8; i++) {
            const int q = ((qs[i] >> shift) & 0xF) | (((qh >> (j + i)) & 1) << 4);
            y[i] = (float)q * d + m;
        }
        break;
    }
    case T_Q8_0: {
        const u8 *b = row + (e / 32) * 34;
        const float d = h2f(ld16(b));
        const i8 *qs = (const i8 *)(b + 2) + e % 32;
        for (int i = 0; i < 8; i++) y[i] = (float)qs[i] * d;
        break;
    }
    case T_Q4_K: case T_Q5_K: {
        const int q5 = type == T_Q5_K;
        const u8 *b = row + (e / 256) * (q5 ? 176 : 144);
        const u32 w = e % 256, c = w / 64, sub = (w % 64) / 32, l = w % 32;
        float sc, mn;
        scale_min_k4((int)(2 * c + sub), b + 4, &sc, &mn);
        const float d = h2f(ld16(b)) * sc, m = h2f(ld16(b + 2)) * mn;
        const u8 *qs = b + (q5 ? 48 : 16) + 32 * c + l;
        const u8 *qh = b + 16 + l;
        const int shift = sub ? 4 : 0;
        const u8 bit = (u8)(1u << (2 * c + sub));
        for (int i = 0; i < 8; i++) {
            const int q = ((qs[i] >> shift) & 0xF) + (q5 && (qh[i] & bit) ? 16 : 0);
            y[i] = d * (float)q - m;
        }
        break;
    }
    case T_Q6_K: {
        const u8 *b = row + (e / 256) * 210;
        const u32 w = e % 256, half = w / 128, r = w % 128, s = r / 32, l = r % 32;
        const u8 *ql = b + 64 * half + (s & 1) * 32 + l;
        const u8 *qh = b + 128 + 32 * half + l;
        const i8 *scales = (const i8 *)(b + 192) + 8 * half;
        const float d = h2f(ld16(b + 208)) * (float)scales[2 * s + l / 16];
        const int lshift = s >= 2 ? 4 : 0, hshift = 2 * (int)s;
        for (int i = 0; i < 8; i++) {
            const int q = (((ql[i] >> lshift) & 0xF) | (((qh[i] >> hshift) & 3) << 4)) - 32;
            y[i] = d * (float)q;
        }
        break;
    }
    default:
        for (int i = 0; i < 8; i++) y[i] = 0.0f;
    }
}

#define MM_TOKENS 8

/* One warp's share of a product: out[t, r] = row . x[t] for the tokens [t0, t0 + MM_TOKENS) of x [n, k]. */
__device__ __forceinline__ void matmul_row(int type, const u8 *row, u32 k, const float *x, u32 n, u32 t0, float *out,
                                           u32 out_stride, u32 r) {
    const u32 lane = threadIdx.x & 31;
    const u32 nt = n - t0 < MM_TOKENS ? n - t0 : MM_TOKENS;
    float acc[MM_TOKENS];
    for (int t = 0; t < MM_TOKENS; t++) acc[t] = 0.0f;
    for (u32 e = lane * 8; e < k; e += 256) {
        float y[8];
        dequant8(type, row, e, y);
        for (int t = 0; t < MM_TOKENS; t++) {
            if ((u32)t >= nt) break;
            const float4 *xp = (const float4 *)(x + (u64)(t0 + t) * k + e);
            const float4 a = xp[0], b = xp[1];
            acc[t] += y[0] * a.x + y[1] * a.y + y[2] * a.z + y[3] * a.w + y[4] * b.x + y[5] * b.y + y[6] * b.z + y[7] * b.w;
        }
    }
    for (int t = 0; t < MM_TOKENS; t++) {
        if ((u32)t >= nt) break;
        const float s = warp_sum(acc[t]);
        if (lane == 0) out[(u64)(t0 + t) * out_stride + r] = s;
    }
}

/* out[t, r] = W[r] . x[t] for rows r of W [rows, k] (`type`, row_bytes apart) and tokens t of x [n, k]: one warp
 * per row and group of up to MM_TOKENS tokens; the weights are dequantized once per group, 8 elements a lane. */
extern "C" __global__ void matmul(int type, const u8 *w, u64 row_bytes, u32 rows, u32 k, const float *x, u32 n,
                                  float *out, u32 out_stride) {
    const u32 r = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (r >= rows) return;
    matmul_row(type, w + (u64)r * row_bytes, k, x, n, blockIdx.y * MM_TOKENS, out, out_stride, r);
}

/* Up to three products of the same input in one launch (q, k and v; gate and up): part p's rows come after part
 * p - 1's in the grid. Passed by value; llm_cuda_forward.c declares the same layout. */
typedef struct matmul_parts {
    const u8 *w[3];
    float *out[3];
    u64 row_bytes[3];
    u32 rows[3];
    u32 out_stride[3];
    int type[3];
    u32 n_parts;
} matmul_parts;

extern "C" __global__ void matmul_multi(matmul_parts parts, u32 k, const float *x, u32 n) {
    u32 r = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), p = 0;
    while (p < parts.n_parts && r >= parts.rows[p]) r -= parts.rows[p++];
    if (p >= parts.n_parts) return;
    matmul_row(parts.type[p], parts.w[p] + (u64)r * parts.row_bytes[p], k, x, n, blockIdx.y * MM_TOKENS, parts.out[p],
               parts.out_stride[p], r);
}

/* ---- tensor-core products for batches of 16 tokens and more ------------------------------------------------------
 * out[t, r] = W[r] . x[t] as matmul, a 64-row x 64-token tile per block of 4 warps (each warp 32 x 32): per 32 of k,
 * the block dequantizes its W tile and converts its x tile to f16 in shared memory, then each warp runs
 * mma.sync m16n8k16 (f16 inputs, f32 accumulation). k must be a multiple of 32. */
#define MMA_TILE 64
#define MMA_K 32
#define MMA_PAD 8 /* row stride 40 halves: the fragment loads of a warp fall in different banks */

__device__ __forceinline__ u32 pair(const u16 *p) { return *(const u32 *)p; }

__device__ __forceinline__ void mma_16816(float d[4], const u32 a[4], const u32 b[2]) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

extern "C" __global__ void matmul_mma(int type, const u8 *w, u64 row_bytes, u32 rows, u32 k, const float *x, u32 n,
                                      float *out, u32 out_stride) {
    __shared__ __align__(16) u16 ws[MMA_TILE][MMA_K + MMA_PAD];
    __shared__ __align__(16) u16 xs[MMA_TILE][MMA_K + MMA_PAD];
    const u32 lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, c = lane & 3;
    const u32 row0 = blockIdx.x * MMA_TILE, t0 = blockIdx.y * MMA_TILE;
    const u32 wr = (warp & 1) * 32, wt = (warp >> 1) * 32;
    float acc[2][4][4];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++)
            for (int v = 0; v < 4; v++) acc[i][j][v] = 0.0f;
    for (u32 k0 = 0; k0 < k; k0 += MMA_K) {
        /* 64 rows (or tokens) x 32 of k = 256 groups of 8: two per thread for each tile */
        for (u32 gi = threadIdx.x; gi < MMA_TILE * MMA_K / 8; gi += blockDim.x) {
            const u32 r = gi / (MMA_K / 8), e = (gi % (MMA_K / 8)) * 8;
            float y[8];
            if (row0 + r < rows) dequant8(type, w + (u64)(row0 + r) * row_bytes, k0 + e, y);
            else for (int i = 0; i < 8; i++) y[i] = 0.0f;
            for (int i = 0; i < 8; i++) ws[r][e + i] = f2h(y[i]);
            if (t0 + r < n) {
                const float4 *xp = (const float4 *)(x + (u64)(t0 + r) * k + k0 + e);
                const float4 a = xp[0], b = xp[1];
                y[0] = a.x; y[1] = a.y; y[2] = a.z; y[3] = a.w; y[4] = b.x; y[5] = b.y; y[6] = b.z; y[7] = b.w;
            } else {
                for (int i = 0; i < 8; i++) y[i] = 0.0f;
            }
            for (int i = 0; i < 8; i++) xs[r][e + i] = f2h(y[i]);
        }
        __syncthreads();
        for (u32 kk = 0; kk < MMA_K; kk += 16) {
            u32 a[2][4], b[4][2];
            for (int mt = 0; mt < 2; mt++) {
                const u32 r = wr + mt * 16 + g;
                a[mt][0] = pair(&ws[r][kk + 2 * c]);
                a[mt][1] = pair(&ws[r + 8][kk + 2 * c]);
                a[mt][2] = pair(&ws[r][kk + 2 * c + 8]);
                a[mt][3] = pair(&ws[r + 8][kk + 2 * c + 8]);
            }
            for (int nt = 0; nt < 4; nt++) {
                const u32 t = wt + nt * 8 + g;
                b[nt][0] = pair(&xs[t][kk + 2 * c]);
                b[nt][1] = pair(&xs[t][kk + 2 * c + 8]);
            }
            for (int mt = 0; mt < 2; mt++)
                for (int nt = 0; nt < 4; nt++) mma_16816(acc[mt][nt], a[mt], b[nt]);
        }
        __syncthreads();
    }
    for (int mt = 0; mt < 2; mt++) {
        for (int nt = 0; nt < 4; nt++) {
            const u32 r = row0 + wr + mt * 16 + g, t = t0 + wt + nt * 8 + 2 * c;
            for (int v = 0; v < 4; v++) {
                const u32 rr = r + (v >= 2 ? 8 : 0), tt = t + (v & 1);
                if (rr < rows && tt < n) out[(u64)tt * out_stride + rr] = acc[mt][nt][v];
            }
        }
    }
}

/* x[t] = dequant(embeddings[token[t]]) * scale: one block per token. */
extern "C" __global__ void embed(int type, const u8 *table, u64 row_bytes, u32 n_embd, const int *token, float scale,
                                 float *x) {
    const u32 t = blockIdx.x;
    const u8 *row = table + (u64)token[t] * row_bytes;
    for (u32 e = threadIdx.x * 8; e < n_embd; e += blockDim.x * 8) {
        float y[8];
        dequant8(type, row, e, y);
        for (int i = 0; i < 8; i++) x[(u64)t * n_embd + e + i] = y[i] * scale;
    }
}

/* out[r] = rmsnorm(in[src(r)]) * w, src(r) = rows ? rows[r] : r; one block per row (in place allowed). */
extern "C" __global__ void rmsnorm(const float *in, const u32 *rows, const float *w, u32 n, float eps, float *out) {
    const u32 r = blockIdx.x, src = rows ? rows[r] : r;
    const float *xr = in + (u64)src * n;
    const float inv = block_rms_inverse(xr, n, eps);
    for (u32 i = threadIdx.x; i < n; i += blockDim.x) out[(u64)r * n + i] = (xr[i] * inv) * w[i];
}

/* x[r] += y[r] (through rmsnorm * post when post is given), then xb[r] = rmsnorm(x[r]) * next when next is given: a
 * block's residual and the next block's input norm in one launch; one block per row. */
extern "C" __global__ void residual_norm(float *x, const float *y, const float *post, const float *next, u32 n, float eps,
                                         float *xb) {
    const u32 r = blockIdx.x;
    const float *yr = y + (u64)r * n;
    float *xr = x + (u64)r * n;
    const float inv = post ? block_rms_inverse(yr, n, eps) : 1.0f;
    float sum = 0.0f;
    for (u32 i = threadIdx.x; i < n; i += blockDim.x) {
        const float v = xr[i] + (post ? (yr[i] * inv) * post[i] : yr[i]);
        xr[i] = v;
        sum += v * v;
    }
    if (!next) return;
    const float inv_x = rms_inverse(block_sum(sum), n, eps);
    for (u32 i = threadIdx.x; i < n; i += blockDim.x) xb[(u64)r * n + i] = (xr[i] * inv_x) * next[i];
}

/* x[t, i] += bias[i] over [n_tokens, dim]. */
extern "C" __global__ void add_bias(float *x, const float *bias, u32 dim, u32 total) {
    const u32 i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < total) x[i] += bias[i % dim];
}

/* One (token, head) of q, k or v: blockIdx.y < n_head is a q head, then n_head_kv k heads, then n_head_kv v heads.
 * q and k: optional per-head rmsnorm, RoPE from the step's tables; q is scaled (when q_scale != 1) and written
 * back, k and v are stored in f16 into the token's KV slot of layer `layer`. Shared memory: head_dim floats. */
extern "C" __global__ void prepare_qkv(float *q, const float *k, const float *v, const float *q_norm, const float *k_norm,
                                       u32 n_head, u32 n_head_kv, u32 head_dim, u32 n_rot, int neox, float eps,
                                       float q_scale, const float *rope_cos, const float *rope_sin,
                                       const u32 *pos, const u32 *item, const u32 *pages, u32 max_pages,
                                       u8 *kv, u64 page_bytes, u32 page_tokens, u32 layer) {
    extern __shared__ float head[];
    const u32 t = blockIdx.x, h = blockIdx.y, kv_dim = n_head_kv * head_dim;
    const int is_q = h < n_head, is_k = !is_q && h < n_head + n_head_kv;
    const float *src = is_q ? q + ((u64)t * n_head + h) * head_dim
                     : is_k ? k + (u64)t * kv_dim + (u64)(h - n_head) * head_dim
                            : v + (u64)t * kv_dim + (u64)(h - n_head - n_head_kv) * head_dim;
    for (u32 i = threadIdx.x; i < head_dim; i += blockDim.x) head[i] = src[i];
    __syncthreads();
    if (is_q || is_k) {
        const float *norm = is_q ? q_norm : k_norm;
        if (norm) {
            const float inv = block_rms_inverse(head, head_dim, eps);
            for (u32 i = threadIdx.x; i < head_dim; i += blockDim.x) head[i] = (head[i] * inv) * norm[i];
            __syncthreads();
        }
        const u32 half = n_rot / 2;
        const float *c = rope_cos + (u64)t * half, *s = rope_sin + (u64)t * half;
        for (u32 i = threadIdx.x; i < half; i += blockDim.x) {
            const u32 a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
            const float x0 = head[a], x1 = head[b];
            head[a] = fmaf(x0, c[i], -(x1 * s[i]));
            head[b] = fmaf(x0, s[i], x1 * c[i]);
        }
        __syncthreads();
    }
    if (is_q) {
        float *dst = q + ((u64)t * n_head + h) * head_dim;
        for (u32 i = threadIdx.x; i < head_dim; i += blockDim.x) dst[i] = head[i] * q_scale;
        return;
    }
    const u32 p = pos[t], page = pages[(u64)item[t] * max_pages + p / page_tokens], slot = p % page_tokens;
    const u32 g = is_k ? h - n_head : h - n_head - n_head_kv;
    u16 *dst = (u16 *)(kv + (u64)page * page_bytes + ((u64)layer * 2 + (is_k ? 0 : 1)) * page_tokens * kv_dim * 2 +
                       (u64)slot * kv_dim * 2) + (u64)g * head_dim;
    for (u32 i = threadIdx.x; i < head_dim; i += blockDim.x) dst[i] = f2h(head[i]);
}

#define ATT_MAX_WARPS 16
#define ATT_MAX_DIM 256

/* One (token, q head): softmax(q . K * scale) . V over the positions the token sees (causal; the last `window` of
 * them on a sliding layer, window 0 = all), in one pass with a running maximum per warp (warp w of W = blockDim / 32
 * <= ATT_MAX_WARPS takes every W-th position), then the warps are merged. q is rounded to f16 first, as ggml's f16
 * products do. */
extern "C" __global__ void attention(const float *q, float *out, u32 n_head, u32 n_head_kv, u32 head_dim, float scale,
                                     u32 window, const u32 *pos, const u32 *item, const u32 *pages, u32 max_pages,
                                     const u8 *kv, u64 page_bytes, u32 page_tokens, u32 layer) {
    __shared__ float q_s[ATT_MAX_DIM];
    __shared__ float acc_s[ATT_MAX_WARPS][ATT_MAX_DIM];
    __shared__ float max_s[ATT_MAX_WARPS], sum_s[ATT_MAX_WARPS];
    const u32 t = blockIdx.x, h = blockIdx.y, lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    const u32 kv_dim = n_head_kv * head_dim, g = h / (n_head / n_head_kv), per_lane = head_dim / 32;
    for (u32 i = threadIdx.x; i < head_dim; i += blockDim.x) q_s[i] = round_f16(q[((u64)t * n_head + h) * head_dim + i]);
    __syncthreads();
    const u32 last = pos[t], first = window > 0 && last + 1 > window ? last + 1 - window : 0;
    const u32 *page_list = pages + (u64)item[t] * max_pages;
    const u64 k_offset = ((u64)layer * 2) * page_tokens * kv_dim * 2, v_offset = k_offset + (u64)page_tokens * kv_dim * 2;
    float m = -INFINITY, l = 0.0f, acc[ATT_MAX_DIM / 32];
    for (u32 j = 0; j < per_lane; j++) acc[j] = 0.0f;
    for (u32 p = first + warp; p <= last; p += warps) {
        const u8 *slot = kv + (u64)page_list[p / page_tokens] * page_bytes + (u64)(p % page_tokens) * kv_dim * 2 +
                         (u64)g * head_dim * 2;
        const u16 *kp = (const u16 *)(slot + k_offset), *vp = (const u16 *)(slot + v_offset);
        float s = 0.0f;
        for (u32 j = 0; j < per_lane; j++) s += q_s[lane + 32 * j] * h2f(kp[lane + 32 * j]);
        s = warp_sum(s) * scale;
        const float m_new = fmaxf(m, s), correction = __expf(m - m_new), e = __expf(s - m_new);
        l = l * correction + e;
        for (u32 j = 0; j < per_lane; j++) acc[j] = acc[j] * correction + e * h2f(vp[lane + 32 * j]);
        m = m_new;
    }
    for (u32 j = 0; j < per_lane; j++) acc_s[warp][lane + 32 * j] = acc[j];
    if (lane == 0) {
        max_s[warp] = m;
        sum_s[warp] = l;
    }
    __syncthreads();
    float mx = -INFINITY;
    for (u32 w = 0; w < warps; w++) mx = fmaxf(mx, max_s[w]);
    float total = 0.0f, weight[ATT_MAX_WARPS];
    for (u32 w = 0; w < warps; w++) {
        weight[w] = max_s[w] == -INFINITY ? 0.0f : __expf(max_s[w] - mx);
        total += sum_s[w] * weight[w];
    }
    for (u32 i = threadIdx.x; i < head_dim; i += blockDim.x) {
        float o = 0.0f;
        for (u32 w = 0; w < warps; w++) o += acc_s[w][i] * weight[w];
        out[((u64)t * n_head + h) * head_dim + i] = o / total;
    }
}

/* gate[i] = act(gate[i]) * up[i]: SiLU (act 0) or GELU, tanh form (act 1), taken at the f16-rounded input and
 * rounded to f16 as ggml's CPU table does. */
extern "C" __global__ void glu(float *gate, const float *up, u64 total, int act) {
    const u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const float x = gate[i];
    float g;
    if (act == 0) {
        g = x / (1.0f + expf(-x));
    } else if (x <= -10.0f) {
        g = 0.0f;
    } else if (x >= 10.0f) {
        g = x;
    } else {
        const float xr = round_f16(x);
        g = round_f16(0.5f * xr * (1.0f + tanhf(0.7978845608028654f * xr * fmaf(0.044715f * xr, xr, 1.0f))));
    }
    gate[i] = g * up[i];
}

#define ARGMAX_CHUNKS 64

/* (value, index) pairs: the larger value wins, then the lower index. */
__device__ __forceinline__ void argmax_merge(float *v, int *i, float ov, int oi) {
    if (ov > *v || (ov == *v && oi < *i)) {
        *v = ov;
        *i = oi;
    }
}

/* Greedy sampling on the device, first half: chunk blockIdx.y of row blockIdx.x -> its (max, lowest index) into
 * part_v / part_i [rows, ARGMAX_CHUNKS], so a row of 262144 logits is read by 64 blocks instead of one. */
extern "C" __global__ void argmax_chunks(const float *logits, u32 n, float *part_v, int *part_i) {
    __shared__ float best_v[32];
    __shared__ int best_i[32];
    const float *row = logits + (u64)blockIdx.x * n;
    const u32 per = (n + ARGMAX_CHUNKS - 1) / ARGMAX_CHUNKS, begin = blockIdx.y * per, end = min(n, begin + per);
    float v = -INFINITY;
    int index = 0x7fffffff;
    for (u32 i = begin + threadIdx.x; i < end; i += blockDim.x) argmax_merge(&v, &index, row[i], (int)i);
    for (int o = 16; o > 0; o >>= 1) {
        const float ov = __shfl_xor_sync(0xffffffffu, v, o);
        const int oi = __shfl_xor_sync(0xffffffffu, index, o);
        argmax_merge(&v, &index, ov, oi);
    }
    const u32 lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) {
        best_v[warp] = v;
        best_i[warp] = index;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (u32 w = 1; w < (blockDim.x >> 5); w++) argmax_merge(&v, &index, best_v[w], best_i[w]);
        part_v[blockIdx.x * ARGMAX_CHUNKS + blockIdx.y] = v;
        part_i[blockIdx.x * ARGMAX_CHUNKS + blockIdx.y] = index;
    }
}

/* Second half: out[r] = the lowest index of row r's maximum, from its chunks; one warp per row. */
extern "C" __global__ void argmax_rows(const float *part_v, const int *part_i, int *out) {
    float v = -INFINITY;
    int index = 0x7fffffff;
    for (u32 c = threadIdx.x; c < ARGMAX_CHUNKS; c += 32)
        argmax_merge(&v, &index, part_v[blockIdx.x * ARGMAX_CHUNKS + c], part_i[blockIdx.x * ARGMAX_CHUNKS + c]);
    for (int o = 16; o > 0; o >>= 1) {
        const float ov = __shfl_xor_sync(0xffffffffu, v, o);
        const int oi = __shfl_xor_sync(0xffffffffu, index, o);
        argmax_merge(&v, &index, ov, oi);
    }
    if (threadIdx.x == 0) out[blockIdx.x] = index == 0x7fffffff ? 0 : index;
}
