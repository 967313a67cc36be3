#!/usr/bin/env python3
"""
kernel_check.py — per-kernel correctness check of the LLM plugin's CUDA kernels (Plugins/llm/llm_kernels.cu).

Compiles the source with NVRTC through CuPy, launches every kernel with the launch geometry and the argument types
of Plugins/llm/llm_cuda_forward.c on seeded random inputs, and compares each result with a float64 numpy reference.
Quantized weights are made (or checked) with the gguf package, whose dequantizer is the independent reference.
One line per case: kernel, case, max abs error, max error relative to max |ref|, tolerance, PASS/FAIL.

    python3 Tests/Plugins/llm/cuda/kernel_check.py [--source Plugins/llm/llm_kernels.cu]   # needs a CUDA device
    python3 Tests/Plugins/llm/cuda/kernel_check.py --self-test   # numpy only: the references and an emulation of
                                                                 # the kernels' index arithmetic, checked on the CPU
Without CuPy or a device the first form prints "SKIP: no CUDA device (...)" and exits 0. Exit status 1 when a case
fails. gguf is imported from the path, else from <repo>/.cache/pydeps.
"""
import argparse
import math
import re
import sys
import traceback
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[4]
F64 = np.float64

# ggml type codes, as the kernel's enum (checked against gguf's in the self-test)
TYPES = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q5_0": 6, "Q5_1": 7, "Q8_0": 8, "Q4_K": 12, "Q5_K": 13,
         "Q6_K": 14, "BF16": 30}
K_QUANTS = ("Q4_K", "Q5_K", "Q6_K")
# byte offsets of the f16 scale fields of a block, which random bytes must not make inf/nan
F16_FIELDS = {"Q4_0": (0,), "Q4_1": (0, 2), "Q5_0": (0,), "Q5_1": (0, 2), "Q8_0": (0,), "Q4_K": (0, 2),
              "Q5_K": (0, 2), "Q6_K": (208,)}

TOL_F32 = 1e-4      # f32 arithmetic
TOL_F16 = 2e-3      # f16 KV / f16-rounded q, GELU through f16
GUARD = 64          # elements past every output buffer that must stay untouched
SENTINEL = np.float32(3.0e38)
KV_NAN = 0x7E00     # the KV arena starts as f16 NaN: unwritten slots stay NaN, reading one poisons the result


def import_gguf():
    try:
        import gguf  # noqa: F401
    except ImportError:
        sys.path.append(str(REPO / ".cache" / "pydeps"))  # appended: an installed numpy keeps precedence
        import gguf  # noqa: F401
    return gguf


gguf = None  # set in main


# ---- reporting ----------------------------------------------------------------------------------------------------

class Report:
    def __init__(self):
        self.cases = 0
        self.failed = 0

    def line(self, kernel, case, abs_err, rel_err, tol, ok, note=""):
        self.cases += 1
        self.failed += 0 if ok else 1
        print(f"{kernel:<12} {case:<58} abs {abs_err:9.3e} rel {rel_err:9.3e} tol {tol:.0e} "
              f"{'PASS' if ok else 'FAIL'}{'  ' + note if note else ''}", flush=True)

    def compare(self, kernel, case, got, ref, tol, ok=True, note=""):
        """max |got - ref| and that over max |ref|; non-finite results where the reference is finite fail."""
        got, ref = np.asarray(got, F64), np.asarray(ref, F64)
        if got.shape != ref.shape:
            return self.line(kernel, case, math.inf, math.inf, tol, False, f"shape {got.shape} != {ref.shape}")
        if not np.all(np.isfinite(got[np.isfinite(ref)])):
            return self.line(kernel, case, math.inf, math.inf, tol, False, (note + " non-finite result").strip())
        abs_err = float(np.max(np.abs(got - ref))) if got.size else 0.0
        scale = float(np.max(np.abs(ref))) if ref.size else 0.0
        rel_err = abs_err / scale if scale > 0 else abs_err
        self.line(kernel, case, abs_err, rel_err, tol, ok and rel_err <= tol, note)

    def error(self, kernel, case, message):
        self.line(kernel, case, math.inf, math.inf, 0, False, message)


# ---- numpy references ---------------------------------------------------------------------------------------------

def qtype(name):
    return gguf.GGMLQuantizationType[name]


def row_bytes_of(name, k):
    block, size = gguf.GGML_QUANT_SIZES[qtype(name)]
    return k // block * size


def random_f16(rng, n, lo, hi):
    """n finite f16 values of magnitude in [lo, hi), random sign, as little-endian bytes [n, 2]."""
    v = rng.uniform(lo, hi, n) * rng.choice([-1.0, 1.0], n)
    return v.astype(np.float16).view(np.uint8).reshape(n, 2)


def random_blocks(name, rows, k, rng):
    """Random but valid raw rows [rows, row_bytes] of `name`: random bytes, sane f16 scales."""
    if name == "F32":
        return rng.standard_normal((rows, k)).astype(np.float32).view(np.uint8)
    if name == "F16":
        return rng.standard_normal((rows, k)).astype(np.float16).view(np.uint8)
    if name == "BF16":
        bits = (rng.standard_normal((rows, k)).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
        return bits.view(np.uint8)
    block, size = gguf.GGML_QUANT_SIZES[qtype(name)]
    n = rows * k // block
    raw = rng.integers(0, 256, (n, size), dtype=np.uint8)
    for field in F16_FIELDS[name]:
        raw[:, field:field + 2] = random_f16(rng, n, 0.002, 0.02) if name in K_QUANTS else random_f16(rng, n, 0.02, 0.2)
    return np.ascontiguousarray(raw.reshape(rows, k // block * size))


def make_weights(name, rows, k, rng, source):
    """(raw bytes [rows, row_bytes] uint8, dequantized float64 [rows, k]) — source 'quantize' (gguf's quantizer,
    where it has one) or 'raw' (random valid blocks); the dequantized values always come from gguf."""
    if source == "quantize" and name not in K_QUANTS:
        raw = gguf.quants.quantize(rng.standard_normal((rows, k)).astype(np.float32), qtype(name))
        raw = np.ascontiguousarray(raw).view(np.uint8).reshape(rows, -1)
    else:
        raw = random_blocks(name, rows, k, rng)
    assert raw.shape == (rows, row_bytes_of(name, k)), (name, raw.shape)
    ref = np.asarray(gguf.quants.dequantize(raw, qtype(name)), F64).reshape(rows, k)
    assert np.all(np.isfinite(ref)), name
    return raw, ref


def f16(x):
    """x rounded to f16, back in float64."""
    return np.asarray(x, F64).astype(np.float16).astype(F64)


def rmsnorm_ref(x, w, eps):
    x = np.asarray(x, F64)
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + F64(np.float32(eps))) * np.asarray(w, F64)


def silu_ref(x):
    x = np.asarray(x, F64)
    return x / (1.0 + np.exp(-x))


def gelu_ref(x):
    """GELU (tanh form) at the f16-rounded input, rounded to f16; 0 at or below -10, x at or above 10."""
    x = np.asarray(x, F64)
    xr = f16(x)
    g = f16(0.5 * xr * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * xr * (1.0 + 0.044715 * xr * xr))))
    return np.where(x <= -10.0, 0.0, np.where(x >= 10.0, x, g))


def rope_tables(pos, n_rot, base):
    """cos, sin [n_tokens, n_rot / 2] float32 as llm_rope_tables: theta_i = pos * scale^i by repeated float32
    multiplication, scale = base^(-2 / n_rot)."""
    half = n_rot // 2
    scale = np.float32(base) ** (np.float32(-2.0) / np.float32(n_rot))
    factors = np.empty((len(pos), half), np.float32)
    factors[:, 0] = np.asarray(pos, np.float32)
    factors[:, 1:] = scale
    theta = np.multiply.accumulate(factors, axis=1, dtype=np.float32)  # sequential float32 products
    return np.cos(theta).astype(np.float32), np.sin(theta).astype(np.float32)


def rope_ref(x, cos, sin, n_rot, neox):
    """x [T, H, head_dim]: pairs (i, i + n_rot/2) (neox) or (2i, 2i + 1) rotated by the tables' angles."""
    half = n_rot // 2
    a = np.arange(half) if neox else 2 * np.arange(half)
    b = a + half if neox else a + 1
    c, s = np.asarray(cos, F64)[:, None, :], np.asarray(sin, F64)[:, None, :]
    out = np.array(x, F64)
    x0, x1 = out[..., a].copy(), out[..., b].copy()
    out[..., a] = x0 * c - x1 * s
    out[..., b] = x0 * s + x1 * c
    return out


def attention_ref(q16, keys, values, pos, item, n_head, n_head_kv, scale, window):
    """q16 [T, n_head, hd] (f16-rounded); keys/values[item] [n_pos, n_head_kv, hd] (f16-rounded): exact softmax over
    the causal positions (the last `window` of them when window > 0)."""
    out = np.zeros_like(q16)
    group = n_head // n_head_kv
    for t in range(q16.shape[0]):
        last = int(pos[t])
        first = last + 1 - window if window > 0 and last + 1 > window else 0
        K, V = keys[int(item[t])][first:last + 1], values[int(item[t])][first:last + 1]
        for h in range(n_head):
            s = K[:, h // group, :] @ q16[t, h] * scale
            p = np.exp(s - s.max())
            out[t, h] = (p / p.sum()) @ V[:, h // group, :]
    return out


class Arena:
    """The paged KV arena: page = [n_layer][2 (K, V)][page_tokens][kv_dim] f16; NaN where nothing was written."""

    def __init__(self, n_pages, n_layer, page_tokens, kv_dim):
        self.shape = (n_pages, n_layer, 2, page_tokens, kv_dim)
        self.page_tokens = page_tokens
        self.bits = np.full(self.shape, KV_NAN, np.uint16)
        self.page_bytes = n_layer * 2 * page_tokens * kv_dim * 2

    def store(self, layer, pages, max_pages, pos, item, k16, v16):
        """k16, v16 [T, kv_dim] (float64 already f16 values) into the slots of (item, pos)."""
        for t in range(len(pos)):
            p, it = int(pos[t]), int(item[t])
            page = pages[it * max_pages + p // self.page_tokens]
            self.bits[page, layer, 0, p % self.page_tokens] = k16[t].astype(np.float16).view(np.uint16)
            self.bits[page, layer, 1, p % self.page_tokens] = v16[t].astype(np.float16).view(np.uint16)


# ---- emulations of the kernels' index arithmetic (self-test only) --------------------------------------------------

def _h2f(b, o):
    return float(b[o:o + 2].copy().view(np.float16)[0])


def dequant8_emul(name, row, e):
    """A line-by-line port of dequant8 (elements [e, e + 8) of a raw row), to check its layouts on the CPU."""
    t, y = TYPES[name], [0.0] * 8
    b = row
    if t == 0:
        return [float(v) for v in row.view(np.float32)[e:e + 8]]
    if t == 1:
        return [float(v) for v in row.view(np.float16)[e:e + 8]]
    if t == 30:
        return [float(np.uint32(int(v) << 16).view(np.float32)) for v in row.view(np.uint16)[e:e + 8]]
    if t in (2, 3):
        q41 = t == 3
        o = (e // 32) * (20 if q41 else 18)
        j = e % 32
        d = _h2f(b, o)
        m = _h2f(b, o + 2) if q41 else -8.0 * d
        qs = o + (4 if q41 else 2) + (j & 15)
        shift = 0 if j < 16 else 4
        return [((int(b[qs + i]) >> shift) & 0xF) * d + m for i in range(8)]
    if t in (6, 7):
        q51 = t == 7
        o = (e // 32) * (24 if q51 else 22)
        j = e % 32
        d = _h2f(b, o)
        m = _h2f(b, o + 2) if q51 else -16.0 * d
        qo = o + (4 if q51 else 2)
        qh = int(b[qo]) | int(b[qo + 1]) << 8 | int(b[qo + 2]) << 16 | int(b[qo + 3]) << 24
        qs = o + (8 if q51 else 6) + (j & 15)
        shift = 0 if j < 16 else 4
        return [(((int(b[qs + i]) >> shift) & 0xF) | (((qh >> (j + i)) & 1) << 4)) * d + m for i in range(8)]
    if t == 8:
        o = (e // 32) * 34
        d = _h2f(b, o)
        qs = b[o + 2:o + 34].view(np.int8)
        return [float(qs[e % 32 + i]) * d for i in range(8)]
    if t in (12, 13):
        q5 = t == 13
        o = (e // 256) * (176 if q5 else 144)
        w = e % 256
        c, sub, l = w // 64, (w % 64) // 32, w % 32
        j, q = 2 * c + sub, b[o + 4:o + 16]
        if j < 4:
            sc, mn = q[j] & 63, q[j + 4] & 63
        else:
            sc, mn = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4)
        d, m = _h2f(b, o) * float(sc), _h2f(b, o + 2) * float(mn)
        qs, qh = o + (48 if q5 else 16) + 32 * c + l, o + 16 + l
        shift, bit = (4 if sub else 0), 1 << (2 * c + sub)
        return [d * float(((int(b[qs + i]) >> shift) & 0xF) + (16 if q5 and (b[qh + i] & bit) else 0)) - m
                for i in range(8)]
    if t == 14:
        o = (e // 256) * 210
        w = e % 256
        half, r = w // 128, w % 128
        s, l = r // 32, r % 32
        ql, qh = o + 64 * half + (s & 1) * 32 + l, o + 128 + 32 * half + l
        scales = b[o + 192 + 8 * half:o + 200 + 8 * half].view(np.int8)
        d = _h2f(b, o + 208) * float(scales[2 * s + l // 16])
        lshift, hshift = (4 if s >= 2 else 0), 2 * s
        return [d * float((((int(b[ql + i]) >> lshift) & 0xF) | (((int(b[qh + i]) >> hshift) & 3) << 4)) - 32)
                for i in range(8)]
    return y


def kv_store_emul(arena_bytes, page_bytes, page_tokens, kv_dim, head_dim, layer, page, slot, is_k, g, values16):
    """prepare_qkv's store address, byte for byte as the kernel computes it."""
    base = page * page_bytes + (layer * 2 + (0 if is_k else 1)) * page_tokens * kv_dim * 2 + slot * kv_dim * 2
    base += g * head_dim * 2
    arena_bytes[base:base + 2 * head_dim] = values16.astype(np.float16).view(np.uint8)


def attention_emul(q16, K, V, scale, warps=4):
    """The kernel's one-pass softmax: warp w takes every warps-th position with a running maximum, then merged."""
    state = []
    for w in range(warps):
        m, l, acc = -math.inf, 0.0, np.zeros(q16.shape[-1])
        for p in range(w, K.shape[0], warps):
            s = float(K[p] @ q16) * scale
            m_new = max(m, s)
            corr, e = math.exp(m - m_new), math.exp(s - m_new)
            l, acc, m = l * corr + e, acc * corr + e * V[p], m_new
        state.append((m, l, acc))
    mx = max(m for m, _, _ in state)
    weights = [0.0 if m == -math.inf else math.exp(m - mx) for m, _, _ in state]
    total = sum(l * wt for (_, l, _), wt in zip(state, weights))
    return sum(acc * wt for (_, _, acc), wt in zip(state, weights)) / total


def self_test(report, rng):
    """The numpy references and the index emulations against each other (and against gguf): no device needed."""
    for name, code in TYPES.items():
        report.line("types", f"{name} = {code} as gguf", 0, 0, 0, int(qtype(name)) == code)
    for name in TYPES:
        k = 512
        raw, ref = make_weights(name, 3, k, rng, "raw")
        emul = np.array([[v for e in range(0, k, 8) for v in dequant8_emul(name, raw[r], e)] for r in range(3)])
        report.compare("dequant8", f"{name} emulation vs gguf dequantize k={k}", emul, ref, 1e-6)
        if name not in K_QUANTS and name not in ("F32", "BF16"):
            x = rng.standard_normal((3, k)).astype(np.float32)
            raw = np.ascontiguousarray(gguf.quants.quantize(x, qtype(name))).view(np.uint8).reshape(3, -1)
            back = np.asarray(gguf.quants.dequantize(raw, qtype(name)), F64).reshape(3, k)
            report.compare("gguf", f"{name} quantize/dequantize round trip", back, x, 0.2 if "4" in name else 0.1)
    # rope tables as llm_rope_tables' loop
    pos = np.array([0, 1, 7, 20, 36, 4000], np.uint32)
    cos, sin = rope_tables(pos, 64, 10000.0)
    scale = np.float32(10000.0) ** (np.float32(-2.0) / np.float32(64))
    loop_c, loop_s = np.empty_like(cos), np.empty_like(sin)
    for t, p in enumerate(pos):
        theta = np.float32(p)
        for i in range(32):
            loop_c[t, i], loop_s[t, i] = np.cos(theta), np.sin(theta)
            theta = np.float32(theta * scale)
    report.compare("rope", "tables: accumulate vs loop", np.concatenate([cos, sin]), np.concatenate([loop_c, loop_s]), 0)
    x = rng.standard_normal((len(pos), 2, 64))
    angles = pos[:, None].astype(F64) * 10000.0 ** (-2.0 * np.arange(32) / 64)
    for neox in (1, 0):
        rot = rope_ref(x, np.cos(angles), np.sin(angles), 64, neox)
        z = rot[..., :32] + 1j * rot[..., 32:] if neox else rot[..., 0::2] + 1j * rot[..., 1::2]
        z0 = x[..., :32] + 1j * x[..., 32:] if neox else x[..., 0::2] + 1j * x[..., 1::2]
        want = z0 * np.exp(1j * angles)[:, None, :]
        report.compare("rope", f"neox={neox} vs complex rotation", np.stack([z.real, z.imag]),
                       np.stack([want.real, want.imag]), 1e-12)
    # GELU: the float64 reference vs ggml's float32 table formula, both through f16: at most one f16 step apart
    xs = np.linspace(-10, 10, 200001).astype(np.float32)
    xr = xs.astype(np.float16).astype(np.float32)
    c = np.float32(0.7978845608028654)
    inner = c * xr * (np.float32(0.044715) * xr * xr + np.float32(1.0))
    g32 = (np.float32(0.5) * xr * (np.float32(1.0) + np.tanh(inner))).astype(np.float16).astype(F64)
    g64 = gelu_ref(xs)
    report.compare("glu", "GELU f64 reference vs f32 formula", g32, g64, TOL_F16)
    # the KV store address vs the arena's [page][layer][K/V][slot][kv_dim] view
    n_pages, n_layer, page_tokens, n_head_kv, head_dim = 5, 2, 16, 3, 64
    kv_dim = n_head_kv * head_dim
    arena = Arena(n_pages, n_layer, page_tokens, kv_dim)
    flat = np.full(n_pages * arena.page_bytes // 2, KV_NAN, np.uint16).view(np.uint8)
    pages, max_pages = [3, 0, 4, 1, 2, 2], 3
    pos, item = np.array([0, 17, 33, 5, 20]), np.array([0, 0, 0, 1, 1])
    k16, v16 = f16(rng.standard_normal((5, kv_dim))), f16(rng.standard_normal((5, kv_dim)))
    arena.store(1, pages, max_pages, pos, item, k16, v16)
    for t in range(5):
        page, slot = pages[item[t] * max_pages + pos[t] // page_tokens], pos[t] % page_tokens
        for g in range(n_head_kv):
            for is_k, vals in ((True, k16), (False, v16)):
                kv_store_emul(flat, arena.page_bytes, page_tokens, kv_dim, head_dim, 1, page, slot, is_k, g,
                              vals[t, g * head_dim:(g + 1) * head_dim])
    same = np.array_equal(flat.view(np.uint16), arena.bits.reshape(-1))
    report.line("kv", "store address emulation vs arena view", 0, 0, 0, same)
    # the one-pass, four-warp softmax vs the exact one
    for L in (1, 3, 4, 37):
        q16 = f16(rng.standard_normal(64))
        K, V = f16(rng.standard_normal((L, 1, 64))), f16(rng.standard_normal((L, 1, 64)))
        exact = attention_ref(q16[None, None, :], [K], [V], [L - 1], [0], 1, 1, 0.125, 0)[0, 0]
        report.compare("attention", f"four-warp merge emulation, {L} positions", attention_emul(q16, K[:, 0], V[:, 0], 0.125),
                       exact, 1e-12)
    # argmax reference: lowest index of the maximum
    row = rng.standard_normal(1000)
    row[[10, 500, 999]] = 9.0
    report.line("argmax", "reference takes the lowest tied index", 0, 0, 0, int(np.argmax(row)) == 10)


# ---- the device ---------------------------------------------------------------------------------------------------

C_TYPES = {"int": np.int32, "u32": np.uint32, "u64": np.uint64, "float": np.float32}


def kernel_signatures(src):
    """{kernel: [(C type, e.g. 'u32' or 'float*', parameter)]} of the source's extern "C" kernels."""
    sigs = {}
    for name, params in re.findall(r'extern\s+"C"\s+__global__\s+void\s+(\w+)\s*\(([^)]*)\)', src):
        sigs[name] = []
        for param in params.split(","):
            words = param.replace("*", " * ").split()
            pointee = words[words.index("*") - 1] if "*" in words else None
            sigs[name].append((pointee + "*" if pointee else words[-2], words[-1]))
    return sigs


class Device:
    def __init__(self, cp, module, src):
        self.cp = cp
        self.module = module
        self.kernels = {}
        self.signatures = kernel_signatures(src)

    def check_args(self, name, args):
        """Every argument as the kernel declares it: device arrays (or NULL) for pointers, exact numpy scalar types."""
        sig = self.signatures[name]
        if len(sig) != len(args):
            raise TypeError(f"{name}: {len(args)} arguments for {len(sig)} parameters")
        for (ctype, param), arg in zip(sig, args):
            if ctype.endswith("*"):  # u8 * takes bytes of any type; others their element type
                ok = (type(arg) is np.uint64 and arg == 0) or (isinstance(arg, self.cp.ndarray) and (
                    ctype == "u8*" or arg.dtype == C_TYPES.get(ctype[:-1])))
            else:
                ok = type(arg) is C_TYPES.get(ctype)
            if not ok:
                raise TypeError(f"{name}: argument {param} ({ctype}) given as {type(arg).__name__}")

    def kernel(self, name):
        if name not in self.kernels:
            self.kernels[name] = self.module.get_function(name)
        return self.kernels[name]

    def launch(self, name, grid, block, args, shared=0):
        self.check_args(name, args)
        self.kernel(name)(tuple(grid), (block,), tuple(args), shared_mem=shared)
        self.cp.cuda.runtime.deviceSynchronize()

    def upload(self, array):
        """A flat device copy (kernels see pointers)."""
        return self.cp.asarray(np.ascontiguousarray(array).reshape(-1))

    def output(self, size, dtype=np.float32, fill=SENTINEL):
        """A buffer of size + GUARD elements filled with a sentinel."""
        return self.cp.full(size + GUARD, fill, dtype=dtype)

    def fetch(self, buffer, size, fill=SENTINEL):
        """(the first `size` elements, whether the guard past them is untouched)."""
        host = self.cp.asnumpy(buffer)
        return host[:size], bool(np.all(host[size:] == fill))


NULL = np.uint64(0)


def ceil_div(a, b):
    return (a + b - 1) // b


def check_matmul(dev, report, rng, name, source, rows, k, n):
    raw, w = make_weights(name, rows, k, rng, source)
    x = rng.standard_normal((n, k)).astype(np.float32)
    ref = x.astype(F64) @ w.T
    out = dev.output(n * rows)
    args = (np.int32(TYPES[name]), dev.upload(raw), np.uint64(raw.shape[1]), np.uint32(rows), np.uint32(k),
            dev.upload(x), np.uint32(n), out, np.uint32(rows))
    dev.launch("matmul", (ceil_div(rows, 4), ceil_div(n, 8)), 128, args)
    got, guard = dev.fetch(out, n * rows)
    report.compare("matmul", f"{name:<5} {source:<8} rows={rows} k={k} n={n}", got.reshape(n, rows), ref, TOL_F32,
                   guard, "" if guard else "wrote past the output")


TOL_MMA = 5e-3  # f16 inputs (weights and activations) with f32 accumulation


def check_matmul_mma(dev, report, rng, name, rows, k, n):
    """The tensor-core product (batches of >= 16 tokens): 64 x 64 tiles, partial tiles at both edges."""
    raw, w = make_weights(name, rows, k, rng, "raw")
    x = rng.standard_normal((n, k)).astype(np.float32)
    ref = x.astype(F64) @ w.T
    out = dev.output(n * rows)
    args = (np.int32(TYPES[name]), dev.upload(raw), np.uint64(raw.shape[1]), np.uint32(rows), np.uint32(k),
            dev.upload(x), np.uint32(n), out, np.uint32(rows))
    dev.launch("matmul_mma", (ceil_div(rows, 64), ceil_div(n, 64)), 128, args)
    got, guard = dev.fetch(out, n * rows)
    report.compare("matmul_mma", f"{name:<5} rows={rows} k={k} n={n}", got.reshape(n, rows), ref, TOL_MMA, guard,
                   "" if guard else "wrote past the output")


def check_embed(dev, report, rng, name, n_vocab, n_embd, scale):
    raw, table = make_weights(name, n_vocab, n_embd, rng, "raw")
    tokens = np.concatenate([rng.integers(0, n_vocab, 7), [n_vocab - 1, 0, 3, 3]]).astype(np.int32)
    x = dev.output(len(tokens) * n_embd)
    args = (np.int32(TYPES[name]), dev.upload(raw), np.uint64(raw.shape[1]), np.uint32(n_embd), dev.upload(tokens),
            np.float32(scale), x)
    dev.launch("embed", (len(tokens),), 128, args)
    got, guard = dev.fetch(x, len(tokens) * n_embd)
    ref = table[tokens] * F64(np.float32(scale))
    report.compare("embed", f"{name} n_vocab={n_vocab} n_embd={n_embd} scale={scale:g}",
                   got.reshape(len(tokens), n_embd), ref, TOL_F32, guard)


def check_rmsnorm(dev, report, rng, n, n_in, rows, eps=1e-6):
    x = rng.standard_normal((n_in, n)).astype(np.float32) * 3
    w = (1 + 0.5 * rng.standard_normal(n)).astype(np.float32)
    n_rows = n_in if rows is None else len(rows)
    out = dev.output(n_rows * n)
    rows_arg = NULL if rows is None else dev.upload(np.asarray(rows, np.uint32))
    dev.launch("rmsnorm", (n_rows,), 256, (dev.upload(x), rows_arg, dev.upload(w), np.uint32(n), np.float32(eps), out))
    got, guard = dev.fetch(out, n_rows * n)
    src = x if rows is None else x[np.asarray(rows)]
    report.compare("rmsnorm", f"n={n} rows={'none' if rows is None else list(rows)}", got.reshape(n_rows, n),
                   rmsnorm_ref(src, w, eps), TOL_F32, guard)


def check_residual_norm(dev, report, rng, n, n_rows, with_post, with_next, eps=1e-6):
    """x += y (through rmsnorm * post), then xb = rmsnorm(x) * next."""
    x = rng.standard_normal((n_rows, n)).astype(np.float32)
    y = rng.standard_normal((n_rows, n)).astype(np.float32) * 4
    post = (1 + 0.5 * rng.standard_normal(n)).astype(np.float32)
    nxt = (1 + 0.5 * rng.standard_normal(n)).astype(np.float32)
    d_x = dev.output(n_rows * n)
    d_x[:n_rows * n] = dev.upload(x.reshape(-1))
    xb = dev.output(n_rows * n)
    dev.launch("residual_norm", (n_rows,), 256, (d_x, dev.upload(y), dev.upload(post) if with_post else NULL,
                                                 dev.upload(nxt) if with_next else NULL, np.uint32(n), np.float32(eps), xb))
    got, guard = dev.fetch(d_x, n_rows * n)
    ref = x.astype(F64) + (rmsnorm_ref(y, post, eps) if with_post else y)
    label = f"n={n} rows={n_rows} post={'on' if with_post else 'off'} next={'on' if with_next else 'off'}"
    report.compare("residual_norm", label + " x", got.reshape(n_rows, n), ref, TOL_F32, guard)
    got, guard = dev.fetch(xb, n_rows * n)
    if with_next:
        report.compare("residual_norm", label + " xb", got.reshape(n_rows, n), rmsnorm_ref(ref, nxt, eps), TOL_F32, guard)
    else:
        untouched = bool(np.all(got == SENTINEL)) and guard
        report.line("residual_norm", label + " xb untouched", 0, 0, 0, untouched, "" if untouched else "wrote xb without a norm")


def check_add_bias(dev, report, rng, dim, n_tokens):
    total = dim * n_tokens
    x = rng.standard_normal(total).astype(np.float32)
    bias = rng.standard_normal(dim).astype(np.float32)
    d_x = dev.output(total)
    d_x[:total] = dev.upload(x)
    dev.launch("add_bias", (ceil_div(total, 256),), 256, (d_x, dev.upload(bias), np.uint32(dim), np.uint32(total)))
    got, guard = dev.fetch(d_x, total)
    ref = x.astype(F64).reshape(n_tokens, dim) + bias
    report.compare("add_bias", f"dim={dim} n_tokens={n_tokens}", got.reshape(n_tokens, dim), ref, TOL_F32, guard)


def check_glu(dev, report, rng, act, total):
    gate = rng.uniform(-12, 12, total).astype(np.float32)
    gate[:6] = [-10.0, 10.0, -9.99, 9.99, 0.0, -1.999]
    up = rng.standard_normal(total).astype(np.float32)
    d_gate = dev.output(total)
    d_gate[:total] = dev.upload(gate)
    dev.launch("glu", (ceil_div(total, 256),), 256, (d_gate, dev.upload(up), np.uint64(total), np.int32(act)))
    got, guard = dev.fetch(d_gate, total)
    ref = (silu_ref(gate) if act == 0 else gelu_ref(gate)) * up.astype(F64)
    report.compare("glu", f"act={act} ({'SiLU' if act == 0 else 'GELU tanh, f16'}) total={total}", got, ref,
                   TOL_F32 if act == 0 else TOL_F16, guard)


def check_argmax(dev, report, rng, n):
    rows = []
    r = rng.standard_normal(n).astype(np.float32)
    r[[n // 3, (n // 3 + 1024) % n, n - 1]] = 50.0        # same thread, later elements tie
    rows.append(r)
    r = rng.standard_normal(n).astype(np.float32)
    r[[min(n - 1, 777), 5, min(n - 1, 1000)]] = 50.0        # different threads and warps tie
    rows.append(r)
    rows.append(np.full(n, -3.5, np.float32))              # all equal: 0
    r = rng.standard_normal(n).astype(np.float32)
    r[n - 1] = 60.0                                        # the last element
    rows.append(r)
    r = np.full(n, -np.inf, np.float32)                    # nothing above -inf: 0
    rows.append(r)
    logits = np.stack(rows)
    out = dev.output(len(rows), np.int32, np.int32(-5))
    chunks = 64  # ARGMAX_CHUNKS
    part_v, part_i = dev.output(len(rows) * chunks), dev.output(len(rows) * chunks, np.int32, np.int32(-5))
    dev.launch("argmax_chunks", (len(rows), chunks), 256, (dev.upload(logits), np.uint32(n), part_v, part_i))
    dev.launch("argmax_rows", (len(rows),), 32, (part_v, part_i, out))
    got, guard = dev.fetch(out, len(rows), np.int32(-5))
    ref = np.argmax(logits, axis=1)
    bad = int(np.sum(got != ref))
    report.line("argmax", f"n={n} rows={len(rows)} (ties, all equal, last, all -inf)", bad, bad, 0, bad == 0 and guard,
                "" if bad == 0 else f"got {got.tolist()} want {ref.tolist()}")


def check_attention(dev, report, rng, head_dim, n_head, n_head_kv, qk_norm, neox, window, style, n_rot=None):
    """prepare_qkv and attention over a paged arena: item 1's positions 0..19 stored first, then one batch of item 0's
    prefill (positions 0..36) with item 1's decode token (position 20) in the middle of it."""
    cp = dev.cp
    n_rot = n_rot or head_dim
    n_layer, layer, page_tokens, n_pages, max_pages, eps, base = 2, 1, 16, 8, 4, 1e-6, 10000.0
    kv_dim, q_dim = n_head_kv * head_dim, n_head * head_dim
    q_scale = np.float32(1 / math.sqrt(head_dim)) if style == "gemma" else np.float32(1.0)
    att_scale = np.float32(1.0) if style == "gemma" else np.float32(1 / math.sqrt(head_dim))
    perm = rng.permutation(n_pages)
    pages = np.full(2 * max_pages, perm[5], np.uint32)   # unused entries name a page nothing is written to
    pages[0:3], pages[max_pages:max_pages + 2] = perm[0:3], perm[3:5]
    q_norm = (1 + 0.3 * rng.standard_normal(head_dim)).astype(np.float32)
    k_norm = (1 + 0.3 * rng.standard_normal(head_dim)).astype(np.float32)
    arena = Arena(n_pages, n_layer, page_tokens, kv_dim)
    d_kv = dev.output(arena.bits.size, np.uint16, np.uint16(KV_NAN))
    d_pages = dev.upload(pages)
    keys = {0: np.zeros((37, n_head_kv, head_dim)), 1: np.zeros((21, n_head_kv, head_dim))}
    values = {0: np.zeros_like(keys[0]), 1: np.zeros_like(keys[1])}
    label = (f"hd={head_dim} rot={n_rot} heads={n_head}/{n_head_kv} norm={int(qk_norm)} neox={neox} win={window} "
             f"{style}")

    def step(pos, item, what):
        n = len(pos)
        q = (rng.standard_normal((n, q_dim)) * 2).astype(np.float32)
        k = (rng.standard_normal((n, kv_dim)) * 2).astype(np.float32)
        v = rng.standard_normal((n, kv_dim)).astype(np.float32)
        cos, sin = rope_tables(pos, n_rot, base)
        d_q, d_pos, d_item = dev.output(n * q_dim), dev.upload(pos.astype(np.uint32)), dev.upload(item.astype(np.uint32))
        d_q[:n * q_dim] = dev.upload(q.reshape(-1))
        args = (d_q, dev.upload(k), dev.upload(v), dev.upload(q_norm) if qk_norm else NULL,
                dev.upload(k_norm) if qk_norm else NULL, np.uint32(n_head), np.uint32(n_head_kv), np.uint32(head_dim),
                np.uint32(n_rot), np.int32(neox), np.float32(eps), q_scale, dev.upload(cos), dev.upload(sin), d_pos,
                d_item, d_pages, np.uint32(max_pages), d_kv, np.uint64(arena.page_bytes), np.uint32(page_tokens),
                np.uint32(layer))
        dev.launch("prepare_qkv", (n, n_head + 2 * n_head_kv), 128, args, head_dim * 4)
        # reference q, k, v
        qr = q.reshape(n, n_head, head_dim).astype(F64)
        kr = k.reshape(n, n_head_kv, head_dim).astype(F64)
        if qk_norm:
            qr, kr = rmsnorm_ref(qr, q_norm, eps), rmsnorm_ref(kr, k_norm, eps)
        qr = rope_ref(qr, cos, sin, n_rot, neox) * F64(q_scale)
        kr = f16(rope_ref(kr, cos, sin, n_rot, neox))
        vr = f16(v.reshape(n, n_head_kv, head_dim))
        arena.store(layer, pages, max_pages, pos, item, kr.reshape(n, kv_dim), vr.reshape(n, kv_dim))
        for t in range(n):
            keys[item[t]][pos[t]], values[item[t]][pos[t]] = kr[t], vr[t]
        got_q, guard = dev.fetch(d_q, n * q_dim)
        report.compare("prepare_qkv", f"{what} q  {label}", got_q.reshape(n, n_head, head_dim), qr, TOL_F32, guard)
        check_arena(dev, report, d_kv, arena, f"{what} kv {label}")
        return d_q, d_pos, d_item, qr

    step(np.arange(20), np.ones(20, np.int64), "fill ")
    pos = np.concatenate([np.arange(18), [20], np.arange(18, 37)])
    item = np.concatenate([np.zeros(18, np.int64), [1], np.zeros(19, np.int64)])
    d_q, d_pos, d_item, qr = step(pos, item, "batch")
    n = len(pos)
    out = dev.output(n * q_dim)
    args = (d_q, out, np.uint32(n_head), np.uint32(n_head_kv), np.uint32(head_dim), att_scale, np.uint32(window), d_pos,
            d_item, d_pages, np.uint32(max_pages), d_kv, np.uint64(arena.page_bytes), np.uint32(page_tokens),
            np.uint32(layer))
    ref = attention_ref(f16(qr), keys, values, pos, item, n_head, n_head_kv, F64(att_scale), window)
    for threads in (512, 128):  # the plugin's 16 warps, and 4: the kernel takes any whole number of warps up to 16
        dev.launch("attention", (n, n_head), threads, args)
        got, guard = dev.fetch(out, n * q_dim)
        report.compare("attention", f"batch    {label} {threads // 32} warps", got.reshape(n, n_head, head_dim), ref, TOL_F16, guard)


def check_arena(dev, report, d_kv, arena, case):
    """Written slots against the reference (f16), every other slot and the guard still NaN."""
    size = arena.bits.size
    got, guard = dev.fetch(d_kv, size, np.uint16(KV_NAN))
    want = arena.bits.reshape(-1)
    written = want != KV_NAN
    untouched = bool(np.all(got[~written] == KV_NAN))
    g, w = got[written].view(np.float16).astype(F64), want[written].view(np.float16).astype(F64)
    note = "" if untouched and guard else "wrote outside its slots"
    report.compare("prepare_qkv", case, g, w, TOL_F16, untouched and guard, note)


def device_cases():
    """(check function, its arguments after dev, report, rng), in order."""
    cases = []
    for name in TYPES:
        for k in ((768, 2048) if name in K_QUANTS else (640, 2048)):
            for n in (1, 3, 8, 9, 64):
                cases.append((check_matmul, name, "raw" if name in K_QUANTS else "quantize", 67 if k < 2048 else 37, k, n))
        if name not in K_QUANTS and name != "F32":  # every bit pattern, not only what the quantizer makes
            cases += [(check_matmul, name, "raw", 37, 2048, n) for n in (1, 9)]
    for name in TYPES:
        k = 768 if name in K_QUANTS else 640
        cases += [(check_matmul_mma, name, rows, k, n) for rows, n in ((67, 16), (130, 64), (37, 100))]
    cases += [(check_embed, "Q8_0", 50, 1056, 1.0), (check_embed, "Q6_K", 40, 1280, math.sqrt(1280)),
              (check_rmsnorm, 1000, 5, None), (check_rmsnorm, 2304, 10, [7, 2, 9, 2]),
              (check_residual_norm, 1000, 5, False, False), (check_residual_norm, 2304, 3, True, False),
              (check_residual_norm, 640, 4, True, True), (check_residual_norm, 576, 7, False, True),
              (check_add_bias, 1000, 3), (check_add_bias, 64, 1),
              (check_glu, 0, 3000), (check_glu, 1, 3000),
              (check_argmax, 262144), (check_argmax, 1000)]
    for head_dim in (64, 256):
        for n_head, n_head_kv in ((4, 1), (9, 3)):
            for qk_norm in (False, True):
                for neox in (1, 0):
                    for window in (0, 8):
                        for style in ("gemma", "llama"):
                            cases.append((check_attention, head_dim, n_head, n_head_kv, qk_norm, neox, window, style))
    cases.append((check_attention, 128, 8, 2, True, 1, 0, "llama", 64))   # partial rotary
    cases.append((check_attention, 128, 8, 2, False, 0, 8, "gemma", 32))
    return cases


def run_device(report, rng, dev):
    for check, *args in device_cases():
        try:
            check(dev, report, rng, *args)
        except Exception as e:
            traceback.print_exc()
            report.error(check.__name__[6:], repr(tuple(args)), f"{type(e).__name__}: {e}")
            if "cuda" in type(e).__module__.lower():  # a device fault poisons the context: stop here
                break


def open_device(source_path):
    """(Device, None) or (None, reason to skip); compile errors raise."""
    try:
        import cupy as cp
    except Exception as e:  # ImportError, or a broken CUDA install
        return None, f"cupy not importable: {type(e).__name__}: {e}"
    try:
        count = cp.cuda.runtime.getDeviceCount()
    except Exception as e:
        return None, f"{type(e).__name__}: {e}"
    if count == 0:
        return None, "no device"
    src = Path(source_path).read_text()
    last = None
    for options in (("--std=c++17", "-default-device"), ("--std=c++17",)):
        try:
            module = cp.RawModule(code=src, options=options, backend="nvrtc")
            module.get_function("matmul")  # compiles
            props = cp.cuda.runtime.getDeviceProperties(cp.cuda.runtime.getDevice())
            name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
            print(f"device: {name} (sm_{props['major']}{props['minor']}), options {' '.join(options)}, "
                  f"cupy {cp.__version__}", flush=True)
            return Device(cp, module, src), None
        except Exception as e:
            last = e
    raise RuntimeError(f"compiling {source_path} failed:\n{last}")


def main():
    global gguf
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=str(REPO / "Plugins" / "llm" / "llm_kernels.cu"))
    parser.add_argument("--self-test", action="store_true", help="check the numpy references only (no device)")
    parser.add_argument("--seed", type=int, default=1234)
    a = parser.parse_args()
    report, rng = Report(), np.random.default_rng(a.seed)
    if a.self_test:
        gguf = import_gguf()
        self_test(report, rng)
        print(f"kernel_check --self-test: {report.cases} cases, {report.failed} failed")
        return 1 if report.failed else 0
    try:
        dev, reason = open_device(a.source)
    except RuntimeError as e:
        print(f"FAIL: {e}")
        print("kernel_check: 0 cases, 1 failed")
        return 1
    if dev is None:
        print(f"SKIP: no CUDA device ({reason})")
        return 0
    gguf = import_gguf()
    # matmul_multi (a struct by value) is covered end to end by CUDALLMTests, not here
    names = ("matmul", "matmul_mma", "embed", "rmsnorm", "residual_norm", "add_bias", "prepare_qkv", "attention", "glu", "argmax_chunks",
             "argmax_rows")
    for name in names:
        try:
            dev.kernel(name)
        except Exception as e:
            report.error(name, "get_function", f"{type(e).__name__}: {e}")
    if report.failed == 0:
        run_device(report, rng, dev)
    print(f"kernel_check: {report.cases} cases, {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
