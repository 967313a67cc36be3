#!/usr/bin/env python3
"""Golden files for Tests/Plugins/llm/test_quants.c, made with an independent implementation: the `gguf` Python
package (pip install gguf==0.17.1 numpy), which dequantizes with numpy in ggml's order of operations.

Writes, next to this script, one small binary file per case plus index.txt listing them:
  header: b"PXQG", then little-endian u32 kind, type, n_rows, k, and a 32-byte NUL-padded case name
  kind 1 (dequantize):   raw rows [n_rows * row_bytes] | reference f32 [n_rows * k]
  kind 2 (quantize Q8_0):input f32 [n_rows * k] | gguf's Q8_0 bytes | numpy emulation of ggml's x86 path's bytes
  kind 3 (f32 -> type):  input f32 [n_rows * k] | reference u16 [n_rows * k]  (type F16 or BF16)
  kind 4 (quantize Q8_K):input f32 [n_rows * k] | numpy emulation of ggml's quantize_row_q8_K_ref's bytes
                         (gguf cannot make Q8_K; this pins the numerics: -127 / max, round half even, bsums)
Rows come from the two real models where they hold the type, else from data quantized by gguf, else from random
but valid blocks built here from the block layout.

Run from anywhere: python3 Tests/Plugins/llm/golden/quants_golden.py [--models DIR]
"""
import argparse
import os
import struct

import numpy as np
from gguf import GGMLQuantizationType as T, GGUFReader
from gguf import quants

HERE = os.path.dirname(os.path.abspath(__file__))
SMOL = "SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA = "gemma3-270m-Q4_K_M.gguf"
rng = np.random.default_rng(20240611)
written = []


def write(kind, qtype, name, n_rows, k, *payload):
    path = os.path.join(HERE, name + ".bin")
    with open(path, "wb") as f:
        f.write(b"PXQG" + struct.pack("<4I", kind, int(qtype), n_rows, k) + name.encode().ljust(32, b"\0"))
        for p in payload:
            f.write(np.ascontiguousarray(p).tobytes())
    written.append(name + ".bin")


def dequant_case(name, qtype, rows_bytes, k):
    """rows_bytes: [n_rows, row_bytes] uint8 (or f32 rows for F32)."""
    rows_bytes = np.ascontiguousarray(rows_bytes)
    ref = quants.dequantize(rows_bytes.view(np.uint8) if qtype != T.F32 else rows_bytes, qtype)
    ref = np.asarray(ref, dtype=np.float32).reshape(rows_bytes.shape[0], k)
    write(1, qtype, name, rows_bytes.shape[0], k, rows_bytes, ref)


def model_rows(path, qtype, n_rows=3, want_k=None):
    """Up to n_rows rows (first, middle, last) of the first tensor of qtype in the model (with row length want_k)."""
    reader = GGUFReader(path)
    for t in reader.tensors:
        k = int(t.shape[0])
        if t.tensor_type != qtype or (want_k is not None and k != want_k):
            continue
        data = t.data.reshape(-1, t.data.shape[-1]) if t.data.ndim > 1 else t.data.reshape(1, -1)
        picks = sorted({0, data.shape[0] // 2, data.shape[0] - 1})[:n_rows]
        return t.name, data[picks], k
    raise SystemExit(f"no {qtype.name} tensor in {path}")


def random_blocks(qtype, n_rows, k):
    """Random bytes with every fp16 scale field replaced by a sane positive or negative value."""
    block, size = quants.GGML_QUANT_SIZES[qtype]
    nb = k // block
    raw = rng.integers(0, 256, size=(n_rows, nb, size), dtype=np.uint8)

    def half(lo, hi):
        v = (rng.uniform(lo, hi, size=(n_rows, nb)) * rng.choice([-1, 1], size=(n_rows, nb))).astype(np.float16)
        return v.view(np.uint8).reshape(n_rows, nb, 2)

    if qtype in (T.Q4_K, T.Q5_K):  # d, dmin at 0 and 2
        raw[:, :, 0:2] = np.abs(half(1e-4, 1e-2).view(np.float16)).view(np.uint8).reshape(n_rows, nb, 2)
        raw[:, :, 2:4] = np.abs(half(1e-4, 1e-2).view(np.float16)).view(np.uint8).reshape(n_rows, nb, 2)
    elif qtype == T.Q6_K:  # d last
        raw[:, :, size - 2:size] = half(1e-4, 1e-2)
    else:  # d first; Q4_1/Q5_1 m second
        raw[:, :, 0:2] = half(1e-3, 1e-1)
        if qtype in (T.Q4_1, T.Q5_1):
            raw[:, :, 2:4] = half(1e-3, 1)
    return raw.reshape(n_rows, nb * size)


def activations(n_rows, k):
    x = rng.standard_normal((n_rows, k)).astype(np.float32)
    x[:, :32] = 0  # an all-zero block
    x[:, 40] = 37.5  # an outlier
    x[:, 64:96] *= 1e-6  # a tiny block
    x[-1, ::7] = np.float32(0.5) * (1 + np.arange(len(x[-1, ::7])) % 5)  # exact halves somewhere
    x[-2, 128:160] = np.arange(32) - np.float32(0.5)  # with amax 127, id = 1 and every value is a tie,
    x[-2, 159] = 127  # where ggml's x86 path (half to even) and its reference (half away from zero) differ
    x[0, 96:128] = scale_sensitive_block()
    return x


def scale_sensitive_block():
    """32 values whose Q8_0 quants depend on computing id as 127 / amax (ggml's x86 path) rather than
    1 / (amax / 127) (its reference): an amax where the two differ in f32, and values whose x * id lands within an
    ulp of a half step, so they round differently under the two."""
    f32 = np.float32
    for _ in range(100000):
        amax = f32(rng.uniform(0.5, 4.0))
        id1 = f32(f32(127) / amax)
        id2 = f32(f32(1) / f32(amax / f32(127)))
        if id1 == id2:
            continue
        vals = [amax]
        for q in range(1, 120):
            x = f32((q + 0.5) / float(id1))
            for cand in (x, np.nextafter(x, f32(0)), np.nextafter(x, f32(10))):
                if np.rint(f32(cand * id1)) != np.rint(f32(cand * id2)) and len(vals) < 32:
                    vals.append(f32(cand) * (1 if len(vals) % 2 else -1))
        if len(vals) >= 8:
            vals += [f32(0)] * (32 - len(vals))
            return np.array(vals[:32], dtype=np.float32)
    raise SystemExit("no scale-sensitive block found")


def ref_q8_k(x):
    """ggml's quantize_row_q8_K_ref in numpy float32 (the one Q8_K quantizer ggml's CPU backend runs)."""
    out = []
    for blk in x.reshape(-1, 256):
        amax_i = int(np.argmax(np.abs(blk)))  # first index of the largest magnitude, as the C loop's strict >
        mx = blk[amax_i]
        if blk[amax_i] == 0:
            out.append(np.zeros(292, dtype=np.uint8))
            continue
        iscale = np.float32(np.float32(-127) / mx)
        q = np.minimum(np.rint((blk * iscale).astype(np.float32)), 127).astype(np.int8)
        bsums = q.reshape(16, 16).astype(np.int32).sum(axis=1).astype(np.int16)
        d = np.float32(np.float32(1) / iscale)
        out.append(np.concatenate([np.array([d], dtype=np.float32).view(np.uint8), q.view(np.uint8),
                                   bsums.view(np.uint8)]))
    return np.concatenate(out).reshape(x.shape[0], -1)


def x86_q8_0(x):
    """ggml's AVX2 quantize_row_q8_0 in numpy float32: d = amax / 127, q = rint(x * (127 / amax))."""
    blocks = x.reshape(-1, 32)
    amax = np.abs(blocks).max(axis=1, keepdims=True).astype(np.float32)
    d = (amax / np.float32(127)).astype(np.float32)
    with np.errstate(divide="ignore"):
        idv = np.where(amax != 0, np.float32(127) / amax, np.float32(0)).astype(np.float32)
    q = np.rint((blocks * idv).astype(np.float32)).astype(np.int8)
    out = np.concatenate([d.astype(np.float16).view(np.uint8), q.view(np.uint8)], axis=1)
    return out.reshape(x.shape[0], -1)


def f16_edge_floats():
    """Every half's neighbourhood that decides rounding: each value, the midpoints to its neighbour, +-1 ulp."""
    h = np.arange(0, 0x7c00, dtype=np.uint16).view(np.float16).astype(np.float32)  # finite non-negative halves
    mids = ((h[:-1].astype(np.float64) + h[1:].astype(np.float64)) / 2).astype(np.float32)  # exact in f32
    ulp = mids.view(np.uint32)
    near = np.concatenate([mids, (ulp + 1).view(np.float32), (ulp - 1).view(np.float32)])
    near = near[::5]  # a fifth of them keeps the file small and still hits every exponent
    special = np.array([0.0, 65504, 65519.996, 65520, 65536, 1e10, np.inf, np.nan, 2.0**-25, 2.0**-24,
                        1.5 * 2.0**-25, 2.0**-26, 2.0**-14, 2.0**-14 - 2.0**-30], dtype=np.float32)
    v = np.concatenate([special, near])
    v = np.concatenate([v, -v])
    return v[: len(v) // 32 * 32]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="/work/main/.cache/models")
    models = ap.parse_args().models
    smol, gemma = os.path.join(models, SMOL), os.path.join(models, GEMMA)

    # Real rows.
    real = ((smol, "smol", (T.Q4_1, T.Q8_0, T.F32)), (gemma, "gemma", (T.Q5_0, T.Q4_K, T.Q8_0, T.Q6_K)))
    for path, tag, qtypes in real:
        for qt in qtypes:
            _, rows, k = model_rows(path, qt)
            dequant_case(f"deq_{tag}_{qt.name.lower()}", qt, rows, k)

    # Data quantized by gguf.
    for qt, k in ((T.Q4_0, 576), (T.Q5_1, 640), (T.Q4_1, 2048), (T.BF16, 1000)):
        x = rng.standard_normal((3, k)).astype(np.float32) * 0.05
        dequant_case(f"deq_gguf_{qt.name.lower()}", qt, quants.quantize(x, qt).view(np.uint8), k)
    # F16: every one of the 65536 halves, including subnormals, infinities and nans.
    dequant_case("deq_all_f16", T.F16, np.arange(65536, dtype=np.uint16).view(np.uint8).reshape(1, -1), 65536)

    # Random valid blocks, for types gguf cannot quantize and to reach every scale bit pattern.
    for qt, k in ((T.Q5_K, 1024), (T.Q4_K, 512), (T.Q6_K, 512), (T.Q5_0, 96), (T.Q8_0, 64)):
        dequant_case(f"deq_rand_{qt.name.lower()}", qt, random_blocks(qt, 2, k), k)

    # Activation quantization to Q8_0: gguf's bytes (ggml's reference path) and the x86 path's bytes.
    x = activations(4, 2048)
    write(2, T.Q8_0, "quant_q8_0", 4, 2048, x, quants.quantize(x, T.Q8_0).view(np.uint8), x86_q8_0(x))

    # Activation quantization to Q8_K: every block kind above plus ties at the largest element's sign.
    xk = activations(3, 1024)
    xk[1, 256:512] = 0
    xk[2, 512] = -xk[2, 512:768].__abs__().max()  # a negative largest element: d > 0
    xk[2, 513] = -xk[2, 512]  # and a positive one of equal magnitude after it
    write(4, T.Q8_K, "quant_q8_k", 3, 1024, xk, ref_q8_k(xk))

    # f32 -> f16 / bf16 rounding.
    v = f16_edge_floats()
    write(3, T.F16, "conv_f16", 1, len(v), v, v.astype(np.float16).view(np.uint16))
    b = np.concatenate([v, rng.standard_normal(4096).astype(np.float32) * 1e3,
                        np.array([np.nan, -np.inf, 3.4e38, 1e-40] * 8, dtype=np.float32)])
    b = b[: len(b) // 32 * 32]
    write(3, T.BF16, "conv_bf16", 1, len(b), b, quants.quantize(b, T.BF16).view(np.uint16))

    with open(os.path.join(HERE, "index.txt"), "w") as f:
        f.write("\n".join(written) + "\n")
    total = sum(os.path.getsize(os.path.join(HERE, n)) for n in written)
    print(f"wrote {len(written)} golden files, {total} bytes")


if __name__ == "__main__":
    main()
