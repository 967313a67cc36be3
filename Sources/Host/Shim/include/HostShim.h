/* HostShim: the little C the host needs at the plugin boundary. */
#ifndef PLEXUS_HOST_SHIM_H
#define PLEXUS_HOST_SHIM_H
#define PX_HOST_SIDE 1
#include "plexus_plugin.h"
#include <stddef.h>
#include <stdint.h>

/** The host table handed to one plugin, followed by the host's context for it. `api` must stay first. */
typedef struct px_host_impl {
    px_host api;
    void *owner; /* Unmanaged<HostServices> */
} px_host_impl;

/** The owner pointer behind a host table a plugin handed back. */
static inline void *px_shim_owner(const px_host *host) { return ((const px_host_impl *)host)->owner; }

/** Thread-local error message slot behind px_host.set_error. */
void px_shim_set_error(const px_host *host, const char *message);
/** Clear this thread's error slot (before calling into a plugin). */
void px_shim_clear_error(void);
/** Copy this thread's error message into buf and clear it; returns 1 if one was set. */
int px_shim_take_error(char *buf, size_t capacity);

/** Size of the ABI 1.0 structs, for the loader's checks. */
static inline uint32_t px_shim_entry_v1_size(void) { return (uint32_t)sizeof(px_entry); }
static inline uint32_t px_shim_model_api_v1_size(void) { return (uint32_t)sizeof(px_model_api); }

/** Call a task function pointer (keeps the C calling convention out of Swift's way). */
static inline void px_shim_run_task(px_task_fn fn, void *context, uint32_t index, uint32_t worker) {
    fn(context, index, worker);
}


/** Index of the pool worker running on this thread, or -1 on a thread that is not a pool worker. */
int32_t px_shim_worker_index(void);
void px_shim_set_worker_index(int32_t index);
/** Size in bytes of the ELF symbol at `address` (from the dynamic symbol table), or 0 if unknown. */
size_t px_shim_symbol_size(const void *address);

/** Length of a C string, reading at most `limit` bytes; returns limit when no NUL was found. */
size_t px_shim_strnlen(const char *text, size_t limit);
#endif
