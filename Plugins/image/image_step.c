/*
 * image_step.c — one step of the image plugin: plan (cancelled items end, the others get min(units, remaining)
 * denoise steps), then rounds: in each, every image still due a denoise step runs one, images of the same size
 * together as one parallel_for batch (each with its own request's timestep and class), and every request that
 * advanced reports progress. A request whose last step ran emits its images and FINAL(STOP).
 */
#include "image_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static px_status finish(const px_host *host, px_request *request, uint32_t reason, px_status status, const char *message) {
    px_final final = {PX_HEADER_INIT(px_final), reason, status, message};
    request->ended = 1;
    return host->emit_final(host, request->sink, &final);
}

/* Ends cancelled items and lists the requests that run denoise steps now (m->active) with their share (todo). */
static px_status plan(px_model *m, const px_step *step, uint32_t *n_active) {
    const px_host *host = m->host;
    char message[160];
    if (step->n_items > m->max_items) {
        snprintf(message, sizeof message, "the step has %u items, more than max_batch_items %u", step->n_items, m->max_items);
        return image_fail(host, PX_ERR_INVALID_ARGUMENT, message);
    }
    *n_active = 0;
    for (uint32_t i = 0; i < step->n_items; i++) {
        const px_step_item *item = PX_AT(px_step_item, step->items, step->item_stride, i);
        if (!PX_HAS_FIELD(item, px_step_item, units))
            return image_fail(host, PX_ERR_VERSION, "the step's items are too small to carry units");
        px_request *request = item->request;
        if (request->ended) continue;
        if (host->is_cancelled(host, item->sink)) {
            px_status status = finish(host, request, PX_FINISH_CANCELLED, PX_OK, NULL);
            if (status != PX_OK) return status;
            continue;
        }
        if (request->todo > 0) return image_fail(host, PX_ERR_INVALID_ARGUMENT, "a request appears twice in one step");
        uint32_t remaining = request->sampling.n_steps - request->done;
        request->todo = item->units < remaining ? item->units : remaining;
        if (request->todo > 0) m->active[(*n_active)++] = request;
    }
    return PX_OK;
}

/* The addresses of this call: weights, scratch and every active request's x (the host may move buffers between
 * calls, weights in particular). */
static px_status resolve(px_model *m, const px_step *step, uint32_t n_active, image_weights *weights, float **scratch) {
    const px_host *host = m->host;
    px_stream_info info = {PX_HEADER_INIT(px_stream_info), 0, 0, 0, 0, NULL, 0, 0};
    px_status status = host->stream_info(host, step->stream, &info);
    if (status != PX_OK) return status;
    if (info.cpu_workers > m->workers)
        return image_fail(host, PX_ERR_INTERNAL, "the step's stream has more CPU workers than the scratch was sized for");
    px_buffer_view view = {PX_HEADER_INIT(px_buffer_view), NULL, 0, 0, 0, 0};
    if ((status = host->mem_address(host, m->weights, &view)) != PX_OK) return status;
    if (view.host == NULL || view.bytes < m->layout.total_bytes)
        return image_fail(host, PX_ERR_INTERNAL, "the image weights are not host-addressable in this step");
    image_weights_bind(&m->layout, view.host, weights);
    if ((status = host->mem_address(host, m->scratch, &view)) != PX_OK) return status;
    *scratch = view.host;
    for (uint32_t i = 0; i < n_active; i++) {
        px_request *request = m->active[i];
        if ((status = host->mem_address(host, request->latents, &view)) != PX_OK) return status;
        request->x = view.host;
    }
    return PX_OK;
}

/* What every task of a batch shares. */
typedef struct batch_job {
    const image_weights *weights;
    const image_schedule *schedule;
    const image_task *tasks;  /* [n] the batch's images, all of one size */
    float *scratch;           /* [workers, worker_floats] */
    uint64_t worker_floats;
} batch_job;

/* One image's next denoise step, at its own request's timestep and class. [worker] */
static void denoise_task(void *context, uint32_t index, uint32_t worker) {
    const batch_job *job = context;
    const image_task *task = &job->tasks[index];
    px_request *request = task->request;
    uint64_t plane = (uint64_t)request->sampling.height * request->sampling.width;
    image_denoise_step(job->weights, job->schedule, &request->sampling, request->done, request->x + task->image * plane,
                       job->scratch + worker * job->worker_floats, NULL);
}

static int by_size(const void *a, const void *b) {
    const image_sampling *x = &((const image_task *)a)->request->sampling, *y = &((const image_task *)b)->request->sampling;
    if (x->height != y->height) return x->height < y->height ? -1 : 1;
    return x->width < y->width ? -1 : x->width > y->width;
}

/* One round: one denoise step of every image whose request is due `round + 1` or more steps in this step. */
static px_status run_round(px_model *m, px_stream *stream, uint32_t n_active, uint32_t round, batch_job *job) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < n_active; i++) {
        px_request *request = m->active[i];
        if (request->todo <= round) continue;
        for (uint32_t j = 0; j < request->n_images; j++) m->tasks[n++] = (image_task){request, j};
    }
    qsort(m->tasks, n, sizeof *m->tasks, by_size);
    for (uint32_t start = 0, end; start < n; start = end) {
        for (end = start + 1; end < n && by_size(&m->tasks[start], &m->tasks[end]) == 0; end++) {}
        job->tasks = m->tasks + start;
        px_status status = m->host->parallel_for(m->host, stream, end - start, denoise_task, job);
        if (status != PX_OK) return status;
    }
    for (uint32_t i = 0; i < n_active; i++) {
        px_request *request = m->active[i];
        if (request->todo <= round) continue;
        request->done++;
        px_status status = m->host->emit_progress(m->host, request->sink, request->done, request->sampling.n_steps);
        if (status != PX_OK) return status;
    }
    return PX_OK;
}

/* Every image of a finished request as u8 [H, W, 3] (the gray value in each channel), then FINAL(STOP). `rgb` holds
 * one image. */
static px_status emit_images(const px_host *host, px_request *request, uint8_t *rgb) {
    const uint32_t H = request->sampling.height, W = request->sampling.width;
    const uint64_t plane = (uint64_t)H * W;
    for (uint32_t j = 0; j < request->n_images; j++) {
        const double *x = request->x + j * plane;
        for (uint64_t p = 0; p < plane; p++) rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = image_pixel(x[p]);
        px_tensor_out out;
        memset(&out, 0, sizeof out);
        out.header = (px_header)PX_HEADER_INIT(px_tensor_out);
        out.role = PX_OUT_IMAGE;
        out.index = j;
        out.tensor.header = (px_header)PX_HEADER_INIT(px_tensor);
        out.tensor.dtype = PX_DTYPE_U8;
        out.tensor.ndim = 3;
        out.tensor.shape[0] = H;
        out.tensor.shape[1] = W;
        out.tensor.shape[2] = 3;
        out.tensor.data = rgb;
        out.tensor.bytes = plane * 3;
        px_status status = host->emit_tensor(host, request->sink, &out);
        if (status != PX_OK) return status;
    }
    return finish(host, request, PX_FINISH_STOP, PX_OK, NULL);
}

px_status image_step(px_model *m, const px_step *step) {
    uint32_t n_active = 0, rounds = 0;
    px_status status = plan(m, step, &n_active);
    if (status != PX_OK || n_active == 0) return status;
    image_weights weights;
    float *scratch = NULL;
    if ((status = resolve(m, step, n_active, &weights, &scratch)) != PX_OK) return status;
    batch_job job = {&weights, &m->schedule, NULL, scratch, m->worker_floats};
    for (uint32_t i = 0; i < n_active; i++) rounds = m->active[i]->todo > rounds ? m->active[i]->todo : rounds;
    for (uint32_t round = 0; status == PX_OK && round < rounds; round++) status = run_round(m, step->stream, n_active, round, &job);
    for (uint32_t i = 0; i < n_active; i++) {
        px_request *request = m->active[i];
        request->todo = 0;
        if (status == PX_OK && request->done == request->sampling.n_steps)
            status = emit_images(m->host, request, (uint8_t *)scratch); /* the scratch is free once the rounds ran */
    }
    return status;
}
