/* Compile-time checks of the ABI 1.0 layout on the host's platform (LP64). A change that moves a field fails
 * the build here instead of breaking plugins built against an older header. */
#define PX_HOST_SIDE 1
#include "plexus_plugin.h"

_Static_assert(sizeof(px_header) == 8, "px_header is two uint32");
_Static_assert(offsetof(px_entry, abi_major) == 8, "px_entry.abi_major follows the header");
_Static_assert(offsetof(px_entry, id) == 16, "px_entry.id at 16");
_Static_assert(offsetof(px_entry, init) == 56, "px_entry.init at 56");
_Static_assert(sizeof(px_entry) == 80, "px_entry 1.0 is 80 bytes");
_Static_assert(offsetof(px_host, set_error) == 32, "px_host services start at 32");
_Static_assert(sizeof(px_tensor) == 96, "px_tensor 1.0 is 96 bytes");
_Static_assert(sizeof(px_step_item) == 80, "px_step_item 1.0 is 80 bytes");
_Static_assert(sizeof(px_model_api) == 96, "px_model_api 1.0 is 96 bytes");
