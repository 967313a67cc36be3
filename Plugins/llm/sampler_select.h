/*
 * sampler_select.h — kernels over one logits row [n] f32 for the sampler: the maximum, weights (exp), and the
 * partial selections behind top-k, top-p and min-p.
 *
 * Every truncation of the chain keeps a prefix of one total order, the token order: a before b when logit a > logit b,
 * or the logits are equal and a < b. Three ways to find such a prefix:
 *  - llm_select_top: the first k tokens of the order, as a sorted list (a bounded heap behind a vectorized filter
 *    against the heap's smallest value: about one compare per token). For small k.
 *  - llm_select_nucleus: every token a top-p and/or min-p truncation can keep, as a sorted list, found with a
 *    histogram of weights by octave quarters; gives up when they are more than the list holds.
 *  - llm_cut_by_count / llm_cut_by_mass: a radix select over the logits' bits (3 passes of 11, 11 and 10 bits) that
 *    describes the prefix as a cut, with no memory beyond a stack histogram, however large the prefix.
 *
 * The hot loops are written to vectorize under plain -O2/-O3 (no -ffast-math, and -ftrapping-math, the default):
 * selects on floats are done on their bits, because GCC keeps float compares as branches under trapping math.
 * Rows hold no NaN and no +inf here: the sampler maps NaN to -inf and +inf to FLT_MAX first.
 */
#ifndef PLEXUS_LLM_SAMPLER_SELECT_H
#define PLEXUS_LLM_SAMPLER_SELECT_H

#include <stdint.h>
#include <string.h>

/** One token of a selection: its logit, its id and a weight the caller may fill. */
typedef struct llm_candidate {
    float value;  /**< logit */
    int32_t id;   /**< token id */
    float weight; /**< unnormalized probability, filled by the caller */
} llm_candidate;

/** A prefix of the token order: every token whose key is above `key`, plus the tokens whose key equals `key` and
 *  whose id is at most `last_id` (ties at the edge of a prefix are taken lowest id first). */
typedef struct llm_cut {
    uint32_t key;
    int32_t last_id;
} llm_cut;

/** The cut that holds every token. */
#define LLM_CUT_ALL ((llm_cut){0u, INT32_MAX})

static inline uint32_t llm_bits(float v) {
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static inline float llm_float(uint32_t b) {
    float v;
    memcpy(&v, &b, sizeof v);
    return v;
}

/** Maps a float to an unsigned key with the same order (-0 and +0 share one key; -inf is key 0x007fffff). */
static inline uint32_t llm_order_key(float v) {
    const uint32_t b = llm_bits(v + 0.0f); /* -0 -> +0 */
    return b ^ ((uint32_t)((int32_t)b >> 31) | 0x80000000u);
}

/** True when token id with key `key` lies inside cut c. */
static inline int llm_in_cut(uint32_t key, int32_t id, llm_cut c) {
    return (key > c.key) | ((key == c.key) & (id <= c.last_id));
}

/** e^x for x <= 0 (and -inf), flushed to 0 below -87 (e^-87 ~ 1.6e-38, where floats turn subnormal). Cephes'
 *  expf polynomial after a round-to-nearest reduction by ln 2: relative error at most 8.3e-8 (under 2^-23) over
 *  (-87, 0], as a sweep of every float there showed (the tests sweep every 61st). Branch-free with selects on bits,
 *  so that loops over it vectorize; the plugin's own, so weights do not depend on the libm version. */
static inline float llm_exp(float x) {
    const uint32_t xb = llm_bits(x);
    const uint32_t live = 0u - (uint32_t)(xb < 0xc2ae0000u); /* all ones when -87 < x (x <= 0, or small x > 0) */
    const float xc = llm_float((xb & live) | (0xc2ae0000u & ~live));
    const float t = xc * 1.44269504088896341f;
    const float n = (t + 12582912.0f) - 12582912.0f; /* round to nearest: 1.5 * 2^23 */
    const float r = (xc - n * 0.693359375f) + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float e = p * r * r + r + 1.0f;
    const float y = e * llm_float((uint32_t)((int32_t)n + 127) << 23);
    return llm_float(llm_bits(y) & live);
}

/** The unnormalized probability of logit v at temperature 1 / inv_t, relative to the row's max m (so the most
 *  likely token weighs exactly 1). Every weight of the sampler goes through here, so that all paths agree. */
static inline float llm_weight(float v, float m, float inv_t) {
    return llm_exp((v - m) * inv_t);
}

/** Tokens per chunk of the weight loops: weights are computed a chunk at a time into a stack array, so that the
 *  exp loop vectorizes apart from what consumes it. */
#define LLM_CHUNK 256u

/** w[j] = llm_weight(row[j], m, inv_t) for j < len. Vectorized. */
void llm_weights(const float *row, uint32_t len, float m, float inv_t, float *w);

/** Sum of w [len] in double, in eight interleaved lanes (a fixed order: the same inputs give the same sum). */
double llm_sum(const float *w, uint32_t len);

/** The maximum of row [n] and the lowest id holding it; *bad is set when the row holds NaN or +inf (then the
 *  results are meaningless: sanitize and call again). */
float llm_row_max(const float *row, uint32_t n, int32_t *argmax, int *bad);

/** Writes the first min(k, n) tokens of the token order of row [n] to out [k], sorted (out[0] is the most likely).
 *  Returns how many it wrote. weight is left 0. */
uint32_t llm_select_top(const float *row, uint32_t n, uint32_t k, llm_candidate *out);

/** Writes to out [cap], sorted, a prefix of the token order that holds every token a top-p (p < 1, over the whole
 *  row) and min-p (min_p > 0) truncation at temperature 1 / inv_t can keep, and sets *mass to the weight of the
 *  whole row. Returns how many it wrote, or UINT32_MAX when they would be more than cap. */
uint32_t llm_select_nucleus(const float *row, uint32_t n, float m, float inv_t, float p, float min_p, uint32_t cap,
                            llm_candidate *out, double *mass);

/** The prefix of the token order that holds the first k tokens (1 <= k < n). */
llm_cut llm_cut_by_count(const float *row, uint32_t n, uint32_t k);

/** The shortest prefix of the tokens inside `within` whose mass (llm_weight with m, inv_t) reaches p times the
 *  mass of `within` (0 < p < 1): top-p. within must hold the row's maximum. */
llm_cut llm_cut_by_mass(const float *row, uint32_t n, llm_cut within, float m, float inv_t, double p);

#endif
