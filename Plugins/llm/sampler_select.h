/*
 * sampler_select.h — partial selection over one logits row [n] f32, for the sampler's truncations.
 *
 * Every truncation of the chain (top-k, top-p, min-p) keeps a prefix of one total order, the token order: a before
 * b when logit a > logit b, or the logits are equal and a < b. Two ways to find such a prefix:
 *  - llm_select_top: the first k tokens of the order, as a sorted list (a bounded heap: one pass, O(n log k) worst
 *    case, about one compare per token once the heap holds good values). For small k.
 *  - llm_cut_by_count / llm_cut_by_mass: a radix select over the logits' bits (3 passes of 11, 11 and 10 bits),
 *    which finds the prefix that holds k tokens, or the shortest prefix whose probability mass reaches a target,
 *    and describes it as a cut. No memory beyond a histogram on the stack, whatever the prefix's size.
 * Rows hold no NaN here: the sampler maps NaN to -inf first.
 */
#ifndef PLEXUS_LLM_SAMPLER_SELECT_H
#define PLEXUS_LLM_SAMPLER_SELECT_H

#include <math.h>
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

/** Maps a float to an unsigned key with the same order (-0 and +0 share one key; -inf is key 0x007fffff). */
static inline uint32_t llm_order_key(float v) {
    uint32_t bits;
    v += 0.0f; /* -0 -> +0 */
    memcpy(&bits, &v, sizeof bits);
    return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

/** True when token id with key `key` lies inside cut c. */
static inline int llm_in_cut(uint32_t key, int32_t id, llm_cut c) {
    return key > c.key || (key == c.key && id <= c.last_id);
}

/** The unnormalized probability of logit v at temperature 1 / inv_t, relative to the row's max m (so the most
 *  likely token weighs exactly 1). Every weight of the sampler goes through here, so that all paths agree. */
static inline float llm_weight(float v, float m, float inv_t) {
    return expf((v - m) * inv_t);
}

/** Writes the first min(k, n) tokens of the token order of row [n] to out [k], sorted (out[0] is the most likely).
 *  Returns how many it wrote. weight is left 0. */
uint32_t llm_select_top(const float *row, uint32_t n, uint32_t k, llm_candidate *out);

/** The prefix of the token order that holds the first k tokens (1 <= k < n). */
llm_cut llm_cut_by_count(const float *row, uint32_t n, uint32_t k);

/** The shortest prefix of the tokens inside `within` whose mass (llm_weight with m, inv_t) reaches p times the
 *  mass of `within` (0 < p < 1): top-p. within must hold the row's maximum. */
llm_cut llm_cut_by_mass(const float *row, uint32_t n, llm_cut within, float m, float inv_t, double p);

#endif
