#!/usr/bin/env python3
"""Float64 NumPy reference forward pass for the two LLM architectures Plexus serves: `llama` and `gemma3`.

It is the independent reference the C plugin's logits are checked against. Weights are read from the GGUF
file with the `gguf` package (0.17.1) and dequantized with `gguf.quants.dequantize`; every activation is
float64 and no activation is ever quantized, so the only approximation left is the quantized weights
themselves. It re-implements what llama.cpp computes for these files, not what the original HF checkpoints
compute; where the two differ (M1) it follows llama.cpp.

Facts this file relies on, and where each was verified
======================================================
Sources: ggml-org/llama.cpp as vendored in llama-cpp-python 0.3.36 (vendor/llama.cpp at commit
0c1e57098bba, the exact code the cross-check runs), cross-read against upstream ggml-org/llama.cpp
(src/models/gemma3.cpp, src/llama-model.cpp), and huggingface/transformers
src/transformers/models/gemma3/modeling_gemma3.py + configuration_gemma3.py. Every fact below is also
checked numerically: see "Measured" at the end of this docstring.

GGUF layout (both)
  G1  A weight stored with GGUF shape [n_in, n_out] dequantizes to a NumPy array [n_out, n_in]; y = W @ x.
  G2  No `output.weight` in either file: the LM head is `token_embd.weight` (tied).
      llama.cpp src/models/llama.cpp and src/models/gemma3.cpp `load_arch_tensors`: "if output is NULL, init from
      the input tok embed" (TENSOR_DUPLICATED).
  G3  RMSNorm is ggml_rms_norm(x, eps) = x / sqrt(mean(x^2) + eps), then `ggml_mul` by the weight; no bias.
      llama.cpp src/llama-graph.cpp `build_norm` (LLM_NORM_RMS); eps = `<arch>.attention.layer_norm_rms_epsilon`.

llama (SmolLM2-135M-Instruct)
  L1  Block: h += Wo·attn(rope(Wq·n), rope(Wk·n), Wv·n) with n = rms(h)*attn_norm;
      h += Wdown·(silu(Wgate·m) * Wup·m) with m = rms(h)*ffn_norm; final rms(h)*output_norm; logits = E·h.
      llama.cpp src/models/llama.cpp `graph` (build_ffn LLM_FFN_SILU, LLM_FFN_PAR -> ggml_swiglu_split(gate, up)).
  L2  No embedding scale (llama.cpp src/models/llama.cpp: inpL = build_inp_embd(tok_embd), no ggml_scale).
  L3  RoPE type NORM: rotates *adjacent* pairs (x[2i], x[2i+1]) by pos * base^(-2i/n_rot).
      llama.cpp src/llama-model.cpp `llama_model_rope_type`: LLM_ARCH_LLAMA -> LLAMA_ROPE_TYPE_NORM ("operating on
      pairs of consecutive head values"); ggml-cpu ops.cpp rotate_pairs(n_dims, 1, ...) for NORM.
      This is right only because convert_hf_to_gguf.py `LlamaModel.permute` reorders the rows of q_proj/k_proj
      (conversion/llama.py, undo_permute=True), turning HF's rotate_half (NEOX-style) layout into the
      interleaved one. Computing NEOX on these GGUF rows would be wrong.
  L4  n_rot = llama.rope.dimension_count = 64 = head_dim; base = llama.rope.freq_base = 100000; no rope
      scaling keys and no rope_freqs tensor in the file -> freq_scale 1, no freq factors, YaRN ext_factor 0.
  L5  Attention scale 1/sqrt(head_dim) (llama.cpp src/models/llama.cpp: kq_scale = f_attention_scale == 0 ?
      1/sqrt(n_embd_head) : f_attention_scale; the file has no attention-scale key).
  L6  GQA: 9 query heads, 3 KV heads; query head h reads KV head h // (n_head / n_head_kv)
      (ggml_mul_mat broadcast i02 = i12 / r2; HF repeat_kv == repeat_interleave).
  L7  Causal mask only, no sliding window (llama has no swa_type).
  L8  Tokenizer metadata tokenizer.ggml.add_bos_token = false: llama.cpp adds no BOS for SmolLM2.

gemma3 (gemma-3-270m)
  M1  Embedding scaled by sqrtf(n_embd) = sqrt(640) in f32 (llama.cpp src/models/gemma3.cpp: ggml_scale(inpL,
      sqrtf(n_embd)) for token input). HF multiplies by hidden_size**0.5 cast to the weight dtype (bf16 -> 25.25
      instead of 25.2982); llama.cpp does not round, and neither do we.
  M2  Block (sandwich norms): n = rms(h)*attn_norm; a = attn(...); h = h + rms(a)*post_attention_norm;
      m = rms(h)*ffn_norm; f = ffn(m); h = h + rms(f)*post_ffw_norm. Final rms(h)*output_norm.
      llama.cpp src/models/gemma3.cpp; HF Gemma3DecoderLayer (input_layernorm, post_attention_layernorm,
      pre_feedforward_layernorm, post_feedforward_layernorm).
  M3  All Gemma norm weights in the GGUF already include HF's "+1" (Gemma3RMSNorm multiplies by 1 + w):
      conversion/gemma.py Gemma3Model.norm_shift returns 1.0 for every name ending in "norm.weight", which
      includes q_norm/k_norm. So every norm here is a plain multiply.
  M4  QK-norm: per-head RMSNorm over head_dim (256) on q and on k with attn_q_norm / attn_k_norm, applied
      after the projections and BEFORE RoPE (llama.cpp gemma3.cpp: build_norm(Qcur) then ggml_rope_ext;
      HF: q_norm/k_norm then apply_rotary_pos_emb). V is not normalised.
  M5  RoPE type NEOX: rotates (x[i], x[i + n_rot/2]) (llama.cpp llama_model_rope_type: LLM_ARCH_GEMMA3 ->
      LLAMA_ROPE_TYPE_NEOX; HF rotate_half). Gemma conversion does not permute q/k. n_rot = key_length = 256.
  M6  Layer pattern: set_swa_pattern(6) -> layer il is sliding iff il % 6 < 5, so GLOBAL layers are 5, 11, 17
      (llama.cpp src/llama-hparams.cpp set_swa_pattern; gemma3.cpp load_swa_pattern(ml, 6), the file has no
      sliding_window_pattern key; HF configuration_gemma3: "full_attention" iff (i + 1) % 6 == 0).
  M7  Sliding layers: RoPE base rope_freq_base_train_swa = 10000 (llama-hparams.h default; the file has no
      rope.freq_base_swa key), window n_swa = gemma3.attention.sliding_window = 512 with mask rule "key at p0
      masked for query at p1 iff p1 - p0 >= 512" (llama-hparams.h is_masked_swa, LLAMA_SWA_TYPE_STANDARD;
      HF sliding mask q_idx - kv_idx < sliding_window). Global layers: base gemma3.rope.freq_base = 1e6.
  M8  No RoPE scaling for the 270m file: no gemma3.rope.scaling.* keys -> freq_scale 1.0 on global layers and
      rope_freq_scale_train_swa = 1.0 on local ones (only the 4b/12b/27b checkpoints use linear factor 8).
  M9  Attention scale: q is multiplied by f_attention_scale = 1/sqrt(n_embd_head_k) = 1/sqrt(256) = 1/16
      before attention, which then uses kq_scale 1.0 (llama.cpp gemma3.cpp + load_arch_hparams: only the 27B
      type uses 1/sqrt(n_embd/n_head)). HF: query_pre_attn_scalar**-0.5 with query_pre_attn_scalar = 256, the
      same number; llama.cpp derives it from gemma3.attention.key_length = 256 and never reads the scalar.
  M10 GQA: 4 query heads, 1 KV head (multi-query).
  M11 FFN: GeGLU with tanh-approximate GELU, gelu(Wgate·m) * Wup·m (llama.cpp build_ffn LLM_FFN_GELU +
      LLM_FFN_PAR -> ggml_geglu_split(gate, up); HF Gemma3MLP act_fn = gelu_pytorch_tanh).
      gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
  M12 No attention logit soft-capping (Gemma 3 dropped it: conversion asserts attn_logit_softcapping is None)
      and no final logit soft-capping for this file: gemma3.cpp applies tanh capping only if
      f_final_logit_softcapping != 0, which defaults to 0 and is read from gemma3.final_logit_softcapping,
      absent here (HF config final_logit_softcapping = null for Gemma 3).
  M13 Tokenizer metadata tokenizer.ggml.add_bos_token = true: llama.cpp prepends BOS id 2.

Where llama.cpp (CPU) and this reference differ numerically, by design
  D1  llama.cpp quantizes the activation operand of every quantized matmul (ggml-cpu.c type_traits_cpu
      vec_dot_type: Q8_1 for Q4_1 weights, Q8_0 for Q5_0/Q8_0, Q8_K for Q4_K/Q6_K) and does integer dot
      products; we multiply by dequantized weights in float64.
  D2  llama.cpp's CPU GELU (GGML_GELU_FP16 defined in ggml-cpu/vec.h) rounds the input to f16 and looks the
      result up in an f16 table; we compute the exact tanh formula.
  D3  llama.cpp keeps K and V in an f16 KV cache (default type_k/type_v F16); without flash attention the
      mul_mat against f16 K/V also rounds q and the softmax probabilities to f16.
  Measured (crosscheck.json): on an F32 GGUF of the same dequantized weights with an F32 KV cache, llama.cpp
  and this file agree to ~1e-6 relative (llama) and ~3e-4 (gemma3, all of it the f16 GELU table: D2), so the
  model structure matches. On the shipped quantized files the gap is 1-7% relative L2 (max |dlogit| up to
  ~1.3) from D1/D3, the same size as llama.cpp's own batch-prefill vs token-by-token difference.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import gguf
from gguf.quants import dequantize

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]


# ---------------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Hparams:
    """Hyperparameters read from the GGUF metadata (key names are `<arch>.<key>`)."""
    arch: str
    n_vocab: int
    n_embd: int
    n_layer: int
    n_ff: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_rot: int
    rms_eps: float
    rope_base: float            # global (full-attention) layers
    rope_base_swa: float = 0.0  # gemma3 sliding layers
    n_swa: int = 0              # 0 = no sliding window
    swa_pattern: int = 0        # layer il is sliding iff il % swa_pattern < swa_pattern - 1
    attn_scale: float = 0.0     # multiplier on q·k
    embd_scale: float = 1.0
    final_softcap: float = 0.0

    def is_swa(self, il: int) -> bool:
        return self.n_swa > 0 and il % self.swa_pattern < self.swa_pattern - 1


class ExactNumerics:
    """The reference's arithmetic: float64 everywhere, nothing rounded. Every hook is the identity."""
    name = "exact"

    def matmul_input(self, x: np.ndarray, weight_type: gguf.GGMLQuantizationType) -> np.ndarray:
        return x

    def f16(self, x: np.ndarray) -> np.ndarray:
        return x

    def gelu(self, x: np.ndarray) -> np.ndarray:
        return gelu_tanh(x)


class GgmlCpuNumerics(ExactNumerics):
    """Diagnostic only, never used for the goldens: re-applies llama.cpp CPU's roundings D1-D3.

    With it the reference reproduces llama.cpp on the quantized gemma3 file to ~1e-7 relative until the first
    position where one 8-bit rounding decision lands the other way (float64 vs float32 intermediates); after
    that both are apart by the same few percent as llama.cpp's own batch vs token-by-token runs
    (crosscheck.json per_position_rel_l2).
    """
    name = "ggml-cpu"
    # ggml-cpu.c type_traits_cpu[...].vec_dot_type: the format the activation row is quantized to
    VEC_DOT = {"Q4_1": ("q8", 32), "Q5_0": ("q8", 32), "Q8_0": ("q8", 32), "Q4_K": ("q8k", 256),
               "Q6_K": ("q8k", 256)}

    def matmul_input(self, x, weight_type):
        kind, block = self.VEC_DOT[weight_type.name]
        xb = np.asarray(x, dtype=np.float32).reshape(-1, block)
        if kind == "q8":   # x86 quantize_row_q8_0/_q8_1: q = rint(x * 127/amax), dequantized with f16(amax/127)
            amax = np.abs(xb).max(axis=1, keepdims=True)
            inv = np.where(amax > 0, np.float32(127) / np.where(amax > 0, amax, 1), 0).astype(np.float32)
            out = np.rint(xb * inv) * (amax / np.float32(127)).astype(np.float16).astype(np.float32)
        else:              # quantize_row_q8_K_ref: iscale = -127/max (signed), q = min(127, rint), d = 1/iscale
            mx = np.take_along_axis(xb, np.abs(xb).argmax(axis=1)[:, None], axis=1)
            iscale = np.where(mx != 0, np.float32(-127) / np.where(mx != 0, mx, 1), 0).astype(np.float32)
            d = np.where(iscale != 0, np.float32(1) / np.where(iscale != 0, iscale, 1), 0).astype(np.float32)
            out = np.minimum(127, np.rint(iscale * xb)) * d
        return out.reshape(x.shape).astype(np.float64)

    def q8_1_sum_correction(self, x: np.ndarray) -> np.ndarray:
        """Q4_1 x Q8_1 uses s = f16(d * sum(q)) for the weight-min term, not f16(d) * sum(q): per-block delta."""
        xb = np.asarray(x, dtype=np.float32).reshape(-1, 32)
        amax = np.abs(xb).max(axis=1, keepdims=True)
        d = amax / np.float32(127)
        inv = np.where(amax > 0, np.float32(127) / np.where(amax > 0, amax, 1), 0).astype(np.float32)
        qsum = np.rint(xb * inv).sum(axis=1, keepdims=True)
        exact_s = (d * qsum).astype(np.float16).astype(np.float64)
        return (exact_s - d.astype(np.float16).astype(np.float64) * qsum).reshape(x.shape[0], -1)

    def f16(self, x):
        return np.asarray(x).astype(np.float16).astype(np.float64)

    def gelu(self, x):     # vec.h GGML_GELU_FP16: table of f16(gelu(f16 input)), identity/zero beyond +-10
        xf = np.asarray(x, dtype=np.float32)
        t = gelu_tanh(xf.astype(np.float16).astype(np.float32)).astype(np.float16).astype(np.float64)
        return np.where(xf <= -10, 0.0, np.where(xf >= 10, xf.astype(np.float64), t))


class GeluTableNumerics(ExactNumerics):
    """Diagnostic only: exact except llama.cpp CPU's f16 GELU table (D2)."""
    name = "gelu-f16-table"
    gelu = GgmlCpuNumerics.gelu


@dataclass
class Model:
    """Hyperparameters plus float64 weights, `w[name]` shaped [n_out, n_in] (norms: [n])."""
    hp: Hparams
    w: dict[str, np.ndarray] = field(default_factory=dict)
    qtype: dict[str, gguf.GGMLQuantizationType] = field(default_factory=dict)
    num: ExactNumerics = field(default_factory=ExactNumerics)
    q4_1_mins: dict[str, np.ndarray] = field(default_factory=dict)   # diagnostic only: [n_out, n_in/32]


def _field(reader: gguf.GGUFReader, key: str, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def read_hparams(reader: gguf.GGUFReader) -> Hparams:
    arch = _field(reader, "general.architecture")
    k = lambda name, default=None: _field(reader, f"{arch}.{name}", default)  # noqa: E731
    n_embd, n_head = int(k("embedding_length")), int(k("attention.head_count"))
    head_dim = int(k("attention.key_length", n_embd // n_head))
    n_layer = int(k("block_count"))
    ff = k("feed_forward_length")
    hp = Hparams(
        arch=arch,
        n_vocab=len(reader.fields["tokenizer.ggml.tokens"].data),
        n_embd=n_embd, n_layer=n_layer, n_ff=int(ff if np.isscalar(ff) else ff[0]),
        n_head=n_head, n_head_kv=int(k("attention.head_count_kv", n_head)),
        head_dim=head_dim, n_rot=int(k("rope.dimension_count", head_dim)),
        rms_eps=float(k("attention.layer_norm_rms_epsilon")),
        rope_base=float(k("rope.freq_base", 10000.0)),
    )
    for key in ("rope.scaling.type", "rope.scaling.factor", "rope.freq_base_swa", "attention.sliding_window_pattern",
                "attn_logit_softcapping"):
        assert k(key) is None, f"{arch}.{key} present: this reference does not implement it"  # L4, M7, M8, M12
    if arch == "llama":
        hp.attn_scale = 1.0 / math.sqrt(head_dim)                               # L5
    elif arch == "gemma3":
        hp.n_swa = int(k("attention.sliding_window", 0))                        # M7
        hp.swa_pattern = 6                                                      # M6
        hp.rope_base_swa = 10000.0                                              # M7
        hp.attn_scale = float(np.float32(1.0) / np.sqrt(np.float32(head_dim)))  # M9: 1/16 exactly
        hp.embd_scale = float(np.sqrt(np.float32(n_embd)))                      # M1: sqrtf(n_embd)
        hp.final_softcap = float(k("final_logit_softcapping", 0.0))             # M12
    else:
        raise ValueError(f"unsupported architecture {arch}")
    return hp


def load_model(path: Path) -> Model:
    reader = gguf.GGUFReader(str(path))
    model = Model(read_hparams(reader))
    for t in reader.tensors:
        a = dequantize(t.data, t.tensor_type)                                   # G1: [n_out, n_in] float32
        model.w[t.name] = np.asarray(a, dtype=np.float64).reshape(tuple(int(d) for d in reversed(t.shape)))
        model.qtype[t.name] = t.tensor_type
        if t.tensor_type == gguf.GGMLQuantizationType.Q4_1:   # block: f16 d, f16 m, 16 bytes of nibbles
            blocks = np.asarray(t.data).reshape(-1, 20)
            model.q4_1_mins[t.name] = blocks[:, 2:4].copy().view(np.float16).astype(np.float64).reshape(
                model.w[t.name].shape[0], -1)
    assert "rope_freqs.weight" not in model.w, "rope frequency factors are not implemented"   # L4
    if "output.weight" not in model.w:                                          # G2: tied LM head
        model.w["output.weight"] = model.w["token_embd.weight"]
        model.qtype["output.weight"] = model.qtype["token_embd.weight"]
    return model


# ---------------------------------------------------------------------------------------------------------------
# Building blocks (x: [T, n] float64 unless stated)
# ---------------------------------------------------------------------------------------------------------------

def rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    """G3: x / sqrt(mean(x^2) + eps) * weight over the last axis."""
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def rope(x: np.ndarray, pos: np.ndarray, n_rot: int, base: float, neox: bool) -> np.ndarray:
    """Rotary embedding of x [T, H, D] at positions pos [T]. NORM: adjacent pairs (L3); NEOX: halves (M5)."""
    inv_freq = base ** (-np.arange(0, n_rot, 2, dtype=np.float64) / n_rot)     # [n_rot/2]
    ang = pos.astype(np.float64)[:, None] * inv_freq[None, :]                   # [T, n_rot/2]
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]                 # [T, 1, n_rot/2]
    out = x.copy()
    if neox:
        x0, x1 = x[..., : n_rot // 2], x[..., n_rot // 2: n_rot]
        out[..., : n_rot // 2] = x0 * cos - x1 * sin
        out[..., n_rot // 2: n_rot] = x0 * sin + x1 * cos
    else:
        x0, x1 = x[..., 0:n_rot:2], x[..., 1:n_rot:2]
        out[..., 0:n_rot:2] = x0 * cos - x1 * sin
        out[..., 1:n_rot:2] = x0 * sin + x1 * cos
    return out


def attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, scale: float, n_swa: int,
              num: ExactNumerics) -> np.ndarray:
    """Causal GQA softmax attention. q [T, H, D], k/v [T, Hkv, D] -> [T, H*D]. n_swa > 0 adds the M7 window."""
    T, H, D = q.shape
    group = H // k.shape[1]
    q, k, v = num.f16(q), num.f16(k), num.f16(v)                                # D3 (identity when exact)
    p1, p0 = np.arange(T)[:, None], np.arange(T)[None, :]
    masked = p0 > p1
    if n_swa > 0:
        masked |= (p1 - p0) >= n_swa
    out = np.empty((T, H, D))
    for h in range(H):
        kv = h // group                                                         # L6 / M10
        s = (q[:, h, :] @ k[:, kv, :].T) * scale                                # [T, T]
        s = np.where(masked, -np.inf, s)
        s = np.exp(s - s.max(axis=-1, keepdims=True))
        out[:, h, :] = num.f16(s / s.sum(axis=-1, keepdims=True)) @ v[:, kv, :]
    return out.reshape(T, H * D)


def silu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    """M11: tanh-approximate GELU, exact formula (llama.cpp CPU uses an f16 table, D2)."""
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def linear(m: Model, name: str, x: np.ndarray) -> np.ndarray:
    """y = x @ W^T for the weight `name` [n_out, n_in] and x [T, n_in] (G1)."""
    y = m.num.matmul_input(x, m.qtype[name]) @ m.w[name].T                      # D1 (identity when exact)
    if name in m.q4_1_mins and isinstance(m.num, GgmlCpuNumerics):
        y += m.num.q8_1_sum_correction(x) @ m.q4_1_mins[name].T
    return y


def qkv(m: Model, p: str, n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Q [T, n_head, D], K and V [T, n_head_kv, D] projections of the normed input n [T, n_embd]."""
    hp, T = m.hp, n.shape[0]
    q = linear(m, p + "attn_q.weight", n).reshape(T, hp.n_head, hp.head_dim)
    k = linear(m, p + "attn_k.weight", n).reshape(T, hp.n_head_kv, hp.head_dim)
    v = linear(m, p + "attn_v.weight", n).reshape(T, hp.n_head_kv, hp.head_dim)
    return q, k, v


# ---------------------------------------------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------------------------------------------

def llama_layer(m: Model, il: int, h: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """L1: pre-norm attention + SwiGLU, both residual."""
    hp, w, p = m.hp, m.w, f"blk.{il}."
    n = rms_norm(h, w[p + "attn_norm.weight"], hp.rms_eps)
    q, k, v = qkv(m, p, n)
    q = rope(q, pos, hp.n_rot, hp.rope_base, neox=False)                        # L3
    k = rope(k, pos, hp.n_rot, hp.rope_base, neox=False)
    h = h + linear(m, p + "attn_output.weight", attention(q, k, v, hp.attn_scale, 0, m.num))
    n = rms_norm(h, w[p + "ffn_norm.weight"], hp.rms_eps)
    f = silu(linear(m, p + "ffn_gate.weight", n)) * linear(m, p + "ffn_up.weight", n)
    return h + linear(m, p + "ffn_down.weight", f)


def gemma3_layer(m: Model, il: int, h: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """M2: sandwich-normed attention (with QK-norm) + GeGLU, both residual."""
    hp, w, p, eps = m.hp, m.w, f"blk.{il}.", m.hp.rms_eps
    swa = hp.is_swa(il)                                                         # M6
    base = hp.rope_base_swa if swa else hp.rope_base                            # M7
    n = rms_norm(h, w[p + "attn_norm.weight"], eps)
    q, k, v = qkv(m, p, n)
    q = rope(rms_norm(q, w[p + "attn_q_norm.weight"], eps), pos, hp.n_rot, base, neox=True)   # M4, M5
    k = rope(rms_norm(k, w[p + "attn_k_norm.weight"], eps), pos, hp.n_rot, base, neox=True)
    a = attention(q * hp.attn_scale, k, v, 1.0, hp.n_swa if swa else 0, m.num)                # M9, M7
    h = h + rms_norm(linear(m, p + "attn_output.weight", a), w[p + "post_attention_norm.weight"], eps)
    n = rms_norm(h, w[p + "ffn_norm.weight"], eps)
    f = m.num.gelu(linear(m, p + "ffn_gate.weight", n)) * linear(m, p + "ffn_up.weight", n)   # M11
    return h + rms_norm(linear(m, p + "ffn_down.weight", f), w[p + "post_ffw_norm.weight"], eps)


def forward(m: Model, ids: list[int]) -> np.ndarray:
    """Logits [T, n_vocab] float64 for every position of `ids`, starting at position 0."""
    hp = m.hp
    pos = np.arange(len(ids))
    h = m.w["token_embd.weight"][np.asarray(ids)] * hp.embd_scale               # M1 (llama: scale 1, L2)
    layer = llama_layer if hp.arch == "llama" else gemma3_layer
    for il in range(hp.n_layer):
        h = layer(m, il, h, pos)
    h = rms_norm(h, m.w["output_norm.weight"], hp.rms_eps)
    logits = linear(m, "output.weight", h)                                      # G2
    if hp.final_softcap:                                                        # M12: 0 for our files
        logits = hp.final_softcap * np.tanh(logits / hp.final_softcap)
    return logits


# ---------------------------------------------------------------------------------------------------------------
# Golden output
# ---------------------------------------------------------------------------------------------------------------

SAMPLE_STRIDE = 256   # gemma3: keep every 256th logit (1024 values) as a vocabulary-wide probe


def logsumexp(x: np.ndarray) -> float:
    mx = x.max()
    return float(mx + np.log(np.exp(x - mx).sum()))


def _r(x) -> list[float]:
    return [round(float(v), 5) for v in x]


def summarize(logits: np.ndarray, top: int) -> dict:
    """Top-`top` ids/values (descending) and whole-vector statistics of one float64 logit vector."""
    order = np.argsort(-logits, kind="stable")[:top]
    return {
        "top_ids": [int(i) for i in order], "top_logits": _r(logits[order]),
        "max": round(float(logits.max()), 5), "argmax": int(logits.argmax()),
        "logsumexp": round(logsumexp(logits), 5), "l2": round(float(np.linalg.norm(logits)), 5),
        "mean": round(float(logits.mean()), 6),
    }


def dumps(obj, indent: int = 0) -> str:
    """JSON with one level of indentation per nesting, but every list of scalars on a single line."""
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(obj, dict):
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}" if items else "{}"
    if isinstance(obj, list) and any(isinstance(v, (dict, list)) for v in obj):
        return "[\n" + ",\n".join(inner + dumps(v, indent + 1) for v in obj) + "\n" + pad + "]"
    return json.dumps(obj, ensure_ascii=False)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def golden_for_model(key: str, spec: dict, models_dir: Path) -> dict:
    path = models_dir / spec["file"]
    t0 = time.perf_counter()
    model = load_model(path)
    load_s = time.perf_counter() - t0
    hp = model.hp
    full_vectors = hp.n_vocab <= 65536     # llama/SmolLM2: store whole last-position vectors (3 x 192 KiB)
    out = {"model_file": spec["file"], "model_sha256": sha256(path), "arch": hp.arch, "n_vocab": hp.n_vocab,
           "load_s": round(load_s, 2), "prompts": []}
    full_rows = []
    for p in spec["prompts"]:
        t0 = time.perf_counter()
        logits = forward(model, p["ids"])
        run_s = time.perf_counter() - t0
        last = logits[-1]
        entry = {"name": p["name"], "text": p["text"], "ids": p["ids"], "forward_s": round(run_s, 2),
                 "last": summarize(last, 64)}
        if full_vectors:
            entry["full_last_row"] = len(full_rows)
            full_rows.append(last.astype("<f4"))
        else:
            entry["last"]["sample_stride"] = SAMPLE_STRIDE
            entry["last"]["sample_logits"] = _r(last[::SAMPLE_STRIDE])
        if p.get("all_positions"):
            entry["positions"] = [summarize(logits[i], 16) for i in range(len(p["ids"]))]
            for s in entry["positions"]:
                del s["l2"], s["mean"]
        out["prompts"].append(entry)
        print(f"{key} {p['name']}: T={len(p['ids'])} argmax={entry['last']['argmax']} "
              f"max={entry['last']['max']} forward {run_s:.1f}s", file=sys.stderr)
    if full_rows:
        name = f"reference_{key}_last.f32"
        np.stack(full_rows).tofile(HERE / name)
        out["full_last_file"] = name
        out["full_last_layout"] = f"little-endian float32 [{len(full_rows)}, {hp.n_vocab}], row = full_last_row"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models-dir", type=Path,
                    default=Path(os.environ.get("PLEXUS_MODEL_CACHE", REPO / ".cache" / "models")))
    ap.add_argument("--model", choices=["smollm2", "gemma3"], action="append")
    args = ap.parse_args()
    prompts = json.loads((HERE / "prompts.json").read_text())
    for key in args.model or ["smollm2", "gemma3"]:
        result = golden_for_model(key, prompts[key], args.models_dir)
        result["generator"] = {
            "script": "reference_forward.py", "python": platform.python_version(), "numpy": np.__version__,
            "gguf": importlib.metadata.version("gguf"),
            "machine": f"{platform.machine()} {os.cpu_count()} cpu",
        }
        (HERE / f"reference_{key}.json").write_text(dumps(result) + "\n")


if __name__ == "__main__":
    main()
