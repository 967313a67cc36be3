/*
 * plexus_plugin.h — the Plexus plugin ABI, version 1.
 *
 * A Plexus plugin is a shared library (`libplexus-<name>.so`) that exports ONE symbol, `plexus_plugin_entry`, a
 * constant `px_entry`. The host (the `plexus` process) loads it with dlopen(RTLD_NOW | RTLD_LOCAL), never unloads
 * it, and drives it through the function tables declared here. Specs/plugin-abi.md is the contract in prose;
 * this header implements it. Plain C11, fixed-width types, no host internals: any language that can export a C
 * symbol can target it.
 *
 * Conventions used on every declaration below:
 *  - Thread roles, in brackets on each function:
 *      [control] host's control thread for this plugin; never concurrent with another [control] call into the
 *                same plugin; may run concurrently with [model] calls of models that are not its argument.
 *      [model]   calls on one px_model are serialized by the host (never two at once on the same model) but may
 *                come from any host thread; calls on different models may run concurrently. Host services marked
 *                [model] may also be called from model_create, for the model being created.
 *      [worker]  a host CPU worker thread running a parallel_for task.
 *      [any]     any thread, at any time, concurrently.
 *  - Ownership, in parentheses on each pointer: (borrowed until X) means the callee reads it until X and must copy
 *    what it needs longer; (owned by host) / (owned by plugin) name who frees. The allocating side frees.
 *  - Every struct that crosses the boundary starts with px_header {size, version}. `size` is sizeof() as compiled by
 *    the side that filled it. Structs only grow at the end; a reader never touches a field that lies beyond `size`
 *    (use PX_HAS_FIELD). Enum values are explicit and are never renumbered.
 *  - Every fallible function returns px_status. On a non-OK status, call host->set_error() first with a message
 *    (the host copies it). Results travel through out-parameters, which are untouched on failure.
 *  - Nothing unwinds across the boundary: no C++ exceptions, longjmp, exit(), abort() or signals from a plugin.
 */
#ifndef PLEXUS_PLUGIN_H
#define PLEXUS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------------------------
 * Versions, export, status codes
 * ------------------------------------------------------------------------------------------------------------- */

/** ABI major version: a host refuses a plugin whose major differs. Bumped only for incompatible changes. */
#define PX_ABI_MAJOR 1u
/** ABI minor version: grows when fields or functions are appended. Host and plugin use min(host, plugin).
 *  1.1: graph functions. 1.2: the host may move a request's KV pages between steps (Specs/plugin-abi.md §8). */
#define PX_ABI_MINOR 2u

/** Name of the one symbol a plugin exports. */
#define PX_ENTRY_SYMBOL "plexus_plugin_entry"

#if defined(_WIN32)
#define PX_EXPORT __declspec(dllexport)
#else
#define PX_EXPORT __attribute__((visibility("default")))
#endif

/** Status of every fallible call. 0 is success; the values below are fixed forever. */
typedef int32_t px_status;
enum {
    PX_OK = 0,
    PX_ERR_INVALID_ARGUMENT = 1, /**< bad option, bad input shape, value out of range */
    PX_ERR_UNSUPPORTED = 2,      /**< feature, device, dtype or kind not available */
    PX_ERR_NOT_FOUND = 3,        /**< file, tensor, key or kernel not found */
    PX_ERR_OUT_OF_MEMORY = 4,    /**< a host pool or the plugin ran out of memory */
    PX_ERR_IO = 5,               /**< reading a file failed */
    PX_ERR_FORMAT = 6,           /**< a file is malformed, truncated or hostile */
    PX_ERR_CANCELLED = 7,        /**< the request was cancelled */
    PX_ERR_DEVICE = 8,           /**< the device failed (launch error, lost context) */
    PX_ERR_BUSY = 9,             /**< try later: resources are temporarily exhausted */
    PX_ERR_INTERNAL = 10,        /**< a bug: an invariant of the plugin or host broke */
    PX_ERR_VERSION = 11          /**< incompatible versions or a struct too small to use */
};

/** First member of every boundary struct. */
typedef struct px_header {
    uint32_t size;    /**< sizeof(the struct) as compiled by the side that filled it */
    uint32_t version; /**< revision of the struct's layout; 1 for everything in ABI 1.0 */
} px_header;

/** Initializer for a header: `px_step s = { PX_HEADER_INIT(px_step) };` */
#define PX_HEADER_INIT(type) { (uint32_t)sizeof(type), 1u }

/** True when `field` of struct `type` lies inside the `size` the filler declared for `ptr`. */
#define PX_HAS_FIELD(ptr, type, field) \
    ((ptr) != NULL && (size_t)(ptr)->header.size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* ---------------------------------------------------------------------------------------------------------------
 * Opaque handles
 * ------------------------------------------------------------------------------------------------------------- */

/* Plugin-owned: created and destroyed by the plugin, only passed back by the host. */
typedef struct px_plugin px_plugin;   /**< one initialized plugin instance (from px_entry.init) */
typedef struct px_model px_model;     /**< one loaded model (from px_model_api.model_create) */
typedef struct px_request px_request; /**< one request's state inside a model (from px_model_api.request_create) */

/* Host-owned: created and destroyed by the host (or by host services the plugin calls). */
typedef struct px_scope px_scope;       /**< owner of allocations, modules and events: a plugin or a model */
typedef struct px_buffer px_buffer;     /**< one allocation from a host memory pool */
typedef struct px_stream px_stream;     /**< an ordered queue of work on one device (CPU queue or CUDA stream) */
typedef struct px_event px_event;       /**< a marker recorded on a stream */
typedef struct px_sink px_sink;         /**< where one request's outputs go; also its cancel flag */
typedef struct px_module px_module;     /**< a compiled device code module (NVRTC + cubin cache) */
typedef struct px_function px_function; /**< one kernel inside a px_module */
typedef struct px_graph px_graph;       /**< recorded stream work replayed as one launch (a CUDA graph); ABI 1.1 */

/* ---------------------------------------------------------------------------------------------------------------
 * Enumerations
 * ------------------------------------------------------------------------------------------------------------- */

/** What a model does. A plugin may serve several kinds; each model has exactly one. */
enum {
    PX_KIND_LLM = 1,       /**< token ids in; sampled tokens (and optionally logits) out; paged KV from the host */
    PX_KIND_IMAGE = 2,     /**< diffusion image: conditioning in; image tensors out; progress per denoise step */
    PX_KIND_VIDEO = 3,     /**< text-to-video: conditioning in; frames out; progress per denoise step */
    PX_KIND_VLM = 4,       /**< vision-language: an LLM whose token sequence holds image spans */
    PX_KIND_EMBEDDING = 5  /**< token ids in; one pooled embedding out */
};

/** Devices a model can run on. */
enum {
    PX_DEVICE_CPU = 0,
    PX_DEVICE_CUDA = 1
};

/** Where a host buffer lives. */
enum {
    PX_MEMORY_HOST = 0,        /**< pageable host memory */
    PX_MEMORY_PINNED_HOST = 1, /**< page-locked host memory (fast DMA); plain host memory on a CPU-only host */
    PX_MEMORY_DEVICE = 2,      /**< memory of the model's device */
    PX_MEMORY_FILE = 3         /**< a read-only mmap of a file (from mem_map_file) */
};

/** What a buffer holds; drives eviction and admission. */
enum {
    PX_RESIDENCY_WEIGHTS = 0,     /**< model weights: evictable to pinned host memory as a unit */
    PX_RESIDENCY_KV = 1,          /**< KV cache or other per-sequence cache */
    PX_RESIDENCY_ACTIVATIONS = 2, /**< per-step activations and scratch: never evicted, sized for max batch */
    PX_RESIDENCY_STAGING = 3      /**< transfer staging */
};

/** Element types of tensors. */
enum {
    PX_DTYPE_F32 = 0,
    PX_DTYPE_F16 = 1,
    PX_DTYPE_BF16 = 2,
    PX_DTYPE_U8 = 3,
    PX_DTYPE_I8 = 4,
    PX_DTYPE_I32 = 5,
    PX_DTYPE_I64 = 6
};

/** Log levels. */
enum {
    PX_LOG_ERROR = 0,
    PX_LOG_WARNING = 1,
    PX_LOG_INFO = 2,
    PX_LOG_DEBUG = 3
};

/** Why a request ended (px_final.reason). */
enum {
    PX_FINISH_STOP = 0,      /**< natural end: a stop token, or all images / frames produced */
    PX_FINISH_LENGTH = 1,    /**< max_new_tokens reached */
    PX_FINISH_CANCELLED = 2, /**< the sink reported cancellation */
    PX_FINISH_ERROR = 3      /**< failed; px_final.status and .message say why */
};

/** What a tensor output is (px_tensor_out.role). */
enum {
    PX_OUT_LOGITS = 0,      /**< f32 [n_vocab] for one position */
    PX_OUT_EMBEDDING = 1,   /**< f32 [n_embd] */
    PX_OUT_IMAGE = 2,       /**< u8 [height, width, 3] RGB, or f32 [height, width, 3] in 0..1 */
    PX_OUT_VIDEO_FRAME = 3  /**< u8 [height, width, 3] RGB, index = frame number */
};

/** px_step_item.flags. */
enum {
    PX_ITEM_SAMPLE = 1u << 0, /**< after these tokens, sample one token and emit it */
    PX_ITEM_LOGITS = 1u << 1, /**< after these tokens, emit the logits of the last position */
    PX_ITEM_EMBED = 1u << 2   /**< after these tokens (the whole input), emit the pooled embedding */
};

/* ---------------------------------------------------------------------------------------------------------------
 * Plain data shared by several calls
 * ------------------------------------------------------------------------------------------------------------- */

/** Maximum tensor rank. */
#define PX_MAX_DIMS 8

/** A dense, row-major tensor in host memory. */
typedef struct px_tensor {
    px_header header;
    uint32_t dtype;             /**< PX_DTYPE_* */
    uint32_t ndim;              /**< 1..PX_MAX_DIMS */
    int64_t shape[PX_MAX_DIMS]; /**< [ndim] outermost first; unused dims 0 */
    const void *data;           /**< (borrowed; lifetime stated where the tensor is passed) row-major, contiguous */
    uint64_t bytes;             /**< size of data in bytes; equals product(shape) * sizeof(dtype) */
} px_tensor;

/** One catalog option: a key and its value rendered as text ("4096", "true", "f16"). Frozen for ABI 1.x: it has
 *  no header, and arrays of it have no stride. */
typedef struct px_option {
    const char *key;   /**< (borrowed, see px_model_desc) */
    const char *value; /**< (borrowed, see px_model_desc) */
} px_option;

/* ---------------------------------------------------------------------------------------------------------------
 * Host services: the table the host hands to the plugin at init. Valid until deinit returns.
 * ------------------------------------------------------------------------------------------------------------- */

/** What a buffer is for and where it lives (mem_alloc). */
typedef struct px_alloc_desc {
    px_header header;
    uint64_t bytes;     /**< > 0 */
    uint32_t alignment; /**< power of two, 0 = 256 */
    uint32_t memory;    /**< PX_MEMORY_HOST / PINNED_HOST / DEVICE */
    uint32_t residency; /**< PX_RESIDENCY_* */
    uint32_t flags;     /**< 0 in ABI 1.0 */
    const char *label;  /**< (borrowed during the call; may be NULL) name shown in logs and metrics */
} px_alloc_desc;

/** The current location of a buffer (mem_address). */
typedef struct px_buffer_view {
    px_header header;
    void *host;      /**< host-addressable pointer, or NULL for device memory */
    uint64_t device; /**< device address (CUdeviceptr) for device memory, else 0 */
    uint64_t bytes;  /**< usable size */
    uint32_t memory; /**< PX_MEMORY_* where the buffer lives now */
    uint32_t reserved;
} px_buffer_view;

/** What a stream runs on (stream_info). */
typedef struct px_stream_info {
    px_header header;
    uint32_t device;       /**< PX_DEVICE_* */
    uint32_t device_index; /**< ordinal of the device of this kind */
    uint32_t cpu_workers;  /**< number of worker threads parallel_for uses on this host */
    int32_t priority;      /**< lower is more urgent (CUDA convention); 0 on CPU */
    void *native;          /**< (owned by host) CUstream for CUDA streams, NULL on CPU; never destroy or sync it */
    uint32_t arch;         /**< CUDA compute capability as major*10+minor (90 = sm_90), 0 on CPU */
    uint32_t reserved;
} px_stream_info;

/** CUDA C source to compile with NVRTC (module_compile). */
typedef struct px_kernel_source {
    px_header header;
    const char *name;                /**< (borrowed during the call) program name for logs, e.g. "llm_matvec.cu" */
    const char *source;              /**< (borrowed during the call) NUL-terminated CUDA C source */
    const char *const *options;      /**< (borrowed during the call) [n_options] extra NVRTC options, may be NULL */
    uint32_t n_options;
    uint32_t reserved;
} px_kernel_source;

/** Launch geometry (launch). */
typedef struct px_launch {
    px_header header;
    uint32_t grid[3];
    uint32_t block[3];
    uint32_t shared_bytes; /**< dynamic shared memory */
    uint32_t reserved;
} px_launch;

/** Body of a parallel_for task: runs for index in [0, n) on host worker threads. [worker] */
typedef void (*px_task_fn)(void *context, uint32_t index, uint32_t worker);

/** Sampled tokens for one request (emit_tokens). */
typedef struct px_tokens_out {
    px_header header;
    const int32_t *tokens;       /**< (borrowed during the call) [n_tokens] */
    uint32_t n_tokens;
    uint32_t n_top;              /**< alternatives per token in top_tokens / top_logprobs (0..20) */
    const float *logprobs;       /**< (borrowed during the call) [n_tokens] log p of each token, or NULL */
    const int32_t *top_tokens;   /**< (borrowed during the call) [n_tokens, n_top], or NULL */
    const float *top_logprobs;   /**< (borrowed during the call) [n_tokens, n_top], or NULL */
} px_tokens_out;

/** A tensor output for one request (emit_tensor). */
typedef struct px_tensor_out {
    px_header header;
    uint32_t role;    /**< PX_OUT_* */
    uint32_t index;   /**< image number, frame number, or position for logits */
    px_tensor tensor; /**< data in host memory (borrowed during the call; the host copies) */
} px_tensor_out;

/** The one final output of a request (emit_final). */
typedef struct px_final {
    px_header header;
    uint32_t reason;     /**< PX_FINISH_* */
    px_status status;    /**< PX_OK unless reason is PX_FINISH_ERROR */
    const char *message; /**< (borrowed during the call; may be NULL) human-readable cause for errors */
} px_final;

/** The host's services. Every function takes the table itself as first argument. */
typedef struct px_host {
    px_header header;
    uint32_t abi_major;  /**< PX_ABI_MAJOR of the host */
    uint32_t abi_minor;  /**< PX_ABI_MINOR of the host */
    const char *name;    /**< (owned by host, static) "plexus" */
    const char *version; /**< (owned by host, static) host version string */

    /* -- errors and logging ------------------------------------------------------------------------------------ */

    /** Attach a message to the non-OK status this thread is about to return. The host copies it. [any] */
    void (*set_error)(const struct px_host *host, const char *message /* (borrowed during the call) */);
    /** Log a line attributed to `scope` (NULL = the plugin). The host copies it. [any] */
    void (*log)(const struct px_host *host, px_scope *scope, uint32_t level,
                const char *message /* (borrowed during the call) */);
    /** A host extension table by id ("plexus.<name>/<rev>"), or NULL. Lives until deinit returns. [any] */
    const void *(*get_extension)(const struct px_host *host, const char *id /* (borrowed during the call) */);

    /* -- memory pools -------------------------------------------------------------------------------------------- */

    /** Allocate from a host pool on behalf of `scope`. Free with mem_free before the scope ends. [any] */
    px_status (*mem_alloc)(const struct px_host *host, px_scope *scope, const px_alloc_desc *desc,
                           px_buffer **out_buffer /* (owned by plugin until mem_free) */);
    /** Map `bytes` of a file at `offset` read-only (PX_MEMORY_FILE, residency weights); bytes 0 = to the end. [any] */
    px_status (*mem_map_file)(const struct px_host *host, px_scope *scope,
                              const char *path /* (borrowed during the call) */, uint64_t offset, uint64_t bytes,
                              px_buffer **out_buffer /* (owned by plugin until mem_free) */);
    /** Release a buffer. NULL is ignored. [any] */
    void (*mem_free)(const struct px_host *host, px_buffer *buffer);
    /** Where a buffer is now. Valid until the current call into the plugin returns: the host may move weights
     *  between tiers between calls, so re-query at the start of every step. [model] */
    px_status (*mem_address)(const struct px_host *host, px_buffer *buffer, px_buffer_view *out_view);
    /** Enqueue a copy of `src` host bytes into `dst` at `offset`. The host copies `src` before returning. [model] */
    px_status (*mem_write)(const struct px_host *host, px_stream *stream, px_buffer *dst, uint64_t offset,
                           const void *src /* (borrowed during the call) */, uint64_t bytes);
    /** Enqueue a copy from `src` at `offset` into host memory `dst`; complete once the stream passes it (on CPU:
     *  on return; on CUDA: by step_finish). [model] */
    px_status (*mem_read)(const struct px_host *host, px_stream *stream, void *dst /* (borrowed until complete) */,
                          px_buffer *src, uint64_t offset, uint64_t bytes);
    /** Enqueue a buffer-to-buffer copy. [model] */
    px_status (*mem_copy)(const struct px_host *host, px_stream *stream, px_buffer *dst, uint64_t dst_offset,
                          px_buffer *src, uint64_t src_offset, uint64_t bytes);

    /* -- streams, events, CPU parallelism --------------------------------------------------------------------------- */

    /** Describe a stream. [any] */
    px_status (*stream_info)(const struct px_host *host, px_stream *stream, px_stream_info *out_info);
    /** Wait until everything enqueued on `stream` so far has completed. Only at the end of model_create, on its
     *  load_stream. [model] */
    px_status (*stream_synchronize)(const struct px_host *host, px_stream *stream);
    /** Create an event owned by `scope`. [any] */
    px_status (*event_create)(const struct px_host *host, px_scope *scope,
                              px_event **out_event /* (owned by plugin until event_destroy) */);
    /** Record `event` at the current end of `stream`. [model] */
    px_status (*event_record)(const struct px_host *host, px_event *event, px_stream *stream);
    /** Make `stream` wait for `event` (no host blocking). [model] */
    px_status (*event_wait)(const struct px_host *host, px_stream *stream, px_event *event);
    /** Milliseconds between two completed events. [any] */
    px_status (*event_elapsed_ms)(const struct px_host *host, px_event *start, px_event *end, double *out_ms);
    /** Destroy an event. NULL is ignored. [any] */
    void (*event_destroy)(const struct px_host *host, px_event *event);
    /** Run fn(context, i, worker) for every i in [0, n) on the host's CPU workers and return when all are done.
     *  `worker` is in [0, stream_info.cpu_workers) and is stable for a thread (index per-thread scratch with it).
     *  Tasks must not call parallel_for (a nested call runs inline). [model] */
    px_status (*parallel_for)(const struct px_host *host, px_stream *stream, uint32_t n, px_task_fn fn,
                              void *context /* (borrowed until parallel_for returns) */);

    /* -- device code (CUDA C compiled by NVRTC, cached on disk by the host) ----------------------------------------- */

    /** Compile CUDA C for the device of `stream` (cache keyed by source, options, arch and driver). PX_ERR_UNSUPPORTED
     *  on a host without CUDA. [control] or [model] */
    px_status (*module_compile)(const struct px_host *host, px_scope *scope, px_stream *stream,
                                const px_kernel_source *source,
                                px_module **out_module /* (owned by plugin until module_free) */);
    /** Look up a kernel (extern "C" name) in a module. The function lives as long as its module. [any] */
    px_status (*module_function)(const struct px_host *host, px_module *module,
                                 const char *name /* (borrowed during the call) */,
                                 px_function **out_function);
    /** Release a module and its functions. NULL is ignored. [control] or [model] */
    void (*module_free)(const struct px_host *host, px_module *module);
    /** Enqueue a kernel. args: array of pointers to each argument value (cuLaunchKernel convention), borrowed
     *  during the call. [model] */
    px_status (*launch)(const struct px_host *host, px_stream *stream, px_function *function,
                        const px_launch *config /* (borrowed during the call) */,
                        void **args /* (borrowed during the call) */);

    /* -- request sinks ---------------------------------------------------------------------------------------------- */

    /** Nonzero once the request should stop (client gone, stop string, deadline). Cheap; poll it. [any] */
    int32_t (*is_cancelled)(const struct px_host *host, px_sink *sink);
    /** Emit sampled tokens. All emit functions fail only with PX_ERR_INVALID_ARGUMENT (malformed output, unknown
     *  sink, or anything after FINAL) or PX_ERR_OUT_OF_MEMORY; their struct argument is borrowed during the call.
     *  [model] */
    px_status (*emit_tokens)(const struct px_host *host, px_sink *sink, const px_tokens_out *tokens);
    /** Emit a tensor (logits, embedding, image, frame). [model] */
    px_status (*emit_tensor)(const struct px_host *host, px_sink *sink, const px_tensor_out *tensor);
    /** Report progress (done of total units, e.g. denoise steps). Latest value wins; cheap. [model] */
    px_status (*emit_progress)(const struct px_host *host, px_sink *sink, uint32_t done, uint32_t total);
    /** End the request. Exactly once per request, also on cancel and error; nothing may follow. [model] */
    px_status (*emit_final)(const struct px_host *host, px_sink *sink, const px_final *final);

    /* -- graphs (ABI 1.1; check abi_minor >= 1 or PX_HAS_FIELD before use) ---------------------------------------- */

    /** Start recording `stream`: until graph_end, kernels launched on it are recorded, not run (CUDA stream
     *  capture). Only launch may be called on the stream meanwhile; mem_write / mem_read / mem_copy / event_record
     *  fail with PX_ERR_INVALID_ARGUMENT while recording. PX_ERR_UNSUPPORTED on a CPU stream. [model] */
    px_status (*graph_begin)(const struct px_host *host, px_stream *stream);
    /** Stop recording and instantiate what was recorded as a graph owned by `scope`. On any failure the recording
     *  is discarded and the stream is usable again. [model] */
    px_status (*graph_end)(const struct px_host *host, px_scope *scope, px_stream *stream,
                           px_graph **out_graph /* (owned by plugin until graph_free) */);
    /** Enqueue one replay of `graph` on `stream` (it reads the same device addresses it recorded). [model] */
    px_status (*graph_launch)(const struct px_host *host, px_graph *graph, px_stream *stream);
    /** Destroy a graph. NULL is ignored. [model] */
    void (*graph_free)(const struct px_host *host, px_graph *graph);
} px_host;

/* ---------------------------------------------------------------------------------------------------------------
 * The entry: the one exported symbol
 * ------------------------------------------------------------------------------------------------------------- */

/** Arguments of px_entry.init. */
typedef struct px_init_args {
    px_header header;
    uint32_t abi_major;       /**< negotiated major (= PX_ABI_MAJOR) */
    uint32_t abi_minor;       /**< negotiated minor: min(host, plugin); use nothing newer */
    const char *library_path; /**< (borrowed during init) absolute path of this .so */
    px_scope *scope;          /**< (owned by host, valid until deinit returns) owner of plugin-level allocations */
} px_init_args;

/** The constant a plugin exports as `plexus_plugin_entry`. Reading it must have no side effects. */
typedef struct px_entry {
    px_header header;
    uint32_t abi_major;       /**< PX_ABI_MAJOR the plugin was built against */
    uint32_t abi_minor;       /**< PX_ABI_MINOR the plugin was built against */
    const char *id;           /**< (static) unique reverse-DNS id, [a-z0-9._-], e.g. "org.plexus.llm" */
    const char *name;         /**< (static) human-readable name */
    const char *version;      /**< (static) plugin version, e.g. "0.1.0" */
    const char *vendor;       /**< (static, may be NULL) */
    const char *description;  /**< (static, may be NULL) one line */

    /** Create the plugin instance. `host` lives until deinit returns. After deinit, init may be called again.
     *  At most one instance lives at a time. [control] */
    px_status (*init)(const px_host *host, const px_init_args *args /* (borrowed during init) */,
                      px_plugin **out_plugin /* (owned by plugin until deinit) */);
    /** Destroy the instance: every model was destroyed before; free all plugin-level host allocations. [control] */
    void (*deinit)(px_plugin *plugin);
    /** A plugin extension table by id ("plexus.models/1"), or NULL when not provided. The table lives until
     *  deinit returns. [control] */
    const void *(*get_extension)(px_plugin *plugin, const char *id /* (borrowed during the call) */);
} px_entry;

/* ---------------------------------------------------------------------------------------------------------------
 * Extension "plexus.models/1": models, requests and steps
 * ------------------------------------------------------------------------------------------------------------- */

#define PX_EXT_MODELS "plexus.models/1"

/** What to load (model_create). */
typedef struct px_model_desc {
    px_header header;
    const char *id;              /**< (borrowed during model_create) catalog id, e.g. "smollm2" */
    const char *const *paths;    /**< (borrowed during model_create) [n_paths] weight files */
    uint32_t n_paths;
    uint32_t n_options;
    const px_option *options;    /**< (borrowed during model_create) [n_options] plugin options from the catalog;
                                      reject unknown keys with PX_ERR_INVALID_ARGUMENT naming the key */
    uint32_t device;             /**< PX_DEVICE_* the host placed the model on */
    uint32_t device_index;
    px_scope *scope;             /**< (owned by host, valid until model_destroy returns) owner of model allocations */
    px_stream *load_stream;      /**< (owned by host, valid during model_create) stream for weight uploads */
} px_model_desc;

/** What a loaded model is (model_info). The host sets header.size; the plugin fills the fields that fit. */
typedef struct px_model_info {
    px_header header;
    uint32_t kind;               /**< PX_KIND_* */
    uint32_t flags;              /**< 0 in ABI 1.0 */
    const char *architecture;    /**< (owned by plugin, lives with the model) e.g. "gemma3" */
    uint64_t weight_bytes;       /**< bytes of weights the model holds in host pools */
    /* token models (LLM, VLM, EMBEDDING) */
    uint32_t vocab_size;
    uint32_t context_length;     /**< maximum positions per sequence */
    uint32_t max_batch_tokens;   /**< maximum sum of n_tokens over the items of one step */
    uint32_t max_batch_items;    /**< maximum items in one step (every kind; 0 is read as 1 for image and video) */
    uint32_t kv_page_tokens;     /**< tokens per KV page (0 = the model keeps no KV) */
    uint32_t embedding_size;     /**< length of PX_OUT_EMBEDDING vectors, 0 if none */
    uint64_t kv_page_bytes;      /**< bytes of one KV page, all layers, K and V */
    /* image and video models */
    uint32_t default_width;
    uint32_t default_height;
    uint32_t default_steps;
    uint32_t default_frames;     /**< video only */
} px_model_info;

/** An image placed inside a VLM token sequence: its pixels occupy positions [pos, pos + n_tokens). */
typedef struct px_image_span {
    px_header header;
    uint32_t pos;                /**< first token position of the image */
    uint32_t n_tokens;           /**< as answered by px_model_api.image_tokens for this image's size */
    px_tensor image;             /**< u8 [height, width, 3] RGB (borrowed until request_destroy returns) */
} px_image_span;

/** Input of PX_KIND_LLM, PX_KIND_VLM and PX_KIND_EMBEDDING requests. Tokens arrive through steps. */
typedef struct px_llm_input {
    px_header header;
    uint32_t n_prompt_tokens;    /**< prompt length; prompt tokens arrive in step items, in order */
    uint32_t max_new_tokens;     /**< emit FINAL(LENGTH) after this many sampled tokens */
    float temperature;           /**< 0 = greedy */
    float top_p;                 /**< 1 = off */
    float min_p;                 /**< 0 = off */
    int32_t top_k;               /**< 0 = off */
    float repetition_penalty;    /**< 1 = off; over prompt and output tokens */
    float frequency_penalty;     /**< 0 = off; over output tokens */
    float presence_penalty;      /**< 0 = off; over output tokens */
    uint32_t n_top_logprobs;     /**< 0..20 alternatives per sampled token */
    uint64_t seed;               /**< same seed and inputs -> same tokens */
    uint32_t flags;              /**< PX_LLM_LOGPROBS: also emit the log probability of each sampled token */
    uint32_t n_stop_tokens;
    const int32_t *stop_tokens;  /**< (borrowed until request_destroy returns) [n_stop_tokens]; sampling one of
                                      them emits it, then FINAL(STOP) */
    const px_image_span *images; /**< (borrowed until request_destroy returns) [n_images] VLM only, by position */
    uint32_t n_images;
    uint32_t image_stride;       /**< sizeof(px_image_span) as the host compiled it: step through images with it */
} px_llm_input;

enum { PX_LLM_LOGPROBS = 1u << 0 };

/** Input of PX_KIND_IMAGE requests. */
typedef struct px_image_input {
    px_header header;
    const char *prompt;          /**< (borrowed until request_destroy returns) UTF-8 */
    const char *negative_prompt; /**< (borrowed until request_destroy returns; may be NULL) */
    uint32_t width;
    uint32_t height;
    uint32_t n_images;           /**< images per request */
    uint32_t n_steps;            /**< denoise steps */
    float guidance;              /**< classifier-free guidance scale; 0 = the model's default */
    float strength;              /**< 0..1 for image-to-image, with init_image */
    uint64_t seed;
    const px_tensor *init_image; /**< (borrowed until request_destroy returns; may be NULL) u8 [h, w, 3] */
} px_image_input;

/** Input of PX_KIND_VIDEO requests. */
typedef struct px_video_input {
    px_header header;
    const char *prompt;          /**< (borrowed until request_destroy returns) UTF-8 */
    const char *negative_prompt; /**< (borrowed until request_destroy returns; may be NULL) */
    uint32_t width;
    uint32_t height;
    uint32_t n_frames;
    uint32_t fps;
    uint32_t n_steps;            /**< denoise steps */
    float guidance;
    uint64_t seed;
    const px_tensor *first_frame; /**< (borrowed until request_destroy returns; may be NULL) image-to-video */
} px_video_input;

/** One request to create (request_create). */
typedef struct px_request_desc {
    px_header header;
    uint64_t id;                 /**< host's request id, for logs */
    uint32_t kind;               /**< PX_KIND_* of the input; equals the model's kind */
    uint32_t reserved;
    px_sink *sink;               /**< (owned by host, valid until request_destroy returns) outputs + cancel flag */
    const void *input;           /**< (borrowed until request_destroy returns) px_llm_input, px_image_input or
                                      px_video_input, by kind; check its header.size */
} px_request_desc;

/** One request's share of a step. */
typedef struct px_step_item {
    px_header header;
    px_request *request;         /**< (owned by plugin) */
    px_sink *sink;               /**< (owned by host) the request's sink, same as at request_create */
    uint32_t flags;              /**< PX_ITEM_* */
    /* token models */
    uint32_t pos;                /**< position of tokens[0]; pos 0 restarts the sequence (recompute after preemption) */
    uint32_t n_tokens;           /**< tokens to process now: a prefill chunk, or 1 on decode; 0 = just poll */
    uint32_t reserved0;          /**< explicit padding; 0 */
    const int32_t *tokens;       /**< (borrowed until step_finish returns) [n_tokens] */
    uint32_t n_kv_pages;         /**< pages covering positions [0, pos + n_tokens) */
    uint32_t reserved1;          /**< explicit padding; 0 */
    const uint32_t *kv_pages;    /**< (borrowed until step_finish returns) [n_kv_pages] page indices into px_step.kv */
    const uint32_t *allowed;     /**< (borrowed until step_finish returns; may be NULL) bitset [ceil(vocab/32)] of
                                      tokens the sample may take (constrained output); NULL = all */
    /* image and video models */
    uint32_t units;              /**< denoise steps (or slices of one) to run now; 0 = just poll */
    uint32_t reserved;
} px_step_item;

/** One step: a batch of request items the host runs together on one stream. */
typedef struct px_step {
    px_header header;
    uint64_t number;             /**< step counter of this model, increasing */
    px_stream *stream;           /**< (owned by host, valid until step_finish returns) where to enqueue work */
    const px_step_item *items;   /**< (borrowed until step_finish returns) [n_items] */
    uint32_t n_items;
    uint32_t item_stride;        /**< sizeof(px_step_item) as the host compiled it: step through items with it */
    px_buffer *kv;               /**< (owned by host, lives as long as the model; contents persist between steps)
                                      the model's KV arena, n_kv_pages pages of kv_page_bytes, or NULL */
    uint32_t n_kv_pages;
    uint32_t reserved;
} px_step;

/** The model table a plugin returns for PX_EXT_MODELS. */
typedef struct px_model_api {
    px_header header;
    uint32_t kinds;              /**< bitmask of (1u << PX_KIND_*) the plugin serves */
    uint32_t reserved;
    const char *const *formats;  /**< (static) NULL-terminated list of weight formats, e.g. {"gguf", NULL} */

    /** How confident the plugin is that it can load `path` (0 = not mine, 100 = certainly). Reads at most the
     *  file's header; no side effects. Optional (NULL). [control] */
    px_status (*probe)(px_plugin *plugin, const char *path /* (borrowed during the call) */, uint32_t *out_score);
    /** Load a model. On failure nothing stays allocated. [control] */
    px_status (*model_create)(px_plugin *plugin, const px_model_desc *desc,
                              px_model **out_model /* (owned by plugin until model_destroy) */);
    /** Unload a model: its requests were destroyed before; free every allocation of its scope. [model] */
    void (*model_destroy)(px_model *model);
    /** Describe a model. [model] */
    px_status (*model_info)(px_model *model, px_model_info *out_info);
    /** Tokens an image of this size occupies in a VLM sequence. Optional (NULL unless the plugin serves VLM). [model] */
    px_status (*image_tokens)(px_model *model, uint32_t width, uint32_t height, uint32_t *out_tokens);
    /** Create a request's state (sampler, RNG, latents). No device work. [model] */
    px_status (*request_create)(px_model *model, const px_request_desc *desc,
                                px_request **out_request /* (owned by plugin until request_destroy) */);
    /** Destroy a request after its FINAL (or after a failed step). [model] */
    void (*request_destroy)(px_model *model, px_request *request);
    /** Run one step: enqueue the work of every item on step->stream. Per item: if its sink is cancelled, emit
     *  FINAL(CANCELLED) and skip it; otherwise do its work, emit what is complete, and emit FINAL when the request
     *  ends. A non-OK return fails the whole batch: the host ends its unfinished requests with the error. [model] */
    px_status (*step)(px_model *model, const px_step *step);
    /** Called once the step's stream work has completed; emit outputs read back by mem_read. Optional (NULL when
     *  step emits everything itself, as CPU plugins do). [model] */
    px_status (*step_finish)(px_model *model, const px_step *step);
} px_model_api;

/** Step through an array whose element size is given at run time (px_step.items, px_llm_input.images). */
#define PX_AT(type, base, stride, i) ((const type *)(const void *)((const char *)(base) + (size_t)(stride) * (size_t)(i)))

/** The symbol every plugin defines: `PX_EXPORT const px_entry plexus_plugin_entry = { ... };` */
#ifndef PX_HOST_SIDE
PX_EXPORT extern const px_entry plexus_plugin_entry;
#endif

#ifdef __cplusplus
}
#endif

#endif /* PLEXUS_PLUGIN_H */
