/*
 * CUDAShim: the subset of the CUDA driver API and NVRTC the host uses, declared here so that Plexus builds
 * without a CUDA toolkit. Both libraries are opened at run time with dlopen; a host without them runs on CPU.
 * Types and enum values below are fixed by NVIDIA's published ABI (cuda.h, nvrtc.h).
 */
#ifndef PLEXUS_CUDA_SHIM_H
#define PLEXUS_CUDA_SHIM_H

#include <stddef.h>
#include <stdint.h>

typedef int CUresult;                 /* CUDA_SUCCESS = 0 */
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef unsigned long long CUdeviceptr;
typedef struct CUgraph_st *CUgraph;
typedef struct CUgraphExec_st *CUgraphExec;

enum {
    PX_CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
    PX_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    PX_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
    PX_CU_STREAM_NON_BLOCKING = 1,
    PX_CU_EVENT_DEFAULT = 0,
    PX_CU_EVENT_DISABLE_TIMING = 2,
    PX_CU_MEMHOSTALLOC_PORTABLE = 1,
    PX_CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8,
    PX_CUDA_ERROR_NOT_READY = 600,
    /* CUstreamCaptureMode and CUstreamCaptureStatus */
    PX_CU_STREAM_CAPTURE_MODE_GLOBAL = 0,
    PX_CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1,
    PX_CU_STREAM_CAPTURE_MODE_RELAXED = 2,
    PX_CU_STREAM_CAPTURE_STATUS_NONE = 0,
    PX_CU_STREAM_CAPTURE_STATUS_ACTIVE = 1,
    PX_CU_STREAM_CAPTURE_STATUS_INVALIDATED = 2
};

/** The driver functions the host calls, resolved by px_cuda_load. */
typedef struct px_cuda_api {
    CUresult (*cuInit)(unsigned int flags);
    CUresult (*cuDriverGetVersion)(int *version);
    CUresult (*cuGetErrorString)(CUresult error, const char **text);
    CUresult (*cuDeviceGetCount)(int *count);
    CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
    CUresult (*cuDeviceGetName)(char *name, int length, CUdevice device);
    CUresult (*cuDeviceGetAttribute)(int *value, int attribute, CUdevice device);
    CUresult (*cuDeviceTotalMem)(size_t *bytes, CUdevice device);
    CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *context, CUdevice device);
    CUresult (*cuCtxSetCurrent)(CUcontext context);
    CUresult (*cuCtxGetStreamPriorityRange)(int *least, int *greatest);
    CUresult (*cuStreamCreateWithPriority)(CUstream *stream, unsigned int flags, int priority);
    CUresult (*cuStreamDestroy)(CUstream stream);
    CUresult (*cuStreamSynchronize)(CUstream stream);
    CUresult (*cuStreamWaitEvent)(CUstream stream, CUevent event, unsigned int flags);
    CUresult (*cuEventCreate)(CUevent *event, unsigned int flags);
    CUresult (*cuEventRecord)(CUevent event, CUstream stream);
    CUresult (*cuEventQuery)(CUevent event);
    CUresult (*cuEventSynchronize)(CUevent event);
    CUresult (*cuEventElapsedTime)(float *milliseconds, CUevent start, CUevent end);
    CUresult (*cuEventDestroy)(CUevent event);
    CUresult (*cuMemAlloc)(CUdeviceptr *pointer, size_t bytes);
    CUresult (*cuMemFree)(CUdeviceptr pointer);
    CUresult (*cuMemHostAlloc)(void **pointer, size_t bytes, unsigned int flags);
    CUresult (*cuMemFreeHost)(void *pointer);
    CUresult (*cuMemGetInfo)(size_t *free_bytes, size_t *total_bytes);
    CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr dst, const void *src, size_t bytes, CUstream stream);
    CUresult (*cuMemcpyDtoHAsync)(void *dst, CUdeviceptr src, size_t bytes, CUstream stream);
    CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream);
    CUresult (*cuMemsetD8Async)(CUdeviceptr dst, unsigned char value, size_t bytes, CUstream stream);
    CUresult (*cuModuleLoadData)(CUmodule *module, const void *image);
    CUresult (*cuModuleUnload)(CUmodule module);
    CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module, const char *name);
    CUresult (*cuFuncSetAttribute)(CUfunction function, int attribute, int value);
    CUresult (*cuLaunchKernel)(CUfunction function, unsigned int grid_x, unsigned int grid_y, unsigned int grid_z,
                               unsigned int block_x, unsigned int block_y, unsigned int block_z,
                               unsigned int shared_bytes, CUstream stream, void **params, void **extra);
    /* Stream capture and graphs (CUDA 11.4+ for cuGraphInstantiateWithFlags); NULL when the driver lacks them. */
    CUresult (*cuStreamBeginCapture)(CUstream stream, int mode);
    CUresult (*cuStreamEndCapture)(CUstream stream, CUgraph *graph);
    CUresult (*cuStreamIsCapturing)(CUstream stream, int *status);
    CUresult (*cuGraphInstantiateWithFlags)(CUgraphExec *exec, CUgraph graph, unsigned long long flags);
    CUresult (*cuGraphDestroy)(CUgraph graph);
    CUresult (*cuGraphLaunch)(CUgraphExec exec, CUstream stream);
    CUresult (*cuGraphExecDestroy)(CUgraphExec exec);
} px_cuda_api;

typedef int nvrtcResult; /* NVRTC_SUCCESS = 0 */
typedef struct _nvrtcProgram *nvrtcProgram;

/** The NVRTC functions the host calls. */
typedef struct px_nvrtc_api {
    nvrtcResult (*nvrtcVersion)(int *major, int *minor);
    const char *(*nvrtcGetErrorString)(nvrtcResult result);
    nvrtcResult (*nvrtcCreateProgram)(nvrtcProgram *program, const char *source, const char *name, int n_headers,
                                      const char *const *headers, const char *const *include_names);
    nvrtcResult (*nvrtcCompileProgram)(nvrtcProgram program, int n_options, const char *const *options);
    nvrtcResult (*nvrtcGetProgramLogSize)(nvrtcProgram program, size_t *bytes);
    nvrtcResult (*nvrtcGetProgramLog)(nvrtcProgram program, char *log);
    nvrtcResult (*nvrtcGetCUBINSize)(nvrtcProgram program, size_t *bytes);
    nvrtcResult (*nvrtcGetCUBIN)(nvrtcProgram program, char *cubin);
    nvrtcResult (*nvrtcDestroyProgram)(nvrtcProgram *program);
} px_nvrtc_api;

/** Opens libcuda (first that loads of `candidates`, NULL-terminated) and resolves every function. Returns 0, or
 *  -1 with a one-line reason in `error`. */
int px_cuda_load(px_cuda_api *api, const char *const *candidates, char *error, size_t capacity);

/** Same for NVRTC. */
int px_nvrtc_load(px_nvrtc_api *api, const char *const *candidates, char *error, size_t capacity);

/** Calls cuLaunchKernel through the table (keeps the 11-argument C call out of Swift). */
static inline CUresult px_cuda_launch(const px_cuda_api *api, CUfunction function, const uint32_t grid[3],
                                      const uint32_t block[3], uint32_t shared_bytes, CUstream stream, void **params) {
    return api->cuLaunchKernel(function, grid[0], grid[1], grid[2], block[0], block[1], block[2], shared_bytes, stream,
                               params, NULL);
}

/** SHA-256 of `bytes` into `digest` (32 bytes): keys of the kernel cache. */
void px_sha256(const void *bytes, size_t count, uint8_t digest[32]);

/** SHA-256 fed in pieces (model files are hashed in chunks, never read whole). Owned by the caller, on its stack. */
typedef struct px_sha256_state {
    uint32_t h[8];
    uint64_t count;    /* bytes fed so far */
    uint8_t block[64]; /* the partial block */
    size_t used;       /* bytes of `block` in use */
} px_sha256_state;

void px_sha256_begin(px_sha256_state *state);
/** Feeds `count` bytes of `bytes` (borrowed for the call). */
void px_sha256_update(px_sha256_state *state, const void *bytes, size_t count);
/** Writes the digest of everything fed (32 bytes); `state` must be begun again before reuse. */
void px_sha256_end(px_sha256_state *state, uint8_t digest[32]);

#endif
