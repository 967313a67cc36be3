/*
 * llm_request.c — one sequence's state: its sink, its sampler (parameters, RNG, penalty history) and counters.
 */
#include "llm_plugin.h"

#include <stdio.h>
#include <stdlib.h>

px_status llm_request_create(px_model *m, const px_request_desc *desc, px_request **out_request) {
    const px_host *host = m->host;
    const px_llm_input *input = desc->input;
    if (desc->kind != PX_KIND_LLM || input == NULL || !PX_HAS_FIELD(input, px_llm_input, stop_tokens))
        return llm_fail(host, PX_ERR_INVALID_ARGUMENT, "the LLM plugin takes PX_KIND_LLM requests with a px_llm_input");
    if (input->n_images > 0) return llm_fail(host, PX_ERR_UNSUPPORTED, "this model has no vision encoder");
    if (input->n_prompt_tokens > m->context_length) {
        char message[160];
        snprintf(message, sizeof message, "prompt of %u tokens exceeds the context of %u", input->n_prompt_tokens, m->context_length);
        return llm_fail(host, PX_ERR_INVALID_ARGUMENT, message);
    }
    struct px_request *request = calloc(1, sizeof *request);
    if (request == NULL) return llm_fail(host, PX_ERR_OUT_OF_MEMORY, "out of memory");
    char error[256] = {0};
    request->sampler = llm_sampler_create(input, (int32_t)m->hp.n_vocab, error, sizeof error);
    if (request->sampler == NULL) {
        free(request);
        return llm_fail(host, PX_ERR_INVALID_ARGUMENT, error[0] ? error : "invalid sampling parameters");
    }
    request->sink = desc->sink;
    request->n_prompt = input->n_prompt_tokens;
    request->max_new_tokens = input->max_new_tokens;
    request->logprobs = (input->flags & PX_LLM_LOGPROBS) != 0 || input->n_top_logprobs > 0;
    *out_request = request;
    return PX_OK;
}

void llm_request_destroy(px_model *m, px_request *request) {
    (void)m;
    llm_sampler_free(request->sampler);
    free(request);
}
