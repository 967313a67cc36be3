/*
 * test_sampler.c — tests of Plugins/llm/sampler.c. Run by `make plugin-tests` from Tests/Plugins/llm (under ASan and
 * UBSan); prints one line per case and `N passed, M failed` last; exits nonzero on a failure.
 *
 * The distributions are checked against golden/sampler_golden.txt, written by golden/sampler_golden.py (an
 * independent NumPy float64 reference of Specs/sampling.md). Every golden case runs through both routes of the
 * sampler (the candidate list and the radix cut), which must agree with the reference to 1e-5.
 *
 * Timings: the perf cases print ms per sample on a 262,144-token row. Under the sanitizers they are slow; for real
 * numbers build without them:
 *   cc -std=c11 -O3 -ISources/PluginABI/include -IPlugins/llm -IPlugins/common -o /tmp/test_sampler \
 *      Tests/Plugins/llm/test_sampler.c $(find Plugins/llm Plugins/common -name '*.c') -lm
 *   (cd Tests/Plugins/llm && /tmp/test_sampler)
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef __STDC_NO_THREADS__
#include <threads.h>
#endif
#include <time.h>

#include "sampler.h"
#include "sampler_select.h"

/* ---------------------------------------------------------------------------------------------------------------
 * Harness
 * ------------------------------------------------------------------------------------------------------------- */

static int passed, failed;
static char why[512];  /* first failure of the running case */
static char note[256]; /* what a passing case measured, printed on its line */

#define CHECK(cond, ...)                                                                                         \
    do {                                                                                                         \
        if (!(cond)) {                                                                                           \
            if (why[0] == '\0') snprintf(why, sizeof why, __VA_ARGS__);                                          \
            return;                                                                                              \
        }                                                                                                        \
    } while (0)

static void run(const char *name, void (*fn)(void)) {
    why[0] = note[0] = '\0';
    fn();
    if (why[0] == '\0') {
        passed++;
        printf("ok   %s%s%s\n", name, note[0] ? ": " : "", note);
    } else {
        failed++;
        printf("FAIL %s: %s\n", name, why);
    }
    fflush(stdout);
}

/* Sampling parameters with everything off: the defaults of px_llm_input. */
static px_llm_input params(float temperature) {
    px_llm_input in;
    memset(&in, 0, sizeof in);
    in.header = (px_header)PX_HEADER_INIT(px_llm_input);
    in.max_new_tokens = 16;
    in.temperature = temperature;
    in.top_p = 1.0f;
    in.repetition_penalty = 1.0f;
    in.seed = 1234;
    return in;
}

static llm_sampler *make(const px_llm_input *in, int32_t n_vocab) {
    char err[256];
    llm_sampler *s = llm_sampler_create(in, n_vocab, err, sizeof err);
    if (s == NULL) fprintf(stderr, "llm_sampler_create: %s\n", err);
    return s;
}

/* Deterministic pseudo-random floats for rows, independent of the sampler's RNG. */
static uint64_t test_rng = 88172645463325252ull;
static double test_uniform(void) {
    test_rng ^= test_rng << 13, test_rng ^= test_rng >> 7, test_rng ^= test_rng << 17;
    return (double)(test_rng >> 11) * 0x1.0p-53;
}
static float test_normal(void) {
    double u = test_uniform(), v = test_uniform();
    return (float)(sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v));
}

/* ---------------------------------------------------------------------------------------------------------------
 * Greedy, ties, masks, errors
 * ------------------------------------------------------------------------------------------------------------- */

static void test_greedy_is_argmax(void) {
    enum { V = 5000 };
    float base[V], row[V];
    px_llm_input in = params(0.0f);
    llm_sampler *s = make(&in, V);
    CHECK(s != NULL, "create failed");
    for (int trial = 0; trial < 50; trial++) {
        for (int i = 0; i < V; i++) base[i] = test_normal() * 3.0f;
        int best = 0;
        for (int i = 1; i < V; i++) best = base[i] > base[best] ? i : best;
        memcpy(row, base, sizeof row);
        llm_sample_result r;
        CHECK(llm_sampler_sample(s, row, NULL, &r) == PX_OK, "sample failed");
        CHECK(r.token == best, "trial %d: sampled %d, argmax %d", trial, r.token, best);
    }
    llm_sampler_free(s);
}

static void test_greedy_ties_lowest_id(void) {
    float row[100];
    px_llm_input in = params(0.0f);
    in.top_k = 3; /* ignored when greedy */
    llm_sampler *s = make(&in, 100);
    CHECK(s != NULL, "create failed");
    for (int i = 0; i < 100; i++) row[i] = (i == 17 || i == 42 || i == 99) ? 5.0f : 1.0f;
    llm_sample_result r;
    CHECK(llm_sampler_sample(s, row, NULL, &r) == PX_OK && r.token == 17, "ties: got %d, want 17", r.token);
    for (int i = 0; i < 100; i++) row[i] = 0.0f;
    row[0] = -0.0f; /* -0 and +0 are one value */
    CHECK(llm_sampler_sample(s, row, NULL, &r) == PX_OK && r.token == 0, "all equal: got %d, want 0", r.token);
    llm_sampler_free(s);
}

static void test_mask_greedy_and_sampled(void) {
    enum { V = 300 };
    float base[V], row[V];
    uint32_t allowed[(V + 31) / 32] = {0};
    for (int i = 0; i < V; i++) base[i] = test_normal() * 2.0f;
    for (int i = 5; i < V; i += 7) allowed[i >> 5] |= 1u << (i & 31);
    int best = -1;
    for (int i = 5; i < V; i += 7) best = best < 0 || base[i] > base[best] ? i : best;
    px_llm_input in = params(0.0f);
    llm_sampler *g = make(&in, V);
    CHECK(g != NULL, "create failed");
    memcpy(row, base, sizeof row);
    llm_sample_result r;
    CHECK(llm_sampler_sample(g, row, allowed, &r) == PX_OK && r.token == best, "greedy: %d, want %d", r.token, best);
    llm_sampler_free(g);
    in.temperature = 5.0f; /* flat: masked tokens would show up fast */
    for (uint32_t limit = 0; limit <= 1; limit++) {
        in.top_k = limit ? 0 : 50;
        llm_sampler *s = make(&in, V);
        CHECK(s != NULL, "create failed");
        for (int d = 0; d < 3000; d++) {
            memcpy(row, base, sizeof row);
            CHECK(llm_sampler_sample(s, row, allowed, &r) == PX_OK, "sample failed");
            CHECK(r.token % 7 == 5, "draw %d took masked token %d (top_k %d)", d, r.token, in.top_k);
        }
        llm_sampler_free(s);
    }
}

static void test_nothing_allowed_is_an_error(void) {
    float row[64];
    uint32_t allowed[2] = {1u << 4, 0};
    px_llm_input in = params(1.0f);
    llm_sampler *s = make(&in, 64);
    CHECK(s != NULL, "create failed");
    for (int i = 0; i < 64; i++) row[i] = 1.0f;
    row[4] = -INFINITY;
    llm_sample_result r = {.token = -7};
    CHECK(llm_sampler_sample(s, row, allowed, &r) == PX_ERR_INVALID_ARGUMENT, "only allowed token is -inf");
    CHECK(r.token == -7, "out written on failure");
    for (int i = 0; i < 64; i++) row[i] = NAN;
    CHECK(llm_sampler_sample(s, row, NULL, &r) == PX_ERR_INVALID_ARGUMENT, "all NaN");
    llm_sampler_free(s);
}

static void test_parameter_validation(void) {
    char err[256];
    px_llm_input in;
#define EXPECT_REJECT(stmt, word)                                                                                \
    do {                                                                                                         \
        in = params(1.0f);                                                                                       \
        stmt;                                                                                                    \
        llm_sampler *s = llm_sampler_create(&in, 100, err, sizeof err);                                          \
        CHECK(s == NULL, "accepted: %s", #stmt);                                                                 \
        CHECK(strstr(err, word) != NULL, "%s: message '%s' does not name %s", #stmt, err, word);                 \
    } while (0)
    EXPECT_REJECT(in.temperature = -0.5f, "temperature");
    EXPECT_REJECT(in.temperature = NAN, "temperature");
    EXPECT_REJECT(in.temperature = INFINITY, "temperature");
    EXPECT_REJECT(in.top_p = 0.0f, "top_p");
    EXPECT_REJECT(in.top_p = 1.5f, "top_p");
    EXPECT_REJECT(in.top_p = NAN, "top_p");
    EXPECT_REJECT(in.min_p = -0.1f, "min_p");
    EXPECT_REJECT(in.min_p = 1.1f, "min_p");
    EXPECT_REJECT(in.top_k = -1, "top_k");
    EXPECT_REJECT(in.repetition_penalty = 0.0f, "repetition_penalty");
    EXPECT_REJECT(in.repetition_penalty = -1.0f, "repetition_penalty");
    EXPECT_REJECT(in.frequency_penalty = 2.5f, "frequency_penalty");
    EXPECT_REJECT(in.frequency_penalty = NAN, "frequency_penalty");
    EXPECT_REJECT(in.presence_penalty = -2.01f, "presence_penalty");
    EXPECT_REJECT(in.n_top_logprobs = 21, "n_top_logprobs");
    EXPECT_REJECT((in.n_stop_tokens = 1, in.stop_tokens = NULL), "stop_tokens");
    static const int32_t stops[] = {3, 100};
    EXPECT_REJECT((in.n_stop_tokens = 2, in.stop_tokens = stops), "stop_tokens[1]");
    EXPECT_REJECT(in.header.size = 8, "px_llm_input");
#undef EXPECT_REJECT
    in = params(2.0f);
    in.frequency_penalty = -2.0f;
    in.presence_penalty = 2.0f;
    in.top_p = 1.0f;
    in.min_p = 1.0f;
    in.top_k = 1 << 30; /* larger than the vocabulary: off */
    in.n_top_logprobs = 20;
    llm_sampler *s = llm_sampler_create(&in, 100, err, sizeof err);
    CHECK(s != NULL, "edge values rejected: %s", err);
    llm_sampler_free(s);
    CHECK(llm_sampler_create(&in, 0, err, sizeof err) == NULL && strstr(err, "n_vocab"), "n_vocab 0 accepted");
}

static void test_stop_tokens(void) {
    static const int32_t stops[] = {99, 2, 50, 2};
    px_llm_input in = params(1.0f);
    in.n_stop_tokens = 4;
    in.stop_tokens = stops;
    llm_sampler *s = make(&in, 100);
    CHECK(s != NULL, "create failed");
    for (int32_t t = 0; t < 100; t++) {
        int want = t == 2 || t == 50 || t == 99;
        CHECK(!llm_sampler_is_stop(s, t) == !want, "is_stop(%d) = %d", t, llm_sampler_is_stop(s, t));
    }
    llm_sampler_free(s);
    in.n_stop_tokens = 0;
    s = make(&in, 100);
    CHECK(s != NULL && !llm_sampler_is_stop(s, 2), "no stop tokens");
    llm_sampler_free(s);
}

static void test_history_accept_and_reset(void) {
    enum { V = 16 };
    float row[V];
    double probs[V], before[V];
    px_llm_input in = params(1.0f);
    in.presence_penalty = 2.0f;
    in.frequency_penalty = 0.25f;
    in.repetition_penalty = 1.5f;
    llm_sampler *s = make(&in, V);
    CHECK(s != NULL, "create failed");
    for (int i = 0; i < V; i++) row[i] = 1.0f;
    CHECK(llm_sampler_distribution(s, row, NULL, before, NULL) == PX_OK, "distribution");
    const int32_t prompt[] = {3, 3, 4};
    CHECK(llm_sampler_accept_prompt(s, prompt, 3) == PX_OK, "accept_prompt");
    CHECK(llm_sampler_accept(s, 5) == PX_OK, "accept");
    CHECK(llm_sampler_accept(s, V) == PX_ERR_INVALID_ARGUMENT, "accept out of range");
    CHECK(llm_sampler_accept(s, -1) == PX_ERR_INVALID_ARGUMENT, "accept -1");
    const int32_t bad[] = {1, 16};
    CHECK(llm_sampler_accept_prompt(s, bad, 2) == PX_ERR_INVALID_ARGUMENT, "accept_prompt out of range");
    for (int i = 0; i < V; i++) row[i] = 1.0f;
    CHECK(llm_sampler_distribution(s, row, NULL, probs, NULL) == PX_OK, "distribution");
    /* 3, 4: 1 / 1.5; 5: 1 / 1.5 - 0.25 - 2; 1 (accepted before the bad token of the failed call): 1 / 1.5; others 1 */
    CHECK(probs[3] < probs[0] && fabs(probs[3] - probs[4]) < 1e-12 && fabs(probs[3] - probs[1]) < 1e-12,
          "repetition penalty not applied to prompt tokens");
    CHECK(probs[5] < probs[3], "presence penalty not applied to output token");
    CHECK(fabs(probs[0] - probs[15]) < 1e-12, "unseen tokens differ");
    llm_sampler_reset_history(s);
    for (int i = 0; i < V; i++) row[i] = 1.0f;
    CHECK(llm_sampler_distribution(s, row, NULL, probs, NULL) == PX_OK, "distribution");
    for (int i = 0; i < V; i++) CHECK(fabs(probs[i] - before[i]) < 1e-12, "reset left a penalty on %d", i);
    /* many distinct tokens: the map grows */
    for (int32_t t = 0; t < V; t++) {
        for (int k = 0; k <= t; k++) CHECK(llm_sampler_accept(s, t) == PX_OK, "accept %d", t);
    }
    for (int i = 0; i < V; i++) row[i] = 1.0f;
    CHECK(llm_sampler_distribution(s, row, NULL, probs, NULL) == PX_OK, "distribution");
    for (int i = 1; i < V; i++) CHECK(probs[i] < probs[i - 1], "counts not respected at %d", i);
    llm_sampler_free(s);
}

static void test_tiny_and_odd_vocabularies(void) {
    float row[37];
    double probs[37];
    px_llm_input in = params(1.0f);
    in.top_p = 0.5f;
    llm_sampler *s = make(&in, 1);
    CHECK(s != NULL, "create n_vocab 1");
    row[0] = -3.0f;
    llm_sample_result r;
    CHECK(llm_sampler_sample(s, row, NULL, &r) == PX_OK && r.token == 0, "n_vocab 1 sampled %d", r.token);
    llm_sampler_free(s);
    for (uint32_t limit = 0; limit <= LLM_SAMPLER_CANDIDATES; limit += LLM_SAMPLER_CANDIDATES) {
        in.top_k = 0;
        in.top_p = 0.999f;
        s = make(&in, 37);
        CHECK(s != NULL, "create n_vocab 37");
        llm_sampler_set_candidate_limit(s, limit);
        for (int i = 0; i < 37; i++) row[i] = i == 36 ? 2.0f : -1.0f; /* the best token in the tail of a filter */
        CHECK(llm_sampler_distribution(s, row, NULL, probs, NULL) == PX_OK, "distribution");
        CHECK(probs[36] > probs[0] && probs[0] > 0.0, "tail token: p36 %g p0 %g", probs[36], probs[0]);
        llm_sampler_free(s);
    }
}

static void test_exp_accuracy(void) {
    double worst = 0.0;
    float at = 0.0f;
    /* every 61st float in (-87, 0] (about 18 million), against libm's double exp */
    for (uint32_t b = 0x80000000u; b < 0xc2ae0000u; b += 61) {
        float x;
        memcpy(&x, &b, sizeof x);
        const double want = exp((double)x), rel = fabs((double)llm_exp(x) - want) / want;
        if (rel > worst) worst = rel, at = x;
    }
    snprintf(note, sizeof note, "max relative error %.3g (at %.9g)", worst, (double)at);
    CHECK(worst < 1.2e-7, "relative error %.3g at %.9g", worst, (double)at);
    CHECK(llm_exp(0.0f) == 1.0f && llm_exp(-0.0f) == 1.0f, "exp(0) != 1");
    CHECK(llm_exp(-87.0f) == 0.0f && llm_exp(-1000.0f) == 0.0f && llm_exp(-INFINITY) == 0.0f, "no flush below -87");
}

/* ---------------------------------------------------------------------------------------------------------------
 * Golden distributions
 * ------------------------------------------------------------------------------------------------------------- */

typedef struct golden {
    char name[64];
    int32_t vocab, top_k;
    float temperature, top_p, min_p, rep, freq, pres;
    float *logits;
    int32_t *prompt, *output;
    uint32_t n_prompt, n_output, n_words;
    uint32_t *allowed;
    double *probs, *logprobs;
} golden;

static golden goldens[64];
static int n_goldens;

static int read_word(FILE *f, char *w, const char *want) {
    return fscanf(f, "%127s", w) == 1 && (want == NULL || strcmp(w, want) == 0);
}

static double read_number(FILE *f) {
    char w[128];
    return read_word(f, w, NULL) ? strtod(w, NULL) : NAN;
}

static int read_golden(FILE *f, golden *g) {
    char w[128];
    if (!read_word(f, w, "case") || fscanf(f, "%63s", g->name) != 1) return 0;
    if (!read_word(f, w, "vocab") || fscanf(f, "%d", &g->vocab) != 1 || g->vocab <= 0) return 0;
    if (!read_word(f, w, "params")) return 0;
    float *p[] = {&g->temperature, &g->top_p, &g->min_p, &g->rep, &g->freq, &g->pres};
    for (int i = 0; i < 6; i++) {
        if (!read_word(f, w, NULL)) return 0;
        *p[i] = strtof(w, NULL);
    }
    if (fscanf(f, "%d", &g->top_k) != 1 || !read_word(f, w, "logits")) return 0;
    g->logits = malloc(sizeof(float) * (size_t)g->vocab);
    for (int i = 0; i < g->vocab; i++) {
        if (!read_word(f, w, NULL)) return 0;
        g->logits[i] = strtof(w, NULL);
    }
    if (!read_word(f, w, "prompt") || fscanf(f, "%u", &g->n_prompt) != 1) return 0;
    g->prompt = malloc(sizeof(int32_t) * (g->n_prompt + 1));
    for (uint32_t i = 0; i < g->n_prompt; i++) g->prompt[i] = (int32_t)read_number(f);
    if (!read_word(f, w, "output") || fscanf(f, "%u", &g->n_output) != 1) return 0;
    g->output = malloc(sizeof(int32_t) * (g->n_output + 1));
    for (uint32_t i = 0; i < g->n_output; i++) g->output[i] = (int32_t)read_number(f);
    if (!read_word(f, w, "allowed") || fscanf(f, "%u", &g->n_words) != 1) return 0;
    g->allowed = malloc(sizeof(uint32_t) * (g->n_words + 1));
    for (uint32_t i = 0; i < g->n_words; i++) g->allowed[i] = (uint32_t)read_number(f);
    if (g->n_words != 0 && g->n_words != (uint32_t)(g->vocab + 31) / 32) return 0;
    g->probs = malloc(sizeof(double) * (size_t)g->vocab);
    g->logprobs = malloc(sizeof(double) * (size_t)g->vocab);
    if (!read_word(f, w, "probs")) return 0;
    for (int i = 0; i < g->vocab; i++) g->probs[i] = read_number(f);
    if (!read_word(f, w, "logprobs")) return 0;
    for (int i = 0; i < g->vocab; i++) g->logprobs[i] = read_number(f);
    return read_word(f, w, "end");
}

static void free_goldens(void) {
    for (int i = 0; i < n_goldens; i++) {
        golden *g = &goldens[i];
        free(g->logits), free(g->prompt), free(g->output), free(g->allowed), free(g->probs), free(g->logprobs);
    }
}

static void test_golden_file_reads(void) {
    FILE *f = fopen("golden/sampler_golden.txt", "r");
    CHECK(f != NULL, "cannot open golden/sampler_golden.txt (run from Tests/Plugins/llm)");
    char line[256];
    CHECK(fgets(line, sizeof line, f) != NULL && line[0] == '#', "missing header line");
    int c;
    while ((c = fgetc(f)) != EOF) {
        ungetc(c, f);
        if (fscanf(f, " ") == EOF || feof(f)) break;
        CHECK(n_goldens < 64, "too many cases");
        golden *g = &goldens[n_goldens++];
        memset(g, 0, sizeof *g);
        CHECK(read_golden(f, g), "malformed case %d (%s)", n_goldens, g->name);
    }
    fclose(f);
    CHECK(n_goldens >= 20, "only %d golden cases", n_goldens);
}

static px_llm_input golden_params(const golden *g, uint32_t n_top) {
    px_llm_input in = params(g->temperature);
    in.top_k = g->top_k;
    in.top_p = g->top_p;
    in.min_p = g->min_p;
    in.repetition_penalty = g->rep;
    in.frequency_penalty = g->freq;
    in.presence_penalty = g->pres;
    in.n_top_logprobs = n_top;
    in.flags = PX_LLM_LOGPROBS;
    return in;
}

static llm_sampler *golden_sampler(const golden *g, uint32_t n_top, uint32_t limit) {
    px_llm_input in = golden_params(g, n_top);
    llm_sampler *s = make(&in, g->vocab);
    if (s == NULL) return NULL;
    llm_sampler_set_candidate_limit(s, limit);
    if (llm_sampler_accept_prompt(s, g->prompt, g->n_prompt) != PX_OK) return llm_sampler_free(s), NULL;
    for (uint32_t i = 0; i < g->n_output; i++) {
        if (llm_sampler_accept(s, g->output[i]) != PX_OK) return llm_sampler_free(s), NULL;
    }
    return s;
}

static int logprob_close(double got, double want) {
    if (isinf(want)) return isinf(got) && got < 0;
    return fabs(got - want) <= 1e-5 * (fabs(want) > 1.0 ? fabs(want) : 1.0);
}

static const golden *current;
static uint32_t current_limit;

/* The distribution and logprobs of one golden case through one route, then one real sample's report. */
static void test_golden_case(void) {
    const golden *g = current;
    const uint32_t V = (uint32_t)g->vocab;
    float *row = malloc(V * sizeof *row);
    double *probs = malloc(V * sizeof *probs), *lps = malloc(V * sizeof *lps);
    llm_sampler *s = golden_sampler(g, LLM_SAMPLER_MAX_TOP, current_limit);
    const uint32_t *allowed = g->n_words ? g->allowed : NULL;
    int ok = s != NULL;
    if (ok) {
        memcpy(row, g->logits, V * sizeof *row);
        ok = llm_sampler_distribution(s, row, allowed, probs, lps) == PX_OK;
    }
    uint32_t bad_p = V, bad_l = V;
    double sum = 0.0;
    for (uint32_t i = 0; ok && i < V; i++) {
        if (bad_p == V && !(fabs(probs[i] - g->probs[i]) <= 1e-5)) bad_p = i;
        if (bad_l == V && !logprob_close(lps[i], g->logprobs[i])) bad_l = i;
        sum += probs[i];
    }
    llm_sample_result r = {0};
    if (ok) {
        memcpy(row, g->logits, V * sizeof *row);
        ok = llm_sampler_sample(s, row, allowed, &r) == PX_OK;
    }
    llm_sampler_free(s);
    double p_i = 0, p_want = 0, l_i = 0, l_want = 0;
    if (bad_p < V) p_i = probs[bad_p], p_want = g->probs[bad_p];
    if (bad_l < V) l_i = lps[bad_l], l_want = g->logprobs[bad_l];
    free(row), free(probs), free(lps);
    CHECK(ok, "sampler failed");
    CHECK(bad_p == V, "p[%u] = %.9g, reference %.9g", bad_p, p_i, p_want);
    CHECK(bad_l == V, "logprob[%u] = %.9g, reference %.9g", bad_l, l_i, l_want);
    CHECK(fabs(sum - 1.0) < 1e-9, "probabilities sum to %.12g", sum);
    CHECK(g->probs[r.token] > 0.0, "sampled token %d has reference probability 0", r.token);
    CHECK(logprob_close(r.logprob, g->logprobs[r.token]), "sampled logprob %g, reference %g", (double)r.logprob,
          g->logprobs[r.token]);
    /* top alternatives: the reference's logprobs in the token order (descending, lower id first on ties) */
    CHECK(r.n_top == LLM_SAMPLER_MAX_TOP, "n_top %u", r.n_top);
    uint32_t taken = 0;
    for (uint32_t j = 0; j < r.n_top; j++) {
        int32_t want = -1;
        for (uint32_t i = 0; i < V; i++) {
            if (isinf(g->logprobs[i])) continue;
            int used = 0;
            for (uint32_t q = 0; q < taken; q++) used |= r.top_tokens[q] == (int32_t)i;
            if (!used && (want < 0 || g->logprobs[i] > g->logprobs[want])) want = (int32_t)i;
        }
        /* A reference tie between different logits is float64 rounding (the +inf case), not a tie of the order. */
        const int32_t got = r.top_tokens[j];
        const int rounding_tie = got >= 0 && want >= 0 && g->logprobs[got] == g->logprobs[want] &&
                                 g->logits[got] != g->logits[want];
        CHECK(got == want || rounding_tie, "top[%u] = %d, want %d", j, got, want);
        want = got;
        if (want < 0) {
            CHECK(isinf(r.top_logprobs[j]), "top[%u] past the allowed tokens has logprob %g", j,
                  (double)r.top_logprobs[j]);
            continue;
        }
        taken++;
        CHECK(logprob_close(r.top_logprobs[j], g->logprobs[want]), "top[%u] logprob %g, want %g", j,
              (double)r.top_logprobs[j], g->logprobs[want]);
    }
}

/* ---------------------------------------------------------------------------------------------------------------
 * Statistics: draws against the reference distribution
 * ------------------------------------------------------------------------------------------------------------- */

/* Regularized upper incomplete gamma Q(a, x) (series below a + 1, continued fraction above). */
static double gamma_q(double a, double x) {
    if (x <= 0.0) return 1.0;
    const double log_front = a * log(x) - x - lgamma(a);
    if (x < a + 1.0) {
        double term = 1.0 / a, sum = term;
        for (int n = 1; n < 10000 && fabs(term) > fabs(sum) * 1e-15; n++) sum += term *= x / (a + n);
        return 1.0 - sum * exp(log_front);
    }
    double b = x + 1.0 - a, c = 1e300, d = 1.0 / b, h = d; /* Lentz */
    for (int i = 1; i < 10000; i++) {
        const double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        d = fabs(d) < 1e-300 ? 1e-300 : d;
        c = b + an / c;
        c = fabs(c) < 1e-300 ? 1e-300 : c;
        d = 1.0 / d;
        const double delta = d * c;
        h *= delta;
        if (fabs(delta - 1.0) < 1e-15) break;
    }
    return exp(log_front) * h;
}

static void test_gamma_q_values(void) {
    /* chi-square survival values from scipy.stats.chi2.sf */
    CHECK(fabs(gamma_q(7.0 / 2, 20.5 / 2) - 0.004585143) < 1e-8, "sf(20.5, 7) = %.9g", gamma_q(3.5, 10.25));
    CHECK(fabs(gamma_q(63.0 / 2, 60.0 / 2) - 0.5839273) < 1e-6, "sf(60, 63) = %.9g", gamma_q(31.5, 30.0));
    CHECK(fabs(gamma_q(1.0 / 2, 3.0 / 2) - 0.08326452) < 1e-7, "sf(3, 1) = %.9g", gamma_q(0.5, 1.5));
}

enum { DRAWS = 200000 };
/* A correct sampler fails this test once in 10,000 runs; the seed is fixed, so a run is reproducible. */
#define CHI2_MIN_P 1e-4

static const golden *find_golden(const char *name) {
    for (int i = 0; i < n_goldens; i++) {
        if (strcmp(goldens[i].name, name) == 0) return &goldens[i];
    }
    return NULL;
}

static void chi_square(const char *name, uint32_t limit) {
    const golden *g = find_golden(name);
    CHECK(g != NULL, "golden case %s missing", name);
    const uint32_t V = (uint32_t)g->vocab;
    float *row = malloc(V * sizeof *row);
    uint32_t *seen = calloc(V, sizeof *seen);
    llm_sampler *s = golden_sampler(g, 0, limit);
    int ok = s != NULL;
    llm_sample_result r;
    for (int d = 0; ok && d < DRAWS; d++) {
        memcpy(row, g->logits, V * sizeof *row);
        ok = llm_sampler_sample(s, row, g->n_words ? g->allowed : NULL, &r) == PX_OK;
        if (ok) seen[r.token]++;
    }
    llm_sampler_free(s);
    double x2 = 0.0;
    uint32_t cells = 0, stray = 0;
    for (uint32_t i = 0; i < V; i++) {
        const double expect = g->probs[i] * DRAWS;
        if (g->probs[i] == 0.0) {
            stray += seen[i];
            continue;
        }
        x2 += (seen[i] - expect) * (seen[i] - expect) / expect;
        cells++;
    }
    free(row), free(seen);
    CHECK(ok, "sample failed");
    CHECK(stray == 0, "%u draws took tokens the chain removes", stray);
    const double p = gamma_q((cells - 1) / 2.0, x2 / 2.0);
    snprintf(note, sizeof note, "%u cells, X2 = %.2f, p = %.4f", cells, x2, p);
    CHECK(p > CHI2_MIN_P, "X2 = %.2f over %u cells: p = %.3g <= %g", x2, cells, p, CHI2_MIN_P);
}

static void test_chi_square_list(void) { chi_square("small_vocab_chain", LLM_SAMPLER_CANDIDATES); }
static void test_chi_square_radix(void) { chi_square("small_vocab_chain", 0); }
static void test_chi_square_nucleus(void) { chi_square("chain_top_p_then_min_p", LLM_SAMPLER_CANDIDATES); }
static void test_chi_square_temperature(void) { chi_square("temperature_0.7", 0); }
static void test_chi_square_top_p_ties(void) { chi_square("flat_600_top_p_ties", 0); }

/* ---------------------------------------------------------------------------------------------------------------
 * Determinism
 * ------------------------------------------------------------------------------------------------------------- */

enum { DET_V = 1000, DET_STEPS = 300 };

/* A fake model: the next row depends on the step and the last token only. */
static void fake_logits(float *row, uint32_t step, int32_t last) {
    uint64_t x = 0x9e3779b97f4a7c15ull * (step + 1) ^ (uint64_t)(last + 7) * 0xbf58476d1ce4e5b9ull;
    for (int i = 0; i < DET_V; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        row[i] = (float)((double)(x >> 40) / (double)(1 << 24) * 8.0 - 4.0);
    }
}

typedef struct generation {
    uint64_t seed;
    int32_t top_k;
    int32_t tokens[DET_STEPS];
} generation;

static px_llm_input det_params(uint64_t seed, int32_t top_k) {
    px_llm_input in = params(0.9f);
    in.seed = seed;
    in.top_k = top_k;
    in.top_p = 0.95f;
    in.min_p = 0.01f;
    in.repetition_penalty = 1.1f;
    in.frequency_penalty = 0.3f;
    in.presence_penalty = 0.2f;
    return in;
}

/* Generates gens[0..n) in lockstep, one sample of each per step: a batch. */
static int generate(generation *gens, int n) {
    llm_sampler *s[8];
    int32_t last[8];
    float row[DET_V];
    const int32_t prompt[] = {1, 2, 3, 500, 999};
    for (int j = 0; j < n; j++) {
        px_llm_input in = det_params(gens[j].seed, gens[j].top_k);
        s[j] = make(&in, DET_V);
        if (s[j] == NULL || llm_sampler_accept_prompt(s[j], prompt, 5) != PX_OK) return 0;
        last[j] = 3;
    }
    int ok = 1;
    for (uint32_t t = 0; t < DET_STEPS; t++) {
        for (int j = 0; j < n && ok; j++) {
            llm_sample_result r;
            fake_logits(row, t, last[j]);
            ok = llm_sampler_sample(s[j], row, NULL, &r) == PX_OK && llm_sampler_accept(s[j], r.token) == PX_OK;
            gens[j].tokens[t] = last[j] = r.token;
        }
    }
    for (int j = 0; j < n; j++) llm_sampler_free(s[j]);
    return ok;
}

#ifndef __STDC_NO_THREADS__
static int thread_main(void *arg) { return generate(arg, 1) ? 0 : 1; }
#endif

static void test_determinism(void) {
    static generation solo[4], again[4], batch[4], threaded[4];
    const uint64_t seeds[4] = {42, 42, 43, 7};
    const int32_t top_k[4] = {0, 0, 0, 40};
    for (int j = 0; j < 4; j++) {
        solo[j] = (generation){.seed = seeds[j], .top_k = top_k[j]};
        again[j] = batch[j] = threaded[j] = solo[j];
        CHECK(generate(&solo[j], 1) && generate(&again[j], 1), "generation failed");
    }
    CHECK(generate(batch, 4), "batch generation failed");
#ifndef __STDC_NO_THREADS__
    thrd_t th[4];
    for (int j = 0; j < 4; j++) CHECK(thrd_create(&th[j], thread_main, &threaded[j]) == thrd_success, "thread");
    for (int j = 0; j < 4; j++) {
        int rc = 1;
        thrd_join(th[j], &rc);
        CHECK(rc == 0, "threaded generation failed");
    }
#else
    for (int j = 0; j < 4; j++) CHECK(generate(&threaded[j], 1), "generation failed"); /* no C11 threads here */
#endif
    for (int j = 0; j < 4; j++) {
        CHECK(memcmp(solo[j].tokens, again[j].tokens, sizeof solo[j].tokens) == 0, "seed %d: reruns differ",
              (int)seeds[j]);
        CHECK(memcmp(solo[j].tokens, batch[j].tokens, sizeof solo[j].tokens) == 0, "seed %d: batch changes it",
              (int)seeds[j]);
        CHECK(memcmp(solo[j].tokens, threaded[j].tokens, sizeof solo[j].tokens) == 0,
              "seed %d: threads change it", (int)seeds[j]);
    }
    int same = 0;
    for (int t = 0; t < DET_STEPS; t++) same += solo[0].tokens[t] == solo[2].tokens[t];
    CHECK(same < DET_STEPS / 4, "seeds 42 and 43 agree on %d of %d tokens", same, DET_STEPS);
    int distinct = 0;
    for (int t = 1; t < DET_STEPS; t++) distinct += solo[0].tokens[t] != solo[0].tokens[t - 1];
    CHECK(distinct > DET_STEPS / 2, "generation barely varies (%d changes)", distinct);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Performance on a 262,144-token row
 * ------------------------------------------------------------------------------------------------------------- */

enum { PERF_V = 262144, PERF_SAMPLES = 1000, PERF_SAMPLES_EXTRA = 200 };
static float *perf_peaked, *perf_flat;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static void perf_rows(void) {
    perf_peaked = malloc(PERF_V * sizeof(float));
    perf_flat = malloc(PERF_V * sizeof(float));
    /* peaked: a language model's usual shape, a broad bulk and a few tokens far above it; flat: the bulk only */
    for (int i = 0; i < PERF_V; i++) perf_flat[i] = perf_peaked[i] = test_normal() * 2.0f;
    for (int j = 0; j < 30; j++) perf_peaked[(int)(test_uniform() * PERF_V)] += 12.0f + 0.4f * (float)j;
}

/* ms per sample over `samples` samples, the row copy subtracted. */
static double perf_run(px_llm_input in, const float *base, int samples, int *ok) {
    float *row = malloc(PERF_V * sizeof *row);
    llm_sampler *s = make(&in, PERF_V);
    *ok = s != NULL;
    double t0 = now_s();
    for (int i = 0; i < samples; i++) memcpy(row, base, PERF_V * sizeof *row);
    double t1 = now_s();
    llm_sample_result r;
    for (int i = 0; *ok && i < samples; i++) {
        memcpy(row, base, PERF_V * sizeof *row);
        *ok = llm_sampler_sample(s, row, NULL, &r) == PX_OK;
    }
    double t2 = now_s();
    llm_sampler_free(s);
    free(row);
    return ((t2 - t1) - (t1 - t0)) * 1e3 / samples;
}

static void perf_case(px_llm_input in, const float *base, int samples) {
    int ok;
    double ms = perf_run(in, base, samples, &ok);
    CHECK(ok, "sampling failed");
    snprintf(note, sizeof note, "%.4f ms/sample (262144 tokens, %d samples)", ms, samples);
}

static void test_perf_greedy(void) { perf_case(params(0.0f), perf_peaked, PERF_SAMPLES); }

static void test_perf_top_k(void) {
    px_llm_input in = params(0.8f);
    in.top_k = 40;
    perf_case(in, perf_peaked, PERF_SAMPLES);
}

static void test_perf_top_p_peaked(void) {
    px_llm_input in = params(0.8f);
    in.top_p = 0.9f;
    perf_case(in, perf_peaked, PERF_SAMPLES);
}

static void test_perf_top_p_flat(void) {
    px_llm_input in = params(0.8f);
    in.top_p = 0.9f;
    perf_case(in, perf_flat, PERF_SAMPLES_EXTRA);
}

static void test_perf_temperature(void) { perf_case(params(1.0f), perf_peaked, PERF_SAMPLES_EXTRA); }

static void test_perf_full_chain(void) {
    px_llm_input in = params(1.0f);
    in.top_k = 40;
    in.top_p = 0.95f;
    in.min_p = 0.05f;
    in.flags = PX_LLM_LOGPROBS;
    in.n_top_logprobs = 5;
    in.repetition_penalty = 1.1f;
    perf_case(in, perf_peaked, PERF_SAMPLES_EXTRA);
}

static void test_perf_top_k_5000(void) {
    px_llm_input in = params(1.0f);
    in.top_k = 5000;
    perf_case(in, perf_peaked, PERF_SAMPLES_EXTRA);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Main
 * ------------------------------------------------------------------------------------------------------------- */

int main(void) {
    run("greedy equals argmax", test_greedy_is_argmax);
    run("greedy ties go to the lowest id", test_greedy_ties_lowest_id);
    run("mask: greedy and sampled tokens stay allowed", test_mask_greedy_and_sampled);
    run("nothing allowed is an error", test_nothing_allowed_is_an_error);
    run("parameter validation names the parameter", test_parameter_validation);
    run("stop tokens", test_stop_tokens);
    run("history: accept, errors, reset, growth", test_history_accept_and_reset);
    run("tiny and odd vocabularies", test_tiny_and_odd_vocabularies);
    run("llm_exp accuracy", test_exp_accuracy);
    run("golden file reads", test_golden_file_reads);
    char name[160];
    for (int i = 0; i < n_goldens; i++) {
        for (int route = 0; route < 2; route++) {
            current = &goldens[i];
            current_limit = route == 0 ? LLM_SAMPLER_CANDIDATES : 0;
            snprintf(name, sizeof name, "golden %.63s (%s)", goldens[i].name, route == 0 ? "default route" : "radix");
            run(name, test_golden_case);
        }
    }
    run("chi-square helper matches scipy", test_gamma_q_values);
    run("chi-square 200k draws, list route", test_chi_square_list);
    run("chi-square 200k draws, radix route", test_chi_square_radix);
    run("chi-square 200k draws, nucleus list (top-p, min-p)", test_chi_square_nucleus);
    run("chi-square 200k draws, temperature only", test_chi_square_temperature);
    run("chi-square 200k draws, top-p over ties", test_chi_square_top_p_ties);
    run("determinism: seed, batch, threads", test_determinism);
    perf_rows();
    run("perf greedy", test_perf_greedy);
    run("perf top_k 40, T 0.8", test_perf_top_k);
    run("perf top_p 0.9, T 0.8, peaked row", test_perf_top_p_peaked);
    run("perf top_p 0.9, T 0.8, flat row (radix)", test_perf_top_p_flat);
    run("perf temperature 1 only (radix)", test_perf_temperature);
    run("perf top_k 40, top_p 0.95, min_p 0.05, rep 1.1, logprobs 5", test_perf_full_chain);
    run("perf top_k 5000 (radix)", test_perf_top_k_5000);
    free(perf_peaked), free(perf_flat);
    free_goldens();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
