#define _GNU_SOURCE 1
#include "CUDAShim.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* Opens the first candidate that loads; the handle is never closed (the host keeps CUDA for its lifetime). */
static void *open_first(const char *const *candidates, const char *what, char *error, size_t capacity) {
    const char *last = "no candidates";
    for (const char *const *name = candidates; *name != NULL; name++) {
        void *handle = dlopen(*name, RTLD_NOW | RTLD_LOCAL);
        if (handle != NULL) return handle;
        const char *reason = dlerror();
        last = reason != NULL ? reason : *name;
    }
    snprintf(error, capacity, "%s not found (%s)", what, last);
    return NULL;
}

#define RESOLVE(api, handle, field, symbol)                                                                      \
    do {                                                                                                         \
        *(void **)(&(api)->field) = dlsym(handle, symbol);                                                       \
        if ((api)->field == NULL) {                                                                              \
            snprintf(error, capacity, "symbol %s missing from the library", symbol);                            \
            return -1;                                                                                           \
        }                                                                                                        \
    } while (0)

/* Graph entry points are optional: a driver without them still runs everything else (graph_begin says so). */
#define RESOLVE_OPTIONAL(api, handle, field, symbol) (*(void **)(&(api)->field) = dlsym(handle, symbol))

int px_cuda_load(px_cuda_api *api, const char *const *candidates, char *error, size_t capacity) {
    memset(api, 0, sizeof *api);
    void *h = open_first(candidates, "libcuda", error, capacity);
    if (h == NULL) return -1;
    RESOLVE(api, h, cuInit, "cuInit");
    RESOLVE(api, h, cuDriverGetVersion, "cuDriverGetVersion");
    RESOLVE(api, h, cuGetErrorString, "cuGetErrorString");
    RESOLVE(api, h, cuDeviceGetCount, "cuDeviceGetCount");
    RESOLVE(api, h, cuDeviceGet, "cuDeviceGet");
    RESOLVE(api, h, cuDeviceGetName, "cuDeviceGetName");
    RESOLVE(api, h, cuDeviceGetAttribute, "cuDeviceGetAttribute");
    RESOLVE(api, h, cuDeviceTotalMem, "cuDeviceTotalMem_v2");
    RESOLVE(api, h, cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    RESOLVE(api, h, cuCtxSetCurrent, "cuCtxSetCurrent");
    RESOLVE(api, h, cuCtxGetStreamPriorityRange, "cuCtxGetStreamPriorityRange");
    RESOLVE(api, h, cuStreamCreateWithPriority, "cuStreamCreateWithPriority");
    RESOLVE(api, h, cuStreamDestroy, "cuStreamDestroy_v2");
    RESOLVE(api, h, cuStreamSynchronize, "cuStreamSynchronize");
    RESOLVE(api, h, cuStreamWaitEvent, "cuStreamWaitEvent");
    RESOLVE(api, h, cuEventCreate, "cuEventCreate");
    RESOLVE(api, h, cuEventRecord, "cuEventRecord");
    RESOLVE(api, h, cuEventQuery, "cuEventQuery");
    RESOLVE(api, h, cuEventSynchronize, "cuEventSynchronize");
    RESOLVE(api, h, cuEventElapsedTime, "cuEventElapsedTime");
    RESOLVE(api, h, cuEventDestroy, "cuEventDestroy_v2");
    RESOLVE(api, h, cuMemAlloc, "cuMemAlloc_v2");
    RESOLVE(api, h, cuMemFree, "cuMemFree_v2");
    RESOLVE(api, h, cuMemHostAlloc, "cuMemHostAlloc");
    RESOLVE(api, h, cuMemFreeHost, "cuMemFreeHost");
    RESOLVE(api, h, cuMemGetInfo, "cuMemGetInfo_v2");
    RESOLVE(api, h, cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
    RESOLVE(api, h, cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2");
    RESOLVE(api, h, cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2");
    RESOLVE(api, h, cuMemsetD8Async, "cuMemsetD8Async");
    RESOLVE(api, h, cuModuleLoadData, "cuModuleLoadData");
    RESOLVE(api, h, cuModuleUnload, "cuModuleUnload");
    RESOLVE(api, h, cuModuleGetFunction, "cuModuleGetFunction");
    RESOLVE(api, h, cuFuncSetAttribute, "cuFuncSetAttribute");
    RESOLVE(api, h, cuLaunchKernel, "cuLaunchKernel");
    /* cuda.h maps cuStreamBeginCapture to the _v2 entry point (which takes the capture mode); the unversioned
     * symbol is the CUDA 10.0 one without it. */
    RESOLVE_OPTIONAL(api, h, cuStreamBeginCapture, "cuStreamBeginCapture_v2");
    RESOLVE_OPTIONAL(api, h, cuStreamEndCapture, "cuStreamEndCapture");
    RESOLVE_OPTIONAL(api, h, cuStreamIsCapturing, "cuStreamIsCapturing");
    RESOLVE_OPTIONAL(api, h, cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags");
    RESOLVE_OPTIONAL(api, h, cuGraphDestroy, "cuGraphDestroy");
    RESOLVE_OPTIONAL(api, h, cuGraphLaunch, "cuGraphLaunch");
    RESOLVE_OPTIONAL(api, h, cuGraphExecDestroy, "cuGraphExecDestroy");
    return 0;
}

int px_nvrtc_load(px_nvrtc_api *api, const char *const *candidates, char *error, size_t capacity) {
    memset(api, 0, sizeof *api);
    void *h = open_first(candidates, "libnvrtc", error, capacity);
    if (h == NULL) return -1;
    RESOLVE(api, h, nvrtcVersion, "nvrtcVersion");
    RESOLVE(api, h, nvrtcGetErrorString, "nvrtcGetErrorString");
    RESOLVE(api, h, nvrtcCreateProgram, "nvrtcCreateProgram");
    RESOLVE(api, h, nvrtcCompileProgram, "nvrtcCompileProgram");
    RESOLVE(api, h, nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize");
    RESOLVE(api, h, nvrtcGetProgramLog, "nvrtcGetProgramLog");
    RESOLVE(api, h, nvrtcGetCUBINSize, "nvrtcGetCUBINSize");
    RESOLVE(api, h, nvrtcGetCUBIN, "nvrtcGetCUBIN");
    RESOLVE(api, h, nvrtcDestroyProgram, "nvrtcDestroyProgram");
    return 0;
}
