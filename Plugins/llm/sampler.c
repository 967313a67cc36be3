/*
 * sampler.c — the LLM plugin's token sampler (Specs/sampling.md is the contract; sampler.h the API).
 *
 * Order of the chain, on one logits row:
 *   1. allowed mask (disallowed -> -inf), then NaN -> -inf and +inf -> FLT_MAX
 *   2. penalties: repetition over prompt + output tokens (logit > 0 ? logit / r : logit * r), then frequency and
 *      presence over output tokens (logit -= count * f + (count > 0) * p); order and formulas as vLLM and llama.cpp
 *   3. logprobs: log-softmax of this row (before temperature and truncation)
 *   4. temperature < 1e-5: argmax, ties to the lowest id (vLLM treats temperatures below 1e-5 as greedy too)
 *   5. else temperature, top-k, top-p, min-p, draw. Temperature comes first, as in vLLM and HF transformers (and the
 *      ABI's recommended order): the truncations see the tempered distribution. llama.cpp's common chain applies
 *      temperature last; we do not. Among the truncations we follow llama.cpp's order top-k -> top-p -> min-p
 *      (vLLM applies min-p before top-k/top-p; the results differ when top-p and min-p are both set).
 *
 * Every truncation keeps a prefix of the token order (sampler_select.h). Two routes to the kept set, which give the
 * same distribution (the tests run every golden case through both):
 *   A. a sorted candidate list (at most LLM_SAMPLER_CANDIDATES): the top_k best from a bounded heap when
 *      top_k <= 1024, or, without top_k, every token top-p / min-p can keep (llm_select_nucleus); top-p and min-p
 *      shorten the list; the draw walks it. The common case, and the fast one.
 *   B. otherwise (no truncation, top_k > 1024, or a nucleus wider than the list): radix selects describe top-k and
 *      top-p as a cut of the order; one pass weighs the kept tokens per block of the row; the draw picks a block by
 *      its mass, then a token inside it.
 * Neither route allocates or needs memory that grows with n_vocab. The row is only written by steps 1 and 2; the
 * weights of later steps are recomputed, never stored in it, so the logprobs can be read after the draw.
 */
#include "sampler.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sampler_select.h"

/** Temperatures below this are greedy (vLLM's _SAMPLING_EPS). */
#define GREEDY_TEMPERATURE 1e-5f
/** Blocks of the row in route B: the draw recomputes one block's weights (n_vocab / 256 of them). */
#define DRAW_BLOCKS 256u

/** One token of the penalty history (open addressing; token -1 marks an empty slot). A slot exists for every token
 *  of the prompt (when the repetition penalty is on) and of the output, so the repetition penalty applies to every
 *  slot, and frequency and presence to the slots with output_count > 0. */
typedef struct history_slot {
    int32_t token;
    uint32_t output_count; /* times sampled */
} history_slot;

struct llm_sampler {
    int32_t n_vocab;
    int greedy;
    float inv_t;               /* 1 / temperature */
    uint32_t top_k;            /* 0 = off (also when >= n_vocab) */
    float top_p, min_p;        /* 1 and 0 = off */
    float repetition, frequency, presence;
    int track_prompt;          /* repetition penalty on: the prompt matters */
    int track_output;          /* any penalty on */
    int want_logprobs;
    uint32_t n_top;
    uint64_t rng[4];           /* xoshiro256** state */
    int32_t *stop;             /* [n_stop] sorted */
    uint32_t n_stop;
    history_slot *history;     /* [history_cap], a power of two, at most half full */
    uint32_t history_cap, history_used;
    double block_mass[DRAW_BLOCKS];
    llm_candidate top[LLM_SAMPLER_MAX_TOP];
    uint32_t cand_slots, cand_limit;
    llm_candidate cand[];      /* [cand_slots] route A's list: min(top_k, 1024), 1024 for a nucleus, else 0 */
};

/* ---------------------------------------------------------------------------------------------------------------
 * RNG: xoshiro256** (Blackman & Vigna), seeded through splitmix64. One per request; one output per draw.
 * ------------------------------------------------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(uint64_t s[4]) {
    const uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1) with 53 random bits. */
static double rng_uniform(uint64_t s[4]) { return (double)(rng_next(s) >> 11) * 0x1.0p-53; }

/* ---------------------------------------------------------------------------------------------------------------
 * Token history: a hash map from token to its output count; O(1) amortized per token; memory 8 bytes per slot, at
 * most twice the distinct tokens seen (never n_vocab-sized up front). Applying it costs O(slots) per sample.
 * ------------------------------------------------------------------------------------------------------------- */

static uint32_t history_home(int32_t token, uint32_t cap) {
    uint32_t h = (uint32_t)token * 0x9e3779b1u; /* Fibonacci hashing, high bits folded down; cap is a power of two */
    return (h ^ (h >> 15)) & (cap - 1u);
}

static int history_reserve(llm_sampler *s, uint32_t cap) {
    history_slot *slots = malloc((size_t)cap * sizeof *slots);
    if (slots == NULL) return 0;
    for (uint32_t i = 0; i < cap; i++) slots[i] = (history_slot){-1, 0};
    for (uint32_t i = 0; i < s->history_cap; i++) {
        if (s->history[i].token < 0) continue;
        uint32_t j = history_home(s->history[i].token, cap);
        while (slots[j].token >= 0) j = (j + 1) & (cap - 1u);
        slots[j] = s->history[i];
    }
    free(s->history);
    s->history = slots;
    s->history_cap = cap;
    return 1;
}

/* The slot of token, added when new; NULL when the map cannot grow. */
static history_slot *history_slot_of(llm_sampler *s, int32_t token) {
    if (2 * (s->history_used + 1) > s->history_cap && !history_reserve(s, s->history_cap ? 2 * s->history_cap : 64))
        return NULL;
    uint32_t j = history_home(token, s->history_cap);
    while (s->history[j].token >= 0 && s->history[j].token != token) j = (j + 1) & (s->history_cap - 1u);
    if (s->history[j].token < 0) {
        s->history[j] = (history_slot){token, 0};
        s->history_used++;
    }
    return &s->history[j];
}

void llm_sampler_reset_history(llm_sampler *s) {
    for (uint32_t i = 0; i < s->history_cap; i++) s->history[i] = (history_slot){-1, 0};
    s->history_used = 0;
}

px_status llm_sampler_accept_prompt(llm_sampler *s, const int32_t *tokens, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        if (tokens[i] < 0 || tokens[i] >= s->n_vocab) return PX_ERR_INVALID_ARGUMENT;
        if (!s->track_prompt) continue;
        if (history_slot_of(s, tokens[i]) == NULL) return PX_ERR_OUT_OF_MEMORY;
    }
    return PX_OK;
}

px_status llm_sampler_accept(llm_sampler *s, int32_t token) {
    if (token < 0 || token >= s->n_vocab) return PX_ERR_INVALID_ARGUMENT;
    if (!s->track_output) return PX_OK;
    history_slot *slot = history_slot_of(s, token);
    if (slot == NULL) return PX_ERR_OUT_OF_MEMORY;
    slot->output_count++;
    return PX_OK;
}

static void apply_penalties(const llm_sampler *s, float *row) {
    for (uint32_t i = 0; i < s->history_cap; i++) {
        const history_slot *h = &s->history[i];
        if (h->token < 0) continue;
        float v = row[h->token];
        if (s->repetition != 1.0f) v = v > 0.0f ? v / s->repetition : v * s->repetition;
        if (h->output_count > 0) v -= (float)h->output_count * s->frequency + s->presence;
        row[h->token] = v;
    }
}

/* ---------------------------------------------------------------------------------------------------------------
 * Create, free, stop tokens
 * ------------------------------------------------------------------------------------------------------------- */

static int compare_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Checks the parameters of input; writes the first problem to err and returns 0. */
static int validate(const px_llm_input *in, int32_t n_vocab, char *err, size_t errlen) {
#define REJECT(...) return (snprintf(err, errlen, __VA_ARGS__), 0)
    if (in == NULL || !PX_HAS_FIELD(in, px_llm_input, stop_tokens))
        REJECT("px_llm_input is missing or too small (%u bytes) to hold the sampling parameters",
               in ? in->header.size : 0u);
    if (n_vocab <= 0) REJECT("n_vocab must be > 0, got %d", n_vocab);
    if (!(in->temperature >= 0.0f) || isinf(in->temperature))
        REJECT("temperature must be a finite number >= 0 (0 = greedy), got %g", (double)in->temperature);
    if (!(in->top_p > 0.0f && in->top_p <= 1.0f))
        REJECT("top_p must be in (0, 1] (1 = off), got %g", (double)in->top_p);
    if (!(in->min_p >= 0.0f && in->min_p <= 1.0f))
        REJECT("min_p must be in [0, 1] (0 = off), got %g", (double)in->min_p);
    if (in->top_k < 0) REJECT("top_k must be >= 0 (0 = off), got %d", in->top_k);
    if (!(in->repetition_penalty > 0.0f) || isinf(in->repetition_penalty))
        REJECT("repetition_penalty must be a finite number > 0 (1 = off), got %g", (double)in->repetition_penalty);
    if (!(in->frequency_penalty >= -2.0f && in->frequency_penalty <= 2.0f))
        REJECT("frequency_penalty must be in [-2, 2] (0 = off), got %g", (double)in->frequency_penalty);
    if (!(in->presence_penalty >= -2.0f && in->presence_penalty <= 2.0f))
        REJECT("presence_penalty must be in [-2, 2] (0 = off), got %g", (double)in->presence_penalty);
    if (in->n_top_logprobs > LLM_SAMPLER_MAX_TOP)
        REJECT("n_top_logprobs must be at most %d, got %u", LLM_SAMPLER_MAX_TOP, in->n_top_logprobs);
    if (in->n_stop_tokens > 0 && in->stop_tokens == NULL)
        REJECT("stop_tokens is NULL but n_stop_tokens is %u", in->n_stop_tokens);
    for (uint32_t i = 0; i < in->n_stop_tokens; i++) {
        if (in->stop_tokens[i] < 0 || in->stop_tokens[i] >= n_vocab)
            REJECT("stop_tokens[%u] = %d is outside the vocabulary [0, %d)", i, in->stop_tokens[i], n_vocab);
    }
    return 1;
#undef REJECT
}

llm_sampler *llm_sampler_create(const px_llm_input *in, int32_t n_vocab, char *err, size_t errlen) {
    if (errlen > 0) err[0] = '\0';
    if (!validate(in, n_vocab, err, errlen)) return NULL;
    const uint32_t top_k = (uint32_t)in->top_k >= (uint32_t)n_vocab ? 0u : (uint32_t)in->top_k;
    const int nucleus = top_k == 0 && (in->top_p < 1.0f || in->min_p > 0.0f);
    const uint32_t slots = nucleus ? LLM_SAMPLER_CANDIDATES : top_k < LLM_SAMPLER_CANDIDATES ? top_k
                                                                                           : LLM_SAMPLER_CANDIDATES;
    llm_sampler *s = calloc(1, sizeof *s + (size_t)slots * sizeof s->cand[0]);
    if (s == NULL || (in->n_stop_tokens > 0 && (s->stop = malloc(in->n_stop_tokens * sizeof *s->stop)) == NULL)) {
        free(s);
        snprintf(err, errlen, "out of memory creating the sampler");
        return NULL;
    }
    s->n_vocab = n_vocab;
    s->greedy = in->temperature < GREEDY_TEMPERATURE;
    s->inv_t = s->greedy ? 1.0f : 1.0f / in->temperature;
    s->top_k = top_k;
    s->top_p = in->top_p;
    s->min_p = in->min_p > 0.0f ? in->min_p : 0.0f; /* no -0: route B compares its bits */
    s->repetition = in->repetition_penalty;
    s->frequency = in->frequency_penalty;
    s->presence = in->presence_penalty;
    s->track_prompt = s->repetition != 1.0f;
    s->track_output = s->track_prompt || s->frequency != 0.0f || s->presence != 0.0f;
    s->want_logprobs = (in->flags & PX_LLM_LOGPROBS) != 0 || in->n_top_logprobs > 0;
    s->n_top = in->n_top_logprobs;
    uint64_t x = in->seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix64(&x);
    s->n_stop = in->n_stop_tokens;
    if (s->n_stop > 0) {
        memcpy(s->stop, in->stop_tokens, s->n_stop * sizeof *s->stop);
        qsort(s->stop, s->n_stop, sizeof *s->stop, compare_i32);
    }
    s->cand_slots = s->cand_limit = slots;
    return s;
}

void llm_sampler_free(llm_sampler *s) {
    if (s == NULL) return;
    free(s->history);
    free(s->stop);
    free(s);
}

int llm_sampler_is_stop(const llm_sampler *s, int32_t token) {
    return s->n_stop > 0 && bsearch(&token, s->stop, s->n_stop, sizeof *s->stop, compare_i32) != NULL;
}

int32_t llm_sampler_n_vocab(const llm_sampler *s) { return s->n_vocab; }

void llm_sampler_set_candidate_limit(llm_sampler *s, uint32_t limit) {
    s->cand_limit = limit < s->cand_slots ? limit : s->cand_slots;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Steps 1-2: mask, penalties, and the row's maximum
 * ------------------------------------------------------------------------------------------------------------- */

static void apply_mask(float *row, uint32_t n, const uint32_t *allowed) {
    for (uint32_t w = 0; w < (n + 31) / 32; w++) {
        const uint32_t bits = allowed[w];
        if (bits == 0xffffffffu) continue;
        const uint32_t end = n - 32 * w < 32 ? n - 32 * w : 32;
        for (uint32_t j = 0; j < end; j++) {
            if (!((bits >> j) & 1u)) row[32 * w + j] = -INFINITY;
        }
    }
}

/* The row as the chain sees it: masked, penalized, finite or -inf. */
typedef struct prepared_row {
    float max;
    int32_t argmax; /* lowest id holding max */
} prepared_row;

static px_status prepare_row(const llm_sampler *s, float *row, const uint32_t *allowed, prepared_row *out) {
    const uint32_t n = (uint32_t)s->n_vocab;
    if (allowed != NULL) apply_mask(row, n, allowed);
    if (s->history_used > 0) apply_penalties(s, row);
    int bad;
    int32_t argmax;
    float m = llm_row_max(row, n, &argmax, &bad);
    if (bad) {
        for (uint32_t i = 0; i < n; i++) {
            if (row[i] != row[i]) row[i] = -INFINITY;
            else if (row[i] == INFINITY) row[i] = FLT_MAX;
        }
        m = llm_row_max(row, n, &argmax, &bad);
    }
    if (m == -INFINITY) return PX_ERR_INVALID_ARGUMENT;
    *out = (prepared_row){m, argmax};
    return PX_OK;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Step 3: logprobs
 * ------------------------------------------------------------------------------------------------------------- */

/* log of the softmax denominator relative to the max: log sum_i exp(row[i] - max). */
static double log_normalizer(const float *row, uint32_t n, float max) {
    float w[LLM_CHUNK];
    double z = 0.0;
    for (uint32_t lo = 0; lo < n; lo += LLM_CHUNK) {
        const uint32_t len = n - lo < LLM_CHUNK ? n - lo : LLM_CHUNK;
        llm_weights(row + lo, len, max, 1.0f, w);
        z += llm_sum(w, len);
    }
    return log(z);
}

static float logprob_of(float v, float max, double log_z) { return (float)((double)v - (double)max - log_z); }

/* ---------------------------------------------------------------------------------------------------------------
 * Step 5: truncation and draw
 * ------------------------------------------------------------------------------------------------------------- */

/* The kept set of one sample. */
typedef struct sample_plan {
    prepared_row row;
    uint32_t n_list; /* route A: cand[0, n_list) sorted; 0 = route B */
    uint32_t n_keep; /* route A: the kept prefix of the list */
    double norm;     /* route A: mass top-p takes its share of: the whole row's (nucleus), or 0 = the list's */
    llm_cut cut;     /* route B: kept = inside cut with weight >= min_p */
    uint32_t block;  /* route B: tokens per block */
    double mass;     /* total weight of the kept tokens */
} sample_plan;

/* Route A, first half: the sorted list, before anything else reads the row. Leaves n_list 0 when route B applies. */
static void select_list(llm_sampler *s, const float *row, sample_plan *p) {
    const uint32_t n = (uint32_t)s->n_vocab;
    if (s->greedy) return;
    if (s->top_k > 0 && s->top_k <= s->cand_limit) {
        uint32_t c = llm_select_top(row, n, s->top_k, s->cand);
        while (c > 0 && s->cand[c - 1].value == -INFINITY) c--; /* fewer than k tokens allowed */
        p->n_list = c;
    } else if (s->top_k == 0 && (s->top_p < 1.0f || s->min_p > 0.0f)) {
        uint32_t c = llm_select_nucleus(row, n, p->row.max, s->inv_t, s->top_p, s->min_p, s->cand_limit, s->cand,
                                        &p->norm);
        p->n_list = c == UINT32_MAX ? 0 : c;
    }
}

/* Route A, second half: weights, then top-p and min-p shorten the list. */
static void truncate_list(llm_sampler *s, sample_plan *p) {
    double total = 0.0;
    for (uint32_t j = 0; j < p->n_list; j++) {
        s->cand[j].weight = llm_weight(s->cand[j].value, p->row.max, s->inv_t);
        total += s->cand[j].weight;
    }
    uint32_t keep = p->n_list;
    if (s->top_p < 1.0f) {
        const double target = (double)s->top_p * (p->norm > 0.0 ? p->norm : total);
        double acc = 0.0;
        for (uint32_t j = 0; j < keep; j++) {
            acc += s->cand[j].weight;
            if (acc >= target) {
                keep = j + 1;
                break;
            }
        }
    }
    for (uint32_t j = 1; j < keep; j++) { /* cand[0] weighs 1 >= min_p */
        if (s->cand[j].weight < s->min_p) {
            keep = j;
            break;
        }
    }
    p->n_keep = keep;
    p->mass = 0.0;
    for (uint32_t j = 0; j < keep; j++) p->mass += s->cand[j].weight;
}

/* Route B: w [len] = the weights tokens [lo, lo + len) keep (len <= LLM_CHUNK), 0 where the chain removed them.
 * Selects on bits, so that it vectorizes; the draw recomputes a block through here, so the values agree. */
static void kept_weights(const llm_sampler *s, const sample_plan *p, const float *row, uint32_t lo, uint32_t len,
                         float *w) {
    const uint32_t min_bits = llm_bits(s->min_p);
    llm_weights(row + lo, len, p->row.max, s->inv_t, w);
    for (uint32_t j = 0; j < len; j++) {
        const uint32_t wb = llm_bits(w[j]);
        const uint32_t in = (uint32_t)llm_in_cut(llm_order_key(row[lo + j]), (int32_t)(lo + j), p->cut);
        w[j] = llm_float(wb & (0u - (in & (uint32_t)(wb >= min_bits))));
    }
}

static uint32_t block_end(const sample_plan *p, uint32_t n, uint32_t b) {
    const uint64_t end = (uint64_t)(b + 1) * p->block;
    return end < n ? (uint32_t)end : n;
}

/* Route B: top-k and top-p as cuts, then the kept mass per block. */
static void truncate_row(llm_sampler *s, const float *row, sample_plan *p) {
    const uint32_t n = (uint32_t)s->n_vocab;
    float w[LLM_CHUNK];
    p->cut = s->top_k > 0 ? llm_cut_by_count(row, n, s->top_k) : LLM_CUT_ALL;
    if (s->top_p < 1.0f) p->cut = llm_cut_by_mass(row, n, p->cut, p->row.max, s->inv_t, (double)s->top_p);
    p->block = (n + DRAW_BLOCKS - 1) / DRAW_BLOCKS;
    p->mass = 0.0;
    for (uint32_t b = 0; b < DRAW_BLOCKS; b++) {
        double mass = 0.0;
        for (uint32_t lo = b * p->block, hi = block_end(p, n, b); lo < hi; lo += LLM_CHUNK) {
            const uint32_t len = hi - lo < LLM_CHUNK ? hi - lo : LLM_CHUNK;
            kept_weights(s, p, row, lo, len, w);
            mass += llm_sum(w, len);
        }
        s->block_mass[b] = mass;
        p->mass += mass;
    }
}

static int32_t draw_list(const llm_sampler *s, const sample_plan *p, double target) {
    double acc = 0.0;
    for (uint32_t j = 0; j < p->n_keep; j++) {
        acc += s->cand[j].weight;
        if (acc > target) return s->cand[j].id;
    }
    uint32_t j = p->n_keep; /* rounding: target fell past the last sum; take the last token with weight */
    while (j > 1 && s->cand[j - 1].weight == 0.0f) j--;
    return s->cand[j - 1].id;
}

static int32_t draw_row(const llm_sampler *s, const sample_plan *p, const float *row, double target) {
    const uint32_t n = (uint32_t)s->n_vocab;
    double acc = 0.0;
    uint32_t b = 0, last_block = 0;
    for (; b < DRAW_BLOCKS; b++) {
        if (s->block_mass[b] == 0.0) continue;
        last_block = b;
        if (acc + s->block_mass[b] > target) break;
        acc += s->block_mass[b];
    }
    if (b == DRAW_BLOCKS) b = last_block; /* rounding: target fell past the last sum */
    int32_t last = p->row.argmax;
    float w[LLM_CHUNK];
    for (uint32_t lo = b * p->block, hi = block_end(p, n, b); lo < hi; lo += LLM_CHUNK) {
        const uint32_t len = hi - lo < LLM_CHUNK ? hi - lo : LLM_CHUNK;
        kept_weights(s, p, row, lo, len, w);
        for (uint32_t j = 0; j < len; j++) {
            if (w[j] == 0.0f) continue;
            last = (int32_t)(lo + j);
            acc += w[j];
            if (acc > target) return last;
        }
    }
    return last; /* rounding inside the block: its last token with weight */
}

/* Steps 1, 2 and 5 up to the draw; route A's list is taken before step 3, which may reuse it. */
static px_status plan_sample(llm_sampler *s, float *row, const uint32_t *allowed, sample_plan *p) {
    memset(p, 0, sizeof *p);
    px_status status = prepare_row(s, row, allowed, &p->row);
    if (status != PX_OK) return status;
    select_list(s, row, p);
    return PX_OK;
}

static void finish_plan(llm_sampler *s, const float *row, sample_plan *p) {
    if (s->greedy) return;
    if (p->n_list > 0) truncate_list(s, p);
    else truncate_row(s, row, p);
}

/* Top alternatives for logprobs, most likely first; reuses route A's list (a prefix of the token order) when it is
 * long enough. */
static void fill_top(llm_sampler *s, const float *row, const sample_plan *p, double log_z, llm_sample_result *out) {
    const llm_candidate *list = s->cand;
    uint32_t n = p->n_list;
    if (n < s->n_top) {
        list = s->top;
        n = llm_select_top(row, (uint32_t)s->n_vocab, s->n_top, s->top);
    }
    out->n_top = s->n_top;
    for (uint32_t j = 0; j < s->n_top; j++) {
        const int ok = j < n && list[j].value != -INFINITY;
        out->top_tokens[j] = ok ? list[j].id : -1;
        out->top_logprobs[j] = ok ? logprob_of(list[j].value, p->row.max, log_z) : -INFINITY;
    }
}

px_status llm_sampler_sample(llm_sampler *s, float *row, const uint32_t *allowed, llm_sample_result *out) {
    sample_plan p;
    px_status status = plan_sample(s, row, allowed, &p);
    if (status != PX_OK) return status;
    llm_sample_result r = {0};
    double log_z = 0.0;
    if (s->want_logprobs) {
        log_z = log_normalizer(row, (uint32_t)s->n_vocab, p.row.max);
        if (s->n_top > 0) fill_top(s, row, &p, log_z, &r);
    }
    finish_plan(s, row, &p);
    if (s->greedy) {
        r.token = p.row.argmax;
    } else {
        const double target = rng_uniform(s->rng) * p.mass;
        r.token = p.n_list > 0 ? draw_list(s, &p, target) : draw_row(s, &p, row, target);
    }
    if (s->want_logprobs) r.logprob = logprob_of(row[r.token], p.row.max, log_z);
    *out = r;
    return PX_OK;
}

px_status llm_sampler_distribution(llm_sampler *s, float *row, const uint32_t *allowed, double *probs,
                                   double *logprobs) {
    sample_plan p;
    px_status status = plan_sample(s, row, allowed, &p);
    if (status != PX_OK) return status;
    const uint32_t n = (uint32_t)s->n_vocab;
    if (logprobs != NULL) {
        const double log_z = log_normalizer(row, n, p.row.max);
        for (uint32_t i = 0; i < n; i++) logprobs[i] = (double)row[i] - (double)p.row.max - log_z;
    }
    finish_plan(s, row, &p);
    for (uint32_t i = 0; i < n; i++) probs[i] = 0.0;
    if (s->greedy) {
        probs[p.row.argmax] = 1.0;
    } else if (p.n_list > 0) {
        for (uint32_t j = 0; j < p.n_keep; j++) probs[s->cand[j].id] = s->cand[j].weight / p.mass;
    } else {
        float w[LLM_CHUNK];
        for (uint32_t lo = 0; lo < n; lo += LLM_CHUNK) {
            const uint32_t len = n - lo < LLM_CHUNK ? n - lo : LLM_CHUNK;
            kept_weights(s, &p, row, lo, len, w);
            for (uint32_t j = 0; j < len; j++) probs[lo + j] = w[j] / p.mass;
        }
    }
    return PX_OK;
}

int llm_sampler_is_plain_greedy(const llm_sampler *s) { return s->greedy && !s->track_output && !s->track_prompt && !s->want_logprobs; }
