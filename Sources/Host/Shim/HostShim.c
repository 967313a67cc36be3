#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <link.h>
#include "HostShim.h"
#include <string.h>

static _Thread_local char error_message[1024];
static _Thread_local int error_set;

void px_shim_set_error(const px_host *host, const char *message) {
    (void)host;
    if (message == NULL) message = "(no message)";
    size_t n = strnlen(message, sizeof error_message - 1);
    memcpy(error_message, message, n);
    error_message[n] = '\0';
    error_set = 1;
}

void px_shim_clear_error(void) {
    error_set = 0;
    error_message[0] = '\0';
}

int px_shim_take_error(char *buf, size_t capacity) {
    if (!error_set || capacity == 0) return 0;
    size_t n = strnlen(error_message, capacity - 1);
    memcpy(buf, error_message, n);
    buf[n] = '\0';
    error_set = 0;
    return 1;
}

static _Thread_local int32_t worker_index = -1;

int32_t px_shim_worker_index(void) { return worker_index; }
void px_shim_set_worker_index(int32_t index) { worker_index = index; }


size_t px_shim_symbol_size(const void *address) {
    Dl_info info;
    const ElfW(Sym) *symbol = NULL;
    if (dladdr1(address, &info, (void **)&symbol, RTLD_DL_SYMENT) == 0 || symbol == NULL) return 0;
    if (info.dli_saddr != address) return 0;
    return (size_t)symbol->st_size;
}

size_t px_shim_strnlen(const char *text, size_t limit) { return text == NULL ? 0 : strnlen(text, limit); }
