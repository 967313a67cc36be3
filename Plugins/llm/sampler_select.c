#include "sampler_select.h"

/* ---------------------------------------------------------------------------------------------------------------
 * Top k by a bounded heap
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

uint32_t llm_select_top(const float *row, uint32_t n, uint32_t k, llm_candidate *out) {
    if (k > n) k = n;
    if (k == 0) return 0;
    for (uint32_t i = 0; i < k; i++) out[i] = (llm_candidate){row[i], (int32_t)i, 0.0f};
    for (uint32_t i = k / 2; i-- > 0;) sift_down(out, k, i);
    /* Ids grow along the scan, so a later token equal to the heap's last one comes after it: strict > is exact. */
    float floor = out[0].value;
    for (uint32_t i = k; i < n; i++) {
        if (row[i] > floor) {
            out[0] = (llm_candidate){row[i], (int32_t)i, 0.0f};
            sift_down(out, k, 0);
            floor = out[0].value;
        }
    }
    /* Heap sort: moving the last-in-order root to the end leaves the array most likely first. */
    for (uint32_t end = k; end > 1; end--) {
        llm_candidate t = out[0];
        out[0] = out[end - 1];
        out[end - 1] = t;
        sift_down(out, end - 1, 0);
    }
    return k;
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

enum { RADIX_LEVELS = 3, RADIX_MAX_BINS = 1u << 11 };
static const unsigned radix_shift[RADIX_LEVELS] = {21, 10, 0};
static const unsigned radix_bits[RADIX_LEVELS] = {11, 11, 10};

typedef struct radix_goal {
    llm_cut within; /* tokens outside are ignored */
    int by_mass;    /* 0: quantity = tokens; 1: quantity = llm_weight(logit, m, inv_t) */
    float m, inv_t;
} radix_goal;

static float float_of_key(uint32_t key) {
    uint32_t bits = (key & 0x80000000u) ? (key & 0x7fffffffu) : ~key;
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* Histograms digit `level` of the tokens inside g->within whose higher digits are `prefix`. */
static void radix_histogram(const float *row, uint32_t n, const radix_goal *g, unsigned level, uint32_t prefix,
                            uint32_t *count, double *mass) {
    const unsigned shift = radix_shift[level], above = shift + radix_bits[level];
    const uint32_t mask = (1u << radix_bits[level]) - 1u;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t key = llm_order_key(row[i]);
        if (!llm_in_cut(key, (int32_t)i, g->within)) continue;
        if (above < 32 && (key >> above) != prefix) continue;
        uint32_t bin = (key >> shift) & mask;
        count[bin]++;
        if (g->by_mass) mass[bin] += llm_weight(row[i], g->m, g->inv_t);
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

/* The shortest prefix of g->within whose quantity reaches `target`; fraction > 0 makes the target that fraction
 * of the total quantity of within (known after the first pass). */
static llm_cut radix_cut(const float *row, uint32_t n, const radix_goal *g, double target, double fraction) {
    uint32_t count[RADIX_MAX_BINS];
    double mass[RADIX_MAX_BINS];
    double above = 0.0; /* quantity of the tokens whose key lies above the current range */
    uint32_t prefix = 0, ties = 0;
    for (unsigned level = 0; level < RADIX_LEVELS; level++) {
        const uint32_t bins = 1u << radix_bits[level];
        memset(count, 0, bins * sizeof count[0]);
        memset(mass, 0, bins * sizeof mass[0]);
        radix_histogram(row, n, g, level, prefix, count, mass);
        if (level == 0 && fraction > 0.0) {
            double total = 0.0;
            for (uint32_t b = 0; b < bins; b++) total += mass[b];
            target = fraction * total;
        }
        int64_t chosen = -1, lowest = -1;
        for (int64_t b = (int64_t)bins - 1; b >= 0; b--) {
            if (count[b] == 0) continue;
            double q = g->by_mass ? mass[b] : (double)count[b];
            lowest = b;
            if (above + q >= target) {
                chosen = b;
                break;
            }
            above += q;
        }
        if (chosen < 0) { /* rounding left the goal just out of reach: the whole range is needed */
            chosen = lowest;
            above -= g->by_mass ? mass[lowest] : (double)count[lowest];
        }
        prefix = (prefix << radix_bits[level]) | (uint32_t)chosen;
        ties = count[chosen];
    }
    /* prefix is now a whole key; take its ties, lowest id first, until the goal is reached. */
    uint32_t r = 0;
    if (g->by_mass) {
        const float w = llm_weight(float_of_key(prefix), g->m, g->inv_t);
        double acc = above;
        while (r < ties) {
            r++;
            acc += w;
            if (acc >= target) break;
        }
    } else {
        double need = target - above;
        r = need >= (double)ties ? ties : (uint32_t)need;
        if (r == 0) r = 1;
    }
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
