/*
 * llm_kernels_source.c — the text of llm_kernels.cu, linked into the plugin as a NUL-terminated string that the CUDA
 * path hands to the host's NVRTC service (the .cu file stays a real CUDA file that editors and nvcc can read).
 */
__asm__(".section .rodata\n"
        ".global llm_kernels_cu\n"
        ".hidden llm_kernels_cu\n"
        ".type llm_kernels_cu, @object\n"
        "llm_kernels_cu:\n"
        ".incbin \"Plugins/llm/llm_kernels.cu\"\n"
        ".byte 0\n"
        ".size llm_kernels_cu, . - llm_kernels_cu\n"
        ".previous\n");
