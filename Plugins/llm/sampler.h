/*
 * sampler.h — the token sampler of the LLM plugin: one llm_sampler per request turns a logits row into the next
 * token, following Specs/sampling.md (the contract: chain order, parameter ranges, logprobs, determinism).
 *
 * Chain, on one f32 row [n_vocab] that the caller lends as scratch:
 *   allowed mask -> penalties -> (logprobs taken here) -> temperature == 0 ? argmax
 *                                                       : temperature -> top-k -> top-p -> min-p -> draw
 *
 * Threading: an llm_sampler belongs to one request and is used by one thread at a time (the plugin's [model]
 * calls are serialized per model). Nothing here is shared between samplers, so results do not depend on batch
 * composition or on which thread samples.
 */
#ifndef PLEXUS_LLM_SAMPLER_H
#define PLEXUS_LLM_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "plexus_plugin.h"

/** Most alternatives a sample reports (px_llm_input.n_top_logprobs, px_tokens_out.n_top). */
#define LLM_SAMPLER_MAX_TOP 20

/** Most candidates a sampler lists: top-k up to this size runs on a heap, and a top-p / min-p nucleus up to this
 *  size is collected and sorted; anything larger takes the radix path, which needs no list (see sampler.c). */
#define LLM_SAMPLER_CANDIDATES 1024

/** One request's sampling state: parameters, RNG, token history for penalties, candidate workspace. */
typedef struct llm_sampler llm_sampler;

/** What one sample produced. */
typedef struct llm_sample_result {
    int32_t token;   /**< the sampled token */
    float logprob;   /**< log p(token) (Specs/sampling.md "Logprobs"); 0 when the request asked for no logprobs */
    uint32_t n_top;  /**< = n_top_logprobs of the request (0..20) */
    int32_t top_tokens[LLM_SAMPLER_MAX_TOP];  /**< [n_top] most likely first (ties: lower id first); -1 when fewer
                                                    than n_top tokens are allowed */
    float top_logprobs[LLM_SAMPLER_MAX_TOP];  /**< [n_top] their log p, descending; -INFINITY where token is -1 */
} llm_sample_result;

/** Creates the sampler of one request from its input (borrowed during the call: stop_tokens are copied).
 *  Returns NULL and writes a message to err (errlen bytes, may be 0) on a parameter out of range or on
 *  allocation failure; the messages name the parameter, its range and the value received. */
llm_sampler *llm_sampler_create(const px_llm_input *input, int32_t n_vocab, char *err, size_t errlen);

/** Frees a sampler (NULL is a no-op). */
void llm_sampler_free(llm_sampler *sampler);

/** Records prompt tokens for the repetition penalty. Call it once per prompt token, in any chunking (prefill
 *  chunks). Returns PX_ERR_INVALID_ARGUMENT for a token outside [0, n_vocab), PX_ERR_OUT_OF_MEMORY when the
 *  history cannot grow; on failure the tokens before the failing one stay recorded. */
px_status llm_sampler_accept_prompt(llm_sampler *sampler, const int32_t *tokens /* (borrowed during the call) [n] */,
                                    uint32_t n);

/** Records one output token (the one just emitted, or one replayed after preemption) for the penalties. Same
 *  errors as llm_sampler_accept_prompt. O(1) amortized. */
px_status llm_sampler_accept(llm_sampler *sampler, int32_t token);

/** Forgets the token history (prompt and output) but keeps the RNG state: for a sequence restart (pos 0) after
 *  preemption, whose replay then calls accept_prompt / accept again (Specs/plugin-abi.md §8). */
void llm_sampler_reset_history(llm_sampler *sampler);

/** Samples the next token from logits [n_vocab] f32 (modified: the row is the sampler's scratch; its contents
 *  after the call are unspecified). allowed: NULL = every token, else a bitset [ceil(n_vocab / 32)] (borrowed
 *  during the call). Does not allocate. Does not record the token: call llm_sampler_accept after emitting it.
 *  Returns PX_ERR_INVALID_ARGUMENT when no token can be taken (every allowed token has a NaN or -inf logit);
 *  out is untouched then. NaN logits count as -inf, +inf as the largest finite float. */
px_status llm_sampler_sample(llm_sampler *sampler, float *logits, const uint32_t *allowed, llm_sample_result *out);

/** Nonzero when token is one of the request's stop tokens. */
int llm_sampler_is_stop(const llm_sampler *sampler, int32_t token);

/** 1 when sampling is the row's argmax and nothing else: greedy, no penalties, no logprobs. */
int llm_sampler_is_plain_greedy(const llm_sampler *sampler);

/** The vocabulary size the sampler was created for. */
int32_t llm_sampler_n_vocab(const llm_sampler *sampler);

/* -- for tests and debugging ---------------------------------------------------------------------------------- */

/** Runs the chain on logits like llm_sampler_sample, without drawing and without touching the RNG, and writes the
 *  final distribution: probs[n_vocab] (0 for every token the chain removed; one-hot for greedy) and, when logprobs
 *  is not NULL, logprobs[n_vocab] (the log-softmax the samples report; -INFINITY for masked tokens). Same errors
 *  as llm_sampler_sample. */
px_status llm_sampler_distribution(llm_sampler *sampler, float *logits, const uint32_t *allowed,
                                   double *probs /* [n_vocab] */, double *logprobs /* [n_vocab] or NULL */);

/** Caps the candidate slots the sampler may use (0..LLM_SAMPLER_CANDIDATES), so tests can force the radix path
 *  on small vocabularies; the result must not change, only the route to it. */
void llm_sampler_set_candidate_limit(llm_sampler *sampler, uint32_t limit);

#endif
