#!/usr/bin/env python3
"""Compiles Plugins/llm/llm_kernels.cu with NVRTC for sm_90 exactly as the host's module_compile does
(--gpu-architecture=sm_90 -default-device --std=c++17) and fails on any error or warning: the kernels are checked on
every CI run, without a GPU (NVRTC compiles without one).

NVRTC comes from $PLEXUS_NVRTC, else the `nvidia-cuda-nvrtc` wheel installed into .cache/nvrtc by .ci/run
(python3 -m pip install --target .cache/nvrtc nvidia-cuda-nvrtc); without either it prints SKIP and exits 0.
"""
import ctypes
import glob
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]


def find_nvrtc():
    candidates = [os.environ.get("PLEXUS_NVRTC", "")] + sorted(glob.glob(str(REPO / ".cache/nvrtc/nvidia/cu*/lib/libnvrtc.so*")))
    for path in candidates:
        if path and os.path.exists(path):
            return path
    return None


def main():
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "Plugins/llm/llm_kernels.cu"
    path = find_nvrtc()
    if path is None:
        print("SKIP: no NVRTC (set PLEXUS_NVRTC or pip install --target .cache/nvrtc nvidia-cuda-nvrtc)")
        return 0
    lib = ctypes.CDLL(path)
    program = ctypes.c_void_p()
    if lib.nvrtcCreateProgram(ctypes.byref(program), source.read_bytes(), source.name.encode(), 0, None, None) != 0:
        print("FAIL: nvrtcCreateProgram")
        return 1
    options = [b"--gpu-architecture=sm_90", b"-default-device", b"--std=c++17"]
    status = lib.nvrtcCompileProgram(program, len(options), (ctypes.c_char_p * len(options))(*options))
    size = ctypes.c_size_t()
    lib.nvrtcGetProgramLogSize(program, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetProgramLog(program, log)
    text = log.value.decode(errors="replace").strip()
    version = (ctypes.c_int(), ctypes.c_int())
    lib.nvrtcVersion(ctypes.byref(version[0]), ctypes.byref(version[1]))
    if status != 0 or text:
        print(f"FAIL: {source} with NVRTC {version[0].value}.{version[1].value} (status {status}):\n{text}")
        return 1
    lib.nvrtcGetCUBINSize(program, ctypes.byref(size))
    print(f"ok: {source.name} compiles for sm_90 with NVRTC {version[0].value}.{version[1].value} ({size.value} bytes of cubin)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
