#include "sampler_select.h"

#include <math.h>

/* ---------------------------------------------------------------------------------------------------------------
 * Maximum
 * ------------------------------------------------------------------------------------------------------------- */

enum { MAX_BLOCK = 1024 };

/* A signed integer with the order of floats (-0 and +0 share one). */
static inline int32_t signed_key(float v) {
    const uint32_t b = llm_bits(v + 0.0f);
    return (int32_t)(b ^ ((uint32_t)((int32_t)b >> 31) >> 1));
}

static inline float float_of_signed_key(int32_t k) {
    return llm_float(k < 0 ? (uint32_t)k ^ 0x7fffffffu : (uint32_t)k);
}

/* Block by block, so that the inner loop vectorizes and the argmax needs one block's scan only. */
float llm_row_max(const float *row, uint32_t n, int32_t *argmax, int *bad) {
    int32_t best = INT32_MIN;
    uint32_t best_lo = 0, n_bad = 0;
    for (uint32_t lo = 0; lo < n; lo += MAX_BLOCK) {
        const uint32_t hi = n - lo < MAX_BLOCK ? n : lo + MAX_BLOCK;
        int32_t m = INT32_MIN;
        for (uint32_t i = lo; i < hi; i++) {
            const uint32_t b = llm_bits(row[i]);
            const int32_t k = signed_key(row[i]);
            m = k > m ? k : m;
            n_bad += ((b & 0x7fffffffu) >= 0x7f800000u) & (b != 0xff800000u); /* NaN or +inf */
        }
        if (m > best) best = m, best_lo = lo;
    }
    const float max = float_of_signed_key(best);
    uint32_t i = best_lo;
    while (i + 1 < n && row[i] != max) i++;
    *argmax = (int32_t)i;
    *bad = n_bad != 0;
    return max;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Sorted lists: top k by a bounded heap, and the nucleus by a weight histogram
 * ------------------------------------------------------------------------------------------------------------- */

/* True when a comes after b in the token order. */
static int comes_after(const llm_candidate *a, const llm_candidate *b) {
    return a->value < b->value || (a->value == b->value && a->id > b->id);
}

/* Restores the heap below slot i of h [n], whose root is the candidate that comes last in the token order. */
static void sift_down(llm_candidate *h, uint32_t n, uint32_t i) {
    llm_candidate x = h[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && comes_after(&h[c + 1], &h[c])) c++;
        if (!comes_after(&h[c], &x)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

/* Heap sort of a heap h [n]: moving the last-in-order root to the end leaves the array most likely first. */
static void sort_heap(llm_candidate *h, uint32_t n) {
    for (uint32_t end = n; end > 1; end--) {
        llm_candidate t = h[0];
        h[0] = h[end - 1];
        h[end - 1] = t;
        sift_down(h, end - 1, 0);
    }
}

static void sort_list(llm_candidate *h, uint32_t n) {
    for (uint32_t i = n / 2; i-- > 0;) sift_down(h, n, i);
    sort_heap(h, n);
}

enum { FILTER = 16 };

/* Nonzero when one of x [FILTER] has a key above `key`: one vector compare per 4 tokens. */
static inline uint32_t any_above(const float *x, uint32_t key) {
    uint32_t any = 0;
    for (int j = 0; j < FILTER; j++) any |= (uint32_t)(llm_order_key(x[j]) > key);
    return any;
}

uint32_t llm_select_top(const float *row, uint32_t n, uint32_t k, llm_candidate *out) {
    if (k > n) k = n;
    if (k == 0) return 0;
    for (uint32_t i = 0; i < k; i++) out[i] = (llm_candidate){row[i], (int32_t)i, 0.0f};
    for (uint32_t i = k / 2; i-- > 0;) sift_down(out, k, i);
    /* Ids grow along the scan, so a later token equal to the heap's last one comes after it: strict > is exact. */
    float floor = out[0].value;
    uint32_t floor_key = llm_order_key(floor);
    for (uint32_t lo = k; lo < n; lo += FILTER) {
        const uint32_t hi = n - lo < FILTER ? n : lo + FILTER;
        if (hi - lo == FILTER && !any_above(row + lo, floor_key)) continue;
        for (uint32_t i = lo; i < hi; i++) {
            if (row[i] > floor) {
                out[0] = (llm_candidate){row[i], (int32_t)i, 0.0f};
                sift_down(out, k, 0);
                floor = out[0].value;
                floor_key = llm_order_key(floor);
            }
        }
    }
    sort_heap(out, k);
    return k;
}

/* The nucleus histogram: NUCLEUS_BINS bins of a quarter octave of weight each, from 1 down to about 2^-16 (bin 0
 * holds w = 1), and one tail bin for everything lighter. Light tokens, the bulk of a row, only add to the tail's mass,
 * in a vectorized loop; only the heavy ones are scattered into the per-lane bins. */
enum { NUCLEUS_BINS = 64, NUCLEUS_TAIL = NUCLEUS_BINS, NUCLEUS_LANES = 8, CHUNK = LLM_CHUNK };
#define HEAVY_BITS (((0x3f800000u >> 21) - (NUCLEUS_BINS - 1u)) << 21) /* lower edge of the last tracked bin */

static inline uint32_t weight_bin(float w) {
    const int32_t d = (int32_t)(0x3f800000u >> 21) - (int32_t)(llm_bits(w) >> 21);
    return d <= 0 ? 0u : d >= NUCLEUS_TAIL ? NUCLEUS_TAIL : (uint32_t)d;
}

void llm_weights(const float *row, uint32_t len, float m, float inv_t, float *w) {
    for (uint32_t j = 0; j < len; j++) w[j] = llm_weight(row[j], m, inv_t);
}

double llm_sum(const float *w, uint32_t len) {
    double lane[8] = {0};
    uint32_t j = 0;
    for (; j + 8 <= len; j += 8) {
        for (int k = 0; k < 8; k++) lane[k] += w[j + k];
    }
    double acc = 0.0;
    for (; j < len; j++) acc += w[j];
    for (int k = 0; k < 8; k++) acc += lane[k];
    return acc;
}

/* Adds the weights of row [n] to bin_mass / bin_count [NUCLEUS_BINS + 1]. */
static void nucleus_histogram(const float *row, uint32_t n, float m, float inv_t, double *bin_mass,
                              uint64_t *bin_count) {
    double lane_mass[NUCLEUS_LANES][NUCLEUS_BINS] = {{0}};
    uint32_t lane_count[NUCLEUS_LANES][NUCLEUS_BINS] = {{0}};
    float w[CHUNK], light[CHUNK];
    double tail = 0.0;
    uint64_t heavy_total = 0;
    for (uint32_t lo = 0; lo < n; lo += CHUNK) {
        const uint32_t len = n - lo < CHUNK ? n - lo : CHUNK;
        llm_weights(row + lo, len, m, inv_t, w);
        uint32_t heavy = 0;
        for (uint32_t j = 0; j < len; j++) {
            const uint32_t wb = llm_bits(w[j]), is_heavy = (uint32_t)(wb >= HEAVY_BITS);
            light[j] = llm_float(wb & (is_heavy - 1u));
            heavy += is_heavy;
        }
        tail += llm_sum(light, len);
        heavy_total += heavy;
        for (uint32_t j = 0; heavy > 0 && j < len; j++) { /* lanes: neighbours in one bin do not wait on each other */
            if (llm_bits(w[j]) < HEAVY_BITS) continue;
            const uint32_t b = weight_bin(w[j]);
            lane_mass[j % NUCLEUS_LANES][b] += w[j];
            lane_count[j % NUCLEUS_LANES][b]++;
            heavy--;
        }
    }
    for (uint32_t b = 0; b < NUCLEUS_BINS; b++) {
        bin_mass[b] = 0.0;
        bin_count[b] = 0;
        for (uint32_t l = 0; l < NUCLEUS_LANES; l++) bin_mass[b] += lane_mass[l][b], bin_count[b] += lane_count[l][b];
    }
    bin_mass[NUCLEUS_TAIL] = tail;
    bin_count[NUCLEUS_TAIL] = n - heavy_total;
}

uint32_t llm_select_nucleus(const float *row, uint32_t n, float m, float inv_t, float p, float min_p, uint32_t cap,
                            llm_candidate *out, double *mass) {
    double bin_mass[NUCLEUS_BINS + 1], total = 0.0;
    uint64_t bin_count[NUCLEUS_BINS + 1];
    nucleus_histogram(row, n, m, inv_t, bin_mass, bin_count);
    for (uint32_t b = 0; b <= NUCLEUS_TAIL; b++) total += bin_mass[b];
    *mass = total;
    /* The last bin the truncations can reach: where the top-p sum crosses p, or where weights fall below min_p. */
    uint32_t last = NUCLEUS_TAIL;
    if (p < 1.0f) {
        const double target = (double)p * total;
        double acc = 0.0;
        for (uint32_t b = 0; b < NUCLEUS_TAIL; b++) {
            acc += bin_mass[b];
            if (acc >= target) {
                last = b;
                break;
            }
        }
    }
    if (min_p > 0.0f && weight_bin(min_p) < last) last = weight_bin(min_p);
    uint64_t count = 0;
    for (uint32_t b = 0; b <= last; b++) count += bin_count[b];
    if (count > cap) return UINT32_MAX;
    /* Collect them: a logit a little below the bin's lower edge filters (vectorized), the weight decides. */
    uint32_t floor_key = 0;
    if (last < NUCLEUS_TAIL) {
        const double edge = log((double)llm_float(((0x3f800000u >> 21) - last) << 21)) / (double)inv_t;
        floor_key = llm_order_key((float)((double)m + edge - 1e-3 * (1.0 + fabs(edge)) - 1e-6 * fabs((double)m)));
    }
    uint32_t c = 0;
    for (uint32_t lo = 0; lo < n && c < count; lo += FILTER) {
        const uint32_t hi = n - lo < FILTER ? n : lo + FILTER;
        if (hi - lo == FILTER && !any_above(row + lo, floor_key)) continue;
        for (uint32_t i = lo; i < hi; i++) {
            const float wi = llm_weight(row[i], m, inv_t);
            if (weight_bin(wi) <= last && c < cap) out[c++] = (llm_candidate){row[i], (int32_t)i, wi};
        }
    }
    sort_list(out, c);
    return c;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Radix select
 *
 * The key of a logit (llm_order_key) is read in three digits, 11 + 11 + 10 bits, most significant first. Each level
 * makes one pass over the row, histograms the next digit of the tokens whose key starts with the digits chosen so
 * far (and that lie inside `within`), and walks the bins from the top, adding each bin's quantity (tokens, or
 * probability mass) to what lies above until the goal is reached: that bin is the next digit. After three levels
 * the digits are the key of the last token of the prefix; what remains is how many tokens with exactly that key
 * (equal logits, taken lowest id first) the prefix needs.
 * ------------------------------------------------------------------------------------------------------------- */

enum { RADIX_LEVELS = 3, RADIX_MAX_BINS = 1u << 11, RADIX_SPARE = 8 };
static const unsigned radix_shift[RADIX_LEVELS] = {21, 10, 0};
static const unsigned radix_bits[RADIX_LEVELS] = {11, 11, 10};

typedef struct radix_goal {
    llm_cut within; /* tokens outside are ignored */
    int by_mass;    /* 0: quantity = tokens; 1: quantity = llm_weight(logit, m, inv_t) */
    float m, inv_t;
} radix_goal;

static float float_of_key(uint32_t key) { return llm_float((key & 0x80000000u) ? (key & 0x7fffffffu) : ~key); }

/* Histograms digit `level` of the tokens inside g->within whose higher digits are `prefix`. A chunk at a time:
 * keys, the match test and (by mass) the weights vectorize; the scatter is branch-free, sending tokens that do not
 * match to one of RADIX_SPARE spare bins after the real ones (several, so that they do not wait on each other). */
static void radix_histogram(const float *row, uint32_t n, const radix_goal *g, unsigned level, uint32_t prefix,
                            uint32_t *count, double *mass) {
    const unsigned shift = radix_shift[level], above = shift + radix_bits[level];
    const uint32_t mask = (1u << radix_bits[level]) - 1u, spare = RADIX_MAX_BINS;
    const uint32_t high_mask = above < 32 ? ~0u << above : 0u, high = above < 32 ? prefix << above : 0u;
    uint32_t bin[CHUNK];
    float w[CHUNK];
    for (uint32_t lo = 0; lo < n; lo += CHUNK) {
        const uint32_t len = n - lo < CHUNK ? n - lo : CHUNK;
        uint32_t hits = 0;
        for (uint32_t j = 0; j < len; j++) {
            const uint32_t key = llm_order_key(row[lo + j]);
            const uint32_t hit = (uint32_t)llm_in_cut(key, (int32_t)(lo + j), g->within) & ((key & high_mask) == high);
            bin[j] = hit ? (key >> shift) & mask : spare + (j & (RADIX_SPARE - 1));
            hits += hit;
        }
        if (hits == 0) continue;
        if (!g->by_mass) {
            for (uint32_t j = 0; j < len; j++) count[bin[j]]++;
        } else if (hits * 8 < len) { /* few hits (deeper levels): weigh just those */
            for (uint32_t j = 0; j < len; j++) {
                if (bin[j] < spare) count[bin[j]]++, mass[bin[j]] += llm_weight(row[lo + j], g->m, g->inv_t);
            }
        } else {
            llm_weights(row + lo, len, g->m, g->inv_t, w);
            for (uint32_t j = 0; j < len; j++) count[bin[j]]++, mass[bin[j]] += w[j];
        }
    }
}

/* The id of the r-th token (r >= 1, by id) with key `key` inside within. */
static int32_t nth_tie(const float *row, uint32_t n, llm_cut within, uint32_t key, uint32_t r) {
    uint32_t seen = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (llm_order_key(row[i]) == key && llm_in_cut(key, (int32_t)i, within) && ++seen == r) return (int32_t)i;
    }
    return within.last_id; /* unreachable: r never exceeds the ties counted by the histogram */
}

/* Walks bins [bins] from the top, adding each one's quantity to *above while the goal stays out of reach; returns
 * the bin that reaches it (the lowest non-empty one when rounding leaves the goal just out of reach: the whole range
 * is needed then). */
static uint32_t crossing_bin(const uint32_t *count, const double *mass, uint32_t bins, int by_mass, double target,
                             double *above) {
    uint32_t lowest = 0;
    for (uint32_t b = bins; b-- > 0;) {
        if (count[b] == 0) continue;
        const double q = by_mass ? mass[b] : (double)count[b];
        if (*above + q >= target) return b;
        *above += q;
        lowest = b;
    }
    *above -= by_mass ? mass[lowest] : (double)count[lowest];
    return lowest;
}

/* How many of the `ties` tokens with the prefix's key (lowest id first) the goal needs, given what lies above. */
static uint32_t ties_needed(const radix_goal *g, uint32_t key, uint32_t ties, double above, double target) {
    if (!g->by_mass) {
        const double need = target - above;
        return need >= (double)ties ? ties : need < 1.0 ? 1u : (uint32_t)need;
    }
    const float w = llm_weight(float_of_key(key), g->m, g->inv_t);
    uint32_t r = 0;
    while (r < ties) {
        r++;
        above += w;
        if (above >= target) break;
    }
    return r;
}

/* The shortest prefix of g->within whose quantity reaches `target`; fraction > 0 makes the target that fraction
 * of the total quantity of within (known after the first pass). */
static llm_cut radix_cut(const float *row, uint32_t n, const radix_goal *g, double target, double fraction) {
    uint32_t count[RADIX_MAX_BINS + RADIX_SPARE];
    double mass[RADIX_MAX_BINS + RADIX_SPARE];
    double above = 0.0; /* quantity of the tokens whose key lies above the current range */
    uint32_t prefix = 0, ties = 0;
    for (unsigned level = 0; level < RADIX_LEVELS; level++) {
        const uint32_t bins = 1u << radix_bits[level];
        memset(count, 0, sizeof count);
        memset(mass, 0, sizeof mass);
        radix_histogram(row, n, g, level, prefix, count, mass);
        if (level == 0 && fraction > 0.0) {
            double total = 0.0;
            for (uint32_t b = 0; b < bins; b++) total += mass[b];
            target = fraction * total;
        }
        const uint32_t b = crossing_bin(count, mass, bins, g->by_mass, target, &above);
        prefix = (prefix << radix_bits[level]) | b;
        ties = count[b];
    }
    /* prefix is now a whole key: the prefix of the order ends among the tokens holding it. */
    const uint32_t r = ties_needed(g, prefix, ties, above, target);
    if (r == ties) return (llm_cut){prefix, prefix == g->within.key ? g->within.last_id : INT32_MAX};
    return (llm_cut){prefix, nth_tie(row, n, g->within, prefix, r)};
}

llm_cut llm_cut_by_count(const float *row, uint32_t n, uint32_t k) {
    radix_goal g = {LLM_CUT_ALL, 0, 0.0f, 1.0f};
    return radix_cut(row, n, &g, (double)k, 0.0);
}

llm_cut llm_cut_by_mass(const float *row, uint32_t n, llm_cut within, float m, float inv_t, double p) {
    radix_goal g = {within, 1, m, inv_t};
    return radix_cut(row, n, &g, 0.0, p);
}
