/*
 * llm_attention.c — attention over paged KV memory. The host owns the KV arena and the page tables: page p of the
 * arena holds, for every layer, K and V of `page_tokens` positions in f16:
 *   page: [n_layer][2 (K, V)][page_tokens][n_head_kv * head_dim] f16
 * Position `pos` of a sequence lives in page item->kv_pages[pos / page_tokens], slot pos % page_tokens.
 */
#include "llm_forward.h"
#include "llm_ops.h"

#include "quants.h"

#include <math.h>
#include <string.h>

/* Address of K (which = 0) or V (which = 1) for one position of one item in layer il. */
static uint16_t *kv_slot(const px_model *m, const llm_batch *b, const px_step_item *item, uint32_t il, int which, uint32_t pos) {
    uint64_t kv_dim = (uint64_t)m->hp.n_head_kv * m->hp.head_dim;
    uint32_t page = item->kv_pages[pos / m->page_tokens], slot = pos % m->page_tokens;
    uint64_t offset = (uint64_t)page * b->page_bytes + ((uint64_t)il * 2 + (uint64_t)which) * m->page_tokens * kv_dim * 2 +
                      (uint64_t)slot * kv_dim * 2;
    return (uint16_t *)(void *)(b->kv + offset);
}

void llm_kv_store(const px_model *m, const llm_batch *b, uint32_t il, uint32_t t, const float *k, const float *v) {
    uint32_t kv_dim = m->hp.n_head_kv * m->hp.head_dim;
    const px_step_item *item = b->items[b->item[t]];
    llm_f32_to_f16_row(kv_slot(m, b, item, il, 0, b->pos[t]), k, kv_dim);
    llm_f32_to_f16_row(kv_slot(m, b, item, il, 1, b->pos[t]), v, kv_dim);
}

typedef struct attention_job {
    px_model *m;
    const llm_batch *b;
    uint32_t il;
    const float *q;
    float *out;
    float score_scale;
} attention_job;

/* One (token, head) on CPUs without AVX-512: softmax(q . K) . V with llama.cpp's roundings (q and the
 * probabilities in f16) but not its order of additions. */
static void attention_portable(const attention_job *job, uint32_t index, uint32_t worker) {
    const px_model *m = job->m;
    const llm_batch *b = job->b;
    const llm_hparams *hp = &m->hp;
    /* the latest tokens see the most positions: hand them out first so the workers finish together */
    uint32_t t = b->n_tokens - 1 - index / hp->n_head, h = index % hp->n_head, g = h / (hp->n_head / hp->n_head_kv);
    const px_step_item *item = b->items[b->item[t]];
    uint32_t last = b->pos[t], first = 0;
    if (m->layers[job->il].sliding && hp->sliding_window > 0 && last + 1 > hp->sliding_window) first = last + 1 - hp->sliding_window;
    /* q is rounded to f16 and the probabilities too before they weight V, as ggml's f16 matmuls do */
    float q[1024];
    memcpy(q, job->q + ((uint64_t)t * hp->n_head + h) * hp->head_dim, hp->head_dim * sizeof(float));
    llm_round_f16(q, hp->head_dim);
    float *scores = m->s.scores + (uint64_t)worker * m->s.scores_row;
    float max = -INFINITY;
    uint32_t p = first;
    for (; p + 4 <= last + 1; p += 4) {
        const uint16_t *k[4];
        for (int r = 0; r < 4; r++) k[r] = kv_slot(m, b, item, job->il, 0, p + (uint32_t)r) + (uint64_t)g * hp->head_dim;
        float s[4];
        llm_dot4_f32_f16(q, k, hp->head_dim, s);
        for (int r = 0; r < 4; r++) {
            scores[p + (uint32_t)r - first] = s[r] * job->score_scale;
            if (scores[p + (uint32_t)r - first] > max) max = scores[p + (uint32_t)r - first];
        }
    }
    for (; p <= last; p++) {
        float s = llm_dot_f32_f16(q, kv_slot(m, b, item, job->il, 0, p) + (uint64_t)g * hp->head_dim, hp->head_dim) * job->score_scale;
        scores[p - first] = s;
        if (s > max) max = s;
    }
    float sum = 0;
    for (uint32_t p = first; p <= last; p++) {
        float e = expf(scores[p - first] - max);
        scores[p - first] = e;
        sum += e;
    }
    float *out = job->out + ((uint64_t)t * hp->n_head + h) * hp->head_dim;
    for (uint32_t i = 0; i < hp->head_dim; i++) out[i] = 0;
    float inv = 1.0f / sum;
    uint32_t count = last - first + 1;
    for (uint32_t i = 0; i < count; i++) scores[i] *= inv;
    llm_round_f16(scores, count);
    for (uint32_t p = first; p <= last; p++)
        llm_axpy_f16(out, scores[p - first], kv_slot(m, b, item, job->il, 1, p) + (uint64_t)g * hp->head_dim, hp->head_dim);
}

/* ---- ggml's order (AVX-512) ---------------------------------------------------------------------------------------
 * llama.cpp (no flash attention, f16 KV cache) computes attention as two f16 matrix products around a softmax, and
 * each of them adds in an order of its own; matching every one is what makes greedy decoding token-identical:
 *   q . k      q rounded to f16. A batch of >= 2 tokens goes through llamafile's tinyBLAS (one 16-lane chain over
 *              head_dim, then _mm512_reduce_add_ps); a single token through ggml_vec_dot_f16 (four 16-lane chains
 *              over 64-element steps, folded (0+2) + (1+3), then _mm512_reduce_add_ps).
 *   softmax    over the KV cells 0..n_kv-1 (masked cells give exp = 0): ggml_v_expf of (s - max) 16 cells at a time,
 *              each group's _mm512_reduce_add_ps added into a double; the probabilities are exp * (float)(1 / sum).
 *   p . V      p rounded to f16; over cells with the same two orders as q . k (lane = cell % 16, or cell % 64).
 * Cell index = position here (one sequence from position 0, as in the goldens). */
#if defined(__x86_64__)
#include "llm_expf.h"

static inline LLM_AVX512 __m512 load_f16(const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)p));
}

/* x . y over n f16 values: tinyBLAS's order when `batch`, else ggml_vec_dot_f16's. */
static LLM_AVX512 float dot_f16_ggml(const uint16_t *x, const uint16_t *y, uint32_t n, int batch) {
    if (batch) {
        __m512 acc = _mm512_setzero_ps();
        for (uint32_t i = 0; i < n; i += 16) acc = _mm512_fmadd_ps(load_f16(x + i), load_f16(y + i), acc);
        return _mm512_reduce_add_ps(acc);
    }
    __m512 a[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    const uint32_t np = n & ~63u;
    for (uint32_t i = 0; i < np; i += 64)
        for (int j = 0; j < 4; j++) a[j] = _mm512_fmadd_ps(load_f16(x + i + 16 * j), load_f16(y + i + 16 * j), a[j]);
    a[0] = _mm512_add_ps(a[0], a[2]);
    a[1] = _mm512_add_ps(a[1], a[3]);
    a[0] = _mm512_add_ps(a[0], a[1]);
    double sum = _mm512_reduce_add_ps(a[0]);
    for (uint32_t i = np; i < n; i++) sum += (double)(llm_fp16_to_fp32(x[i]) * llm_fp16_to_fp32(y[i]));
    return (float)sum;
}

/* Four dot_f16_ggml(k[r], y, n, batch) at once: the same additions per dot, four independent chains. */
static LLM_AVX512 void dot4_f16_ggml(const uint16_t *const k[4], const uint16_t *y, uint32_t n, int batch, float out[4]) {
    if (!batch || n % 16 != 0) {
        for (int r = 0; r < 4; r++) out[r] = dot_f16_ggml(k[r], y, n, batch);
        return;
    }
    __m512 a[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    for (uint32_t i = 0; i < n; i += 16) {
        const __m512 yv = load_f16(y + i);
        for (int r = 0; r < 4; r++) a[r] = _mm512_fmadd_ps(load_f16(k[r] + i), yv, a[r]);
    }
    for (int r = 0; r < 4; r++) out[r] = _mm512_reduce_add_ps(a[r]);
}

/* _mm512_reduce_add_ps (GCC's tree) of 16 lanes, for 16 outputs at once: out = reduce over l of v[l]. */
static inline LLM_AVX512 __m512 reduce16(__m512 v[16]) {
    for (int l = 0; l < 8; l++) v[l] = _mm512_add_ps(v[l + 8], v[l]);
    for (int l = 0; l < 4; l++) v[l] = _mm512_add_ps(v[l + 4], v[l]);
    return _mm512_add_ps(_mm512_add_ps(v[0], v[2]), _mm512_add_ps(v[1], v[3]));
}

/* The KV cells one (token, head) attends to, and where its K and V rows are. */
typedef struct head_view {
    const px_model *m;
    const llm_batch *b;
    const px_step_item *item;
    uint32_t il, g, hd, first, last;
} head_view;

static const uint16_t *head_row(const head_view *v, int which, uint32_t p) {
    return kv_slot(v->m, v->b, v->item, v->il, which, p) + (uint64_t)v->g * v->hd;
}

/* scores[p] = q . K[p] * scale for p in [first, last]; -inf for the rest of their groups of 16. Returns the max. */
static LLM_AVX512 float head_scores(const head_view *v, const uint16_t *q, int batch, float scale, float *scores) {
    for (uint32_t p = v->first / 16 * 16; p < v->first; p++) scores[p] = -INFINITY;
    for (uint32_t p = v->last + 1; p < (v->last + 16) / 16 * 16; p++) scores[p] = -INFINITY;
    uint32_t p = v->first;
    for (; p + 4 <= v->last + 1; p += 4) {
        const uint16_t *k[4] = {head_row(v, 0, p), head_row(v, 0, p + 1), head_row(v, 0, p + 2), head_row(v, 0, p + 3)};
        float s[4];
        dot4_f16_ggml(k, q, v->hd, batch, s);
        for (int r = 0; r < 4; r++) scores[p + (uint32_t)r] = s[r] * scale;
    }
    for (; p <= v->last; p++) scores[p] = dot_f16_ggml(head_row(v, 0, p), q, v->hd, batch) * scale;
    float max = -INFINITY;
    for (p = v->first; p <= v->last; p++)
        if (scores[p] > max) max = scores[p];
    return max;
}

/* ggml_vec_soft_max_f32 and the scaling after it, then the f16 rounding of ggml's p . V product. */
static LLM_AVX512 void head_softmax(const head_view *v, float max, float *scores) {
    const uint32_t lo = v->first / 16 * 16, hi = (v->last + 16) / 16 * 16;
    double sum = 0;
    for (uint32_t p = lo; p < hi; p += 16) {
        const __m512 e = llm_expf16(_mm512_sub_ps(_mm512_loadu_ps(scores + p), _mm512_set1_ps(max)));
        _mm512_storeu_ps(scores + p, e);
        sum += (double)_mm512_reduce_add_ps(e);
    }
    const __m512 inv = _mm512_set1_ps((float)(1.0 / sum));
    for (uint32_t p = lo; p < hi; p += 16) {
        const __m512 prob = _mm512_mul_ps(_mm512_loadu_ps(scores + p), inv);
        _mm512_storeu_ps(scores + p, _mm512_cvtph_ps(_mm512_cvtps_ph(prob, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
    }
}

/* out = probabilities . V: lane (cell % lanes) of each output gathers its cells in order into acc [lanes][hd],
 * then the lanes are summed as ggml does (16 lanes: tinyBLAS; 64: ggml_vec_dot_f16's four 16-lane sums). */
static LLM_AVX512 void head_weighted_sum(const head_view *v, const float *probs, uint32_t lanes, float *acc, float *out) {
    const uint32_t hd = v->hd;
    memset(acc, 0, (uint64_t)lanes * hd * sizeof(float));
    for (uint32_t p = v->first; p <= v->last; p++) {
        const uint16_t *row = head_row(v, 1, p);
        float *a = acc + (uint64_t)(p % lanes) * hd;
        const __m512 pv = _mm512_set1_ps(probs[p]);
        for (uint32_t i = 0; i < hd; i += 16) _mm512_storeu_ps(a + i, _mm512_fmadd_ps(pv, load_f16(row + i), _mm512_loadu_ps(a + i)));
    }
    for (uint32_t i = 0; i < hd; i += 16) {
        __m512 x[16];
        for (uint32_t l = 0; l < 16; l++) {
            const float *a = acc + (uint64_t)l * hd + i;
            x[l] = lanes == 16 ? _mm512_loadu_ps(a) /* four sums folded (0 + 2) + (1 + 3) */
                               : _mm512_add_ps(_mm512_add_ps(_mm512_loadu_ps(a), _mm512_loadu_ps(a + 32 * (uint64_t)hd)),
                                               _mm512_add_ps(_mm512_loadu_ps(a + 16 * (uint64_t)hd), _mm512_loadu_ps(a + 48 * (uint64_t)hd)));
        }
        _mm512_storeu_ps(out + i, reduce16(x));
    }
}

/* One (token, head) in ggml's order. */
static LLM_AVX512 void attention_ggml(const attention_job *job, uint32_t index, uint32_t worker) {
    const px_model *m = job->m;
    const llm_batch *b = job->b;
    const llm_hparams *hp = &m->hp;
    const uint32_t t = b->n_tokens - 1 - index / hp->n_head, h = index % hp->n_head;
    head_view v = {m, b, b->items[b->item[t]], job->il, h / (hp->n_head / hp->n_head_kv), hp->head_dim, 0, b->pos[t]};
    if (m->layers[job->il].sliding && hp->sliding_window > 0 && v.last + 1 > hp->sliding_window) v.first = v.last + 1 - hp->sliding_window;
    /* tinyBLAS serves a batch when its shapes allow (k % 16, rows % 4); otherwise ggml falls back to vec_dot */
    const int batch_qk = b->n_tokens >= 2 && v.hd % 16 == 0, batch_pv = b->n_tokens >= 2 && v.hd % 4 == 0;
    uint16_t q[1024];
    llm_f32_to_f16_row(q, job->q + ((uint64_t)t * hp->n_head + h) * v.hd, v.hd);
    float *scores = m->s.scores + (uint64_t)worker * m->s.scores_row;
    head_softmax(&v, head_scores(&v, q, batch_qk, job->score_scale, scores), scores);
    head_weighted_sum(&v, scores, batch_pv ? 16 : 64, m->s.slots + (uint64_t)worker * m->s.slots_per_worker,
                      job->out + ((uint64_t)t * hp->n_head + h) * v.hd);
}

/* The heads of one KV group at once, for a batch (tinyBLAS's orders; head_scores, head_softmax and
 * head_weighted_sum for each head give the same bits): the group's heads share every K and V row, so each row is
 * converted from f16 once for all of them. Up to GROUP_MAX_DIM floats of q per group. */
#define GROUP_MAX_DIM 4096

/* scores_h[p] = q_h . K[p] * scale for the heads h < n of the group: four keys by four heads per step, one 16-lane
 * chain per dot (q_h: f32 holding f16 values, qh16: the same as f16, for the odd keys). Returns nothing; the
 * caller takes each head's max. */
static LLM_AVX512 void group_scores(const head_view *v, const float *qf, const uint16_t *qh16, uint32_t n, float scale,
                                    float *scores, uint64_t scores_row) {
    const uint32_t hd = v->hd;
    for (uint32_t h = 0; h < n; h++) {
        float *s = scores + h * scores_row;
        for (uint32_t p = v->first / 16 * 16; p < v->first; p++) s[p] = -INFINITY;
        for (uint32_t p = v->last + 1; p < (v->last + 16) / 16 * 16; p++) s[p] = -INFINITY;
    }
    uint32_t p = v->first;
    for (; p + 4 <= v->last + 1; p += 4) {
        const uint16_t *k[4] = {head_row(v, 0, p), head_row(v, 0, p + 1), head_row(v, 0, p + 2), head_row(v, 0, p + 3)};
        uint32_t h = 0;
        for (; h + 4 <= n; h += 4) {
            __m512 a[16];
            for (int j = 0; j < 16; j++) a[j] = _mm512_setzero_ps();
            const float *q0 = qf + (uint64_t)h * hd;
            for (uint32_t i = 0; i < hd; i += 16) {
                __m512 kv[4];
                for (int r = 0; r < 4; r++) kv[r] = load_f16(k[r] + i);
                for (int j = 0; j < 4; j++) {
                    const __m512 qv = _mm512_loadu_ps(q0 + (uint64_t)j * hd + i);
                    for (int r = 0; r < 4; r++) a[r * 4 + j] = _mm512_fmadd_ps(kv[r], qv, a[r * 4 + j]);
                }
            }
            for (int r = 0; r < 4; r++)
                for (int j = 0; j < 4; j++) scores[(h + (uint32_t)j) * scores_row + p + (uint32_t)r] = _mm512_reduce_add_ps(a[r * 4 + j]) * scale;
        }
        for (; h < n; h++) {
            float s[4];
            dot4_f16_ggml(k, qh16 + (uint64_t)h * hd, hd, 1, s);
            for (int r = 0; r < 4; r++) scores[h * scores_row + p + (uint32_t)r] = s[r] * scale;
        }
    }
    for (; p <= v->last; p++)
        for (uint32_t h = 0; h < n; h++) scores[h * scores_row + p] = dot_f16_ggml(head_row(v, 0, p), qh16 + (uint64_t)h * hd, hd, 1) * scale;
}

/* out_h = probabilities_h . V for the n heads (lane = cell % 16, as tinyBLAS adds). Lane l's partial sum of an
 * output is the chain over cells l, l + 16, l + 32, ... in order, so each chain runs on its own in registers: four
 * heads by two 16-float chunks, each V chunk converted from f16 once for the four heads. acc: [n][16][hd]. */
static LLM_AVX512 void group_weighted_sum(const head_view *v, const float *probs, uint64_t scores_row, uint32_t n, float *acc,
                                          float *out, uint64_t out_stride) {
    const uint32_t hd = v->hd;
    for (uint32_t l = 0; l < 16; l++) {
        /* the first cell of the chain: the first p >= first with p % 16 == l */
        const uint32_t p0 = v->first + ((l + 16 - v->first % 16) % 16);
        for (uint32_t h0 = 0; h0 < n; h0 += 4) {
            const uint32_t nh = n - h0 < 4 ? n - h0 : 4;
            const float *pr[4];
            for (uint32_t j = 0; j < 4; j++) pr[j] = probs + (uint64_t)(h0 + (j < nh ? j : 0)) * scores_row;
            for (uint32_t i = 0; i < hd; i += 32) {
                const int two = i + 16 < hd;
                __m512 a[4][2];
                for (int j = 0; j < 4; j++) a[j][0] = a[j][1] = _mm512_setzero_ps();
                for (uint32_t p = p0; p <= v->last; p += 16) {
                    const uint16_t *row = head_row(v, 1, p) + i;
                    const __m512 v0 = load_f16(row), v1 = two ? load_f16(row + 16) : _mm512_setzero_ps();
                    for (int j = 0; j < 4; j++) {
                        const __m512 pv = _mm512_set1_ps(pr[j][p]);
                        a[j][0] = _mm512_fmadd_ps(pv, v0, a[j][0]);
                        a[j][1] = _mm512_fmadd_ps(pv, v1, a[j][1]);
                    }
                }
                for (uint32_t j = 0; j < nh; j++) {
                    float *dst = acc + ((uint64_t)(h0 + j) * 16 + l) * hd + i;
                    _mm512_storeu_ps(dst, a[j][0]);
                    if (two) _mm512_storeu_ps(dst + 16, a[j][1]);
                }
            }
        }
    }
    for (uint32_t h = 0; h < n; h++)
        for (uint32_t i = 0; i < hd; i += 16) {
            __m512 x[16];
            for (uint32_t l = 0; l < 16; l++) x[l] = _mm512_loadu_ps(acc + ((uint64_t)h * 16 + l) * hd + i);
            _mm512_storeu_ps(out + h * out_stride + i, reduce16(x));
        }
}

/* One (token, KV group) of a batch in ggml's order. */
static LLM_AVX512 void attention_group_ggml(const attention_job *job, uint32_t index, uint32_t worker) {
    const px_model *m = job->m;
    const llm_batch *b = job->b;
    const llm_hparams *hp = &m->hp;
    const uint32_t G = hp->n_head / hp->n_head_kv;
    const uint32_t t = b->n_tokens - 1 - index / hp->n_head_kv, g = index % hp->n_head_kv;
    head_view v = {m, b, b->items[b->item[t]], job->il, g, hp->head_dim, 0, b->pos[t]};
    if (m->layers[job->il].sliding && hp->sliding_window > 0 && v.last + 1 > hp->sliding_window) v.first = v.last + 1 - hp->sliding_window;
    const uint32_t hd = v.hd;
    uint16_t q16[GROUP_MAX_DIM];
    float qf[GROUP_MAX_DIM];
    const float *qsrc = job->q + ((uint64_t)t * hp->n_head + (uint64_t)g * G) * hd;
    llm_f32_to_f16_row(q16, qsrc, G * hd);
    for (uint32_t i = 0; i < G * hd; i += 16) _mm512_storeu_ps(qf + i, load_f16(q16 + i));
    const uint64_t row = m->s.scores_row;
    float *scores = m->s.scores + (uint64_t)worker * G * row;
    group_scores(&v, qf, q16, G, job->score_scale, scores, row);
    for (uint32_t h = 0; h < G; h++) {
        float *s = scores + h * row, max = -INFINITY;
        for (uint32_t p = v.first; p <= v.last; p++)
            if (s[p] > max) max = s[p];
        head_softmax(&v, max, s);
    }
    group_weighted_sum(&v, scores, row, G, m->s.slots + (uint64_t)worker * m->s.slots_per_worker, job->out + ((uint64_t)t * hp->n_head + (uint64_t)g * G) * hd, hd);
}

static int use_group_order(const px_model *m, const llm_batch *b) {
    const llm_hparams *hp = &m->hp;
    return b->n_tokens >= 2 && (uint64_t)(hp->n_head / hp->n_head_kv) * hp->head_dim <= GROUP_MAX_DIM;
}

static int use_ggml_order(const px_model *m) {
    static int cached = -1;
    if (cached < 0)
        cached = llm_has_avx512();
    return cached && m->hp.head_dim % 16 == 0 && m->hp.head_dim <= 1024;
}
#else
static int use_ggml_order(const px_model *m) {
    (void)m;
    return 0;
}
static int use_group_order(const px_model *m, const llm_batch *b) {
    (void)m, (void)b;
    return 0;
}
static void attention_group_ggml(const attention_job *job, uint32_t index, uint32_t worker) {
    (void)job, (void)index, (void)worker;
}
static void attention_ggml(const attention_job *job, uint32_t index, uint32_t worker) {
    (void)job, (void)index, (void)worker;
}
#endif

/* [worker] One (token, head): softmax(q . K) . V over the positions the token may see. */
static void attention_task(void *context, uint32_t index, uint32_t worker) {
    const attention_job *job = context;
    if (use_ggml_order(job->m))
        attention_ggml(job, index, worker);
    else
        attention_portable(job, index, worker);
}

/* [worker] One (token, KV group) of a batch: every head of the group. */
static void attention_group_task(void *context, uint32_t index, uint32_t worker) {
    attention_group_ggml(context, index, worker);
}

px_status llm_attention(px_model *m, px_stream *stream, const llm_batch *b, uint32_t il, const float *q, float *out) {
    attention_job job = {m, b, il, q, out, m->hp.scale_q ? 1.0f : m->hp.attn_scale};
    if (use_ggml_order(m) && use_group_order(m, b))
        return m->host->parallel_for(m->host, stream, b->n_tokens * m->hp.n_head_kv, attention_group_task, &job);
    return m->host->parallel_for(m->host, stream, b->n_tokens * m->hp.n_head, attention_task, &job);
}
