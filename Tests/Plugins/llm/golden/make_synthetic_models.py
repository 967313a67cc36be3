#!/usr/bin/env python3
"""Tiny synthetic `qwen2` and `qwen3` GGUF models, and golden logits for them from two independent references.

No real Qwen model is small enough to live in the test suite, so the LLM plugin's qwen2 and qwen3 paths are checked
on random weights: what matters is that every operation of the block (biases, QK-norm, NEOX RoPE, a head size that
is not n_embd / n_head, GQA, tied or separate LM head) is exercised and compared with code that was written
independently of the plugin.

    python3 make_synthetic_models.py            # writes the GGUFs to the cache (default <repo>/.cache/synthetic,
                                                # or $PLEXUS_SYNTHETIC_CACHE, or --out) and checks them against
                                                # the sha256 recorded in synthetic_*.json
    python3 make_synthetic_models.py --goldens  # also recomputes synthetic_*.json (needs llama-cpp-python 0.3.36)

Needs numpy and gguf==0.17.1 (PyPI). The weights come from a counter-based integer hash (splitmix64), not from
NumPy's random generators, so the files are byte-identical on any machine and NumPy version: CI regenerates them
instead of committing binaries, and the run fails if a file's sha256 differs from the one the goldens were made
from.

The models
==========
  qwen2: n_embd 64, 2 blocks, 4 query heads / 2 KV heads of 16, n_ff 128, vocab 256, context 128, RMS eps 1e-6,
         RoPE base 10000, q/k/v biases, a separate `output.weight`.
  qwen3: n_embd 64, 3 blocks, 4 query heads / 2 KV heads of key_length = value_length = 32 (so q is 128 wide,
         != n_embd, and attn_output is [128 -> 64]), per-head attn_q_norm / attn_k_norm [32], no biases,
         n_ff 128, vocab 256, context 128, RMS eps 1e-6, RoPE base 1e6, LM head tied to `token_embd.weight`.
  Two files per architecture: `f32` (every tensor F32) and `q8_0` (every 2-D matrix, embeddings included, Q8_0
  via gguf.quants.quantize; norms and biases F32, as llama.cpp's quantizer leaves 1-D tensors).
  Weight scales: matrices ~ N(0, 1/n_in) (x1.5 for wq/wk so that attention is not uniform), embeddings and the
  LM head ~ N(0, 0.5^2), norm weights 1 + N(0, 0.1^2), biases N(0, 0.3^2) (k bias N(0, 1): Qwen2's k biases are
  large). "N" is the Irwin-Hall sum of four uniforms scaled to unit variance.
  Tokenizer: tokenizer.ggml.model "gpt2" with the 256 GPT-2 byte-level tokens (id = byte value) and one merge
  (gguf-py drops an empty merges array and llama.cpp refuses a gpt2 vocabulary without the key), pre "qwen2".

Facts the reference relies on, and where each was verified
==========================================================
HF transformers (huggingface/transformers src/transformers/models/qwen2/modeling_qwen2.py, qwen3/modeling_qwen3.py):
  H1  RMSNorm: weight * (x * rsqrt(mean(x^2) + eps)) (Qwen2RMSNorm / Qwen3RMSNorm), eps = rms_norm_eps.
  H2  Decoder layer: h = h + o_proj(attn(input_layernorm(h))); h = h + mlp(post_attention_layernorm(h)); final
      model.norm then lm_head. MLP: down_proj(silu(gate_proj(x)) * up_proj(x)), no MLP biases.
  H3  Qwen2Attention: q/k/v_proj have bias=True, o_proj bias=False. Qwen3Attention: bias=config.attention_bias
      (False for Qwen3) on all four.
  H4  Qwen3: q_norm / k_norm are RMSNorm over head_dim ("only on the head dim"), applied to the projections viewed
      as [.., heads, head_dim], BEFORE apply_rotary_pos_emb. V is not normalised.
  H5  RoPE: inv_freq = 1 / base^(arange(0, dim, 2) / dim), dim = head_dim; emb = cat(freqs, freqs);
      q' = q * cos + rotate_half(q) * sin with rotate_half(x) = cat(-x[d/2:], x[:d/2]) (NEOX pairs (i, i + d/2)).
  H6  head_dim = config.head_dim if set, else hidden_size / num_attention_heads; scaling = head_dim^-0.5.
  H7  GQA: repeat_kv == repeat_interleave over the head axis, so query head h reads KV head h // (n_head/n_head_kv).
  H8  Causal mask, softmax in float32 (here float64); no sliding window (use_sliding_window false by default).
llama.cpp (vendored in llama-cpp-python 0.3.36, commit 0c1e57098bba: src/models/qwen2.cpp, qwen3.cpp,
src/llama-model.cpp, src/llama-arch.cpp, conversion/qwen.py, conversion/base.py):
  C1  GGUF keys `<arch>.context_length/embedding_length/block_count/feed_forward_length/attention.head_count/
      attention.head_count_kv/attention.layer_norm_rms_epsilon/rope.freq_base/attention.key_length/
      attention.value_length` (llama-arch.cpp LLM_KV_NAMES). key_length / value_length default to
      n_embd / n_head each (llama-model.cpp load_hparams); the converter writes both from HF head_dim
      (conversion/base.py), so the qwen3 files carry both.
  C2  Tensors: token_embd, output_norm, output (optional: tied to token_embd when absent, TENSOR_DUPLICATED),
      blk.N.attn_norm, attn_q/k/v (+ .bias, optional in create_tensor_qkv), attn_q_norm / attn_k_norm [key_length]
      (qwen3), attn_output, ffn_norm, ffn_gate/up/down. qwen2 binds wq as [n_embd, n_embd], so a qwen2 file must
      have n_head * head_dim == n_embd; qwen3 binds wq as [n_embd, key_length * n_head].
  C3  llama_model_rope_type: LLM_ARCH_QWEN2 and LLM_ARCH_QWEN3 -> LLAMA_ROPE_TYPE_NEOX, and conversion/qwen.py does
      not permute q/k rows (unlike LlamaModel), so GGUF rows are HF rows and H5 applies to them as they are.
  C4  qwen3.cpp: build_norm(Qcur, attn_q_norm, RMS) then ggml_rope_ext, same for K (= H4); kq_scale
      1/sqrt(n_embd_head) (= H6); build_ffn SILU + PAR (= H2).
  C5  GGUF shape [n_in, n_out] is a NumPy [n_out, n_in] matrix, y = W @ x.

Golden JSON (synthetic_<arch>.json)
===================================
Per variant: the file name, byte size, sha256 and FNV-1a 64 (the Swift test recomputes the FNV hash, so a stale
cache file fails clearly), and for each token sequence (lengths 1, 5, 20) the float64 reference's logits at EVERY
position (6 decimals), plus the comparison with llama.cpp (batch prefill, flash attention off, 2 threads), both
with an F32 KV cache (expected ~1e-6 on F32 weights: structure check) and with the default f16 KV cache (what the
plugin also does), and the comparison of the exact reference with a "ggml numerics" re-run that applies llama.cpp
CPU's roundings (f16 q/K/V and probabilities; Q8_0 activations for Q8_0 weights) to measure how much of any gap
those roundings explain. llama.cpp is only needed to make the goldens, never at test time.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import gguf
from gguf.quants import dequantize, quantize

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
sys.path.insert(0, str(HERE))
import reference_forward as rf  # noqa: E402  (dumps, the ggml Q8_0 activation rounding, sha256)

F32, Q8_0 = gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.Q8_0
VARIANTS = {"f32": (F32, gguf.LlamaFileType.ALL_F32), "q8_0": (Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0)}
SEQUENCE_LENGTHS = (1, 5, 20)


@dataclass(frozen=True)
class Config:
    arch: str
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_head_kv: int = 2
    head_dim: int = 16            # key_length = value_length
    n_ff: int = 128
    n_vocab: int = 256
    n_ctx: int = 128
    rms_eps: float = 1e-6
    rope_base: float = 10000.0
    biases: bool = False          # qwen2: q/k/v biases
    qk_norm: bool = False         # qwen3: per-head RMSNorm on q and k
    tied: bool = False            # no output.weight: the LM head is token_embd
    write_head_dim: bool = False  # write attention.key_length / value_length
    seed: int = 0


CONFIGS = {
    "qwen2": Config("qwen2", n_layer=2, head_dim=16, rope_base=10000.0, biases=True, tied=False, seed=0x5157_0002),
    "qwen3": Config("qwen3", n_layer=3, head_dim=32, rope_base=1e6, qk_norm=True, tied=True, write_head_dim=True,
                    seed=0x5157_0003),
}


def cache_dir() -> Path:
    return Path(os.environ.get("PLEXUS_SYNTHETIC_CACHE") or REPO / ".cache" / "synthetic")


def file_name(arch: str, variant: str) -> str:
    return f"synthetic-{arch}-{variant}.gguf"


def golden_path(arch: str) -> Path:
    return HERE / f"synthetic_{arch}.json"


# ---------------------------------------------------------------------------------------------------------------
# Deterministic weights: splitmix64 over a counter, Irwin-Hall(4) normals. Only integer ops and IEEE-exact float
# ops (int -> float, +, *, one rounding to float32), so every platform and NumPy version gets the same bits.
# ---------------------------------------------------------------------------------------------------------------

M64 = (1 << 64) - 1


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _stream_key(seed: int, name: str) -> int:
    return (seed * 0x100000001B3 ^ int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")) & M64


def normal(seed: int, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Approximately N(0, 1) float64 values (sum of 4 uniforms on 24-bit grids, centred, times sqrt(3))."""
    n = int(np.prod(shape))
    counter = np.arange(4 * n, dtype=np.uint64) + np.uint64(_stream_key(seed, name))
    u = (_splitmix64(counter) >> np.uint64(40)).astype(np.float64) * (1.0 / (1 << 24))   # [0, 1), exact
    z = (u.reshape(n, 4).sum(axis=1) - 2.0) * 1.7320508075688772                      # 4 exact adds, 2 roundings
    return z.reshape(shape)


def make_weights(cfg: Config) -> dict[str, np.ndarray]:
    """float32 tensors in NumPy layout ([n_out, n_in] for matrices)."""
    e, f, hd = cfg.n_embd, cfg.n_ff, cfg.head_dim
    q_dim, kv_dim = cfg.n_head * hd, cfg.n_head_kv * hd
    w: dict[str, np.ndarray] = {}

    def put(name: str, shape: tuple[int, ...], scale: float, offset: float = 0.0) -> None:
        w[name] = (offset + scale * normal(cfg.seed, name, shape)).astype(np.float32)

    put("token_embd.weight", (cfg.n_vocab, e), 0.5)
    put("output_norm.weight", (e,), 0.1, 1.0)
    if not cfg.tied:
        put("output.weight", (cfg.n_vocab, e), 0.5)
    for il in range(cfg.n_layer):
        p = f"blk.{il}."
        put(p + "attn_norm.weight", (e,), 0.1, 1.0)
        put(p + "attn_q.weight", (q_dim, e), 1.5 / np.sqrt(e))
        put(p + "attn_k.weight", (kv_dim, e), 1.5 / np.sqrt(e))
        put(p + "attn_v.weight", (kv_dim, e), 1.0 / np.sqrt(e))
        if cfg.biases:
            put(p + "attn_q.bias", (q_dim,), 0.3)
            put(p + "attn_k.bias", (kv_dim,), 1.0)
            put(p + "attn_v.bias", (kv_dim,), 0.3)
        if cfg.qk_norm:
            put(p + "attn_q_norm.weight", (hd,), 0.1, 1.0)
            put(p + "attn_k_norm.weight", (hd,), 0.1, 1.0)
        put(p + "attn_output.weight", (e, q_dim), 1.0 / np.sqrt(q_dim))
        put(p + "ffn_norm.weight", (e,), 0.1, 1.0)
        put(p + "ffn_gate.weight", (f, e), 1.0 / np.sqrt(e))
        put(p + "ffn_up.weight", (f, e), 1.0 / np.sqrt(e))
        put(p + "ffn_down.weight", (e, f), 1.0 / np.sqrt(f))
    return w


def token_sequences(cfg: Config) -> list[dict]:
    out = []
    for n in SEQUENCE_LENGTHS:
        ids = (_splitmix64(np.arange(n, dtype=np.uint64) + np.uint64(_stream_key(cfg.seed, f"ids{n}")))
               % np.uint64(cfg.n_vocab)).astype(int)
        out.append({"name": f"len{n}", "ids": [int(i) for i in ids]})
    return out


# ---------------------------------------------------------------------------------------------------------------
# Writing the GGUF files
# ---------------------------------------------------------------------------------------------------------------

def gpt2_byte_tokens() -> list[str]:
    """GPT-2's bytes_to_unicode: the printable text of each of the 256 byte tokens, in byte order."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return [table[b] for b in range(256)]


def write_gguf(cfg: Config, variant: str, path: Path) -> None:
    qtype, ftype = VARIANTS[variant]
    writer = gguf.GGUFWriter(str(path), cfg.arch)
    writer.add_name(f"plexus synthetic {cfg.arch} {variant}")
    writer.add_context_length(cfg.n_ctx)
    writer.add_embedding_length(cfg.n_embd)
    writer.add_block_count(cfg.n_layer)
    writer.add_feed_forward_length(cfg.n_ff)
    writer.add_head_count(cfg.n_head)
    writer.add_head_count_kv(cfg.n_head_kv)
    writer.add_layer_norm_rms_eps(cfg.rms_eps)
    writer.add_rope_freq_base(cfg.rope_base)
    if cfg.write_head_dim:
        writer.add_key_length(cfg.head_dim)
        writer.add_value_length(cfg.head_dim)
    writer.add_file_type(int(ftype))
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(gpt2_byte_tokens())
    writer.add_token_types([int(gguf.TokenType.NORMAL)] * cfg.n_vocab)
    writer.add_token_merges(["Ġ Ġ"])
    writer.add_add_bos_token(False)
    for name, a in make_weights(cfg).items():
        if a.ndim == 2 and qtype != F32:
            writer.add_tensor(name, quantize(a, qtype), raw_dtype=qtype)
        else:
            writer.add_tensor(name, a)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def fnv1a64(path: Path) -> str:
    h = 0xCBF29CE484222325
    for byte in path.read_bytes():
        h = ((h ^ byte) * 0x100000001B3) & M64
    return f"{h:016x}"


def write_models(out: Path, check: bool) -> list[str]:
    """Writes every file (atomically) and returns the problems found against the committed goldens."""
    out.mkdir(parents=True, exist_ok=True)
    problems = []
    for arch, cfg in CONFIGS.items():
        golden = json.loads(golden_path(arch).read_text()) if golden_path(arch).exists() else None
        for variant in VARIANTS:
            path = out / file_name(arch, variant)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            write_gguf(cfg, variant, tmp)
            tmp.replace(path)
            if check and golden is not None:
                want = next(v for v in golden["variants"] if v["name"] == variant)["sha256"]
                if rf.sha256(path) != want:
                    problems.append(f"{path}: sha256 {rf.sha256(path)} != {want} recorded in {golden_path(arch).name}")
            print(path)
    return problems


# ---------------------------------------------------------------------------------------------------------------
# Reference 1: float64 NumPy forward pass, written from the HF modeling_qwen2.py / modeling_qwen3.py definitions
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Hparams:
    arch: str
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    head_dim: int
    rms_eps: float
    rope_base: float


def read_model(path: Path) -> tuple[Hparams, dict[str, np.ndarray], dict[str, gguf.GGMLQuantizationType]]:
    """The file as written (so Q8_0 rounding of the weights is included): hyperparameters and float64 weights."""
    reader = gguf.GGUFReader(str(path))
    field = lambda key, default=None: reader.fields[key].contents() if key in reader.fields else default  # noqa: E731
    arch = field("general.architecture")
    k = lambda name, default=None: field(f"{arch}.{name}", default)  # noqa: E731
    n_embd, n_head = int(k("embedding_length")), int(k("attention.head_count"))
    head_dim = int(k("attention.key_length", n_embd // n_head))                     # H6, C1
    assert int(k("attention.value_length", n_embd // n_head)) == head_dim
    assert k("rope.dimension_count") is None and k("rope.scaling.type") is None
    hp = Hparams(arch, n_embd, int(k("block_count")), n_head, int(k("attention.head_count_kv", n_head)), head_dim,
                 float(k("attention.layer_norm_rms_epsilon")), float(k("rope.freq_base", 10000.0)))
    w, types = {}, {}
    for t in reader.tensors:
        shape = tuple(int(d) for d in reversed(t.shape))                            # C5
        w[t.name] = np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float64).reshape(shape)
        types[t.name] = t.tensor_type
    if "output.weight" not in w:                                                    # C2: tied LM head
        w["output.weight"], types["output.weight"] = w["token_embd.weight"], types["token_embd.weight"]
    return hp, w, types


class Exact:
    """float64 everywhere."""
    def act(self, x, weight_type):
        return x

    def f16(self, x):
        return x


class GgmlRoundings(Exact):
    """Diagnostic: llama.cpp CPU's roundings (f16 KV, q and probabilities; Q8_0 activations for Q8_0 weights)."""
    def act(self, x, weight_type):
        return x if weight_type == F32 else rf.GgmlCpuNumerics().matmul_input(x, weight_type)

    def f16(self, x):
        return np.asarray(x).astype(np.float16).astype(np.float64)


def rms_norm(x, weight, eps):                                                       # H1
    variance = np.mean(x * x, axis=-1, keepdims=True)
    return weight * (x * (1.0 / np.sqrt(variance + eps)))


def rotate_half(x):                                                                 # H5
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def rotary_cos_sin(positions, dim, base):                                           # H5
    inv_freq = 1.0 / (base ** (np.arange(0, dim, 2, dtype=np.float64) / dim))
    freqs = positions.astype(np.float64)[:, None] * inv_freq[None, :]               # [T, dim/2]
    emb = np.concatenate([freqs, freqs], axis=-1)                                   # [T, dim]
    return np.cos(emb), np.sin(emb)


def apply_rotary_pos_emb(x, cos, sin):                                              # x [heads, T, dim]
    return x * cos[None] + rotate_half(x) * sin[None]


def repeat_kv(x, n_rep):                                                            # H7: [kv_heads, T, d]
    return np.repeat(x, n_rep, axis=0)


def silu(x):
    return x / (1.0 + np.exp(-x))


def forward(hp: Hparams, w, types, ids: list[int], num: Exact) -> np.ndarray:
    """Logits [T, n_vocab] (float64) of every position of `ids` from position 0 (Qwen2ForCausalLM /
    Qwen3ForCausalLM forward with no cache)."""
    T = len(ids)
    positions = np.arange(T)

    def linear(name, x, bias=None):                                                 # nn.Linear: x W^T + b
        y = num.act(x, types[name]) @ w[name].T
        return y if bias is None else y + w[bias]

    h = w["token_embd.weight"][np.asarray(ids)]                                     # no embedding scale
    cos, sin = rotary_cos_sin(positions, hp.head_dim, hp.rope_base)
    causal = np.triu(np.full((T, T), -np.inf), k=1)
    for il in range(hp.n_layer):
        p = f"blk.{il}."
        has_bias = p + "attn_q.bias" in w                                           # H3
        x = rms_norm(h, w[p + "attn_norm.weight"], hp.rms_eps)                      # input_layernorm
        q = linear(p + "attn_q.weight", x, p + "attn_q.bias" if has_bias else None)
        k = linear(p + "attn_k.weight", x, p + "attn_k.bias" if has_bias else None)
        v = linear(p + "attn_v.weight", x, p + "attn_v.bias" if has_bias else None)
        q = q.reshape(T, hp.n_head, hp.head_dim)                                    # view(hidden_shape)
        k = k.reshape(T, hp.n_head_kv, hp.head_dim)
        v = v.reshape(T, hp.n_head_kv, hp.head_dim)
        if p + "attn_q_norm.weight" in w:                                           # H4: per head, before RoPE
            q = rms_norm(q, w[p + "attn_q_norm.weight"], hp.rms_eps)
            k = rms_norm(k, w[p + "attn_k_norm.weight"], hp.rms_eps)
        q, k, v = q.transpose(1, 0, 2), k.transpose(1, 0, 2), v.transpose(1, 0, 2)  # .transpose(1, 2)
        q = apply_rotary_pos_emb(q, cos, sin)
        k = apply_rotary_pos_emb(k, cos, sin)
        q, k, v = num.f16(q), num.f16(k), num.f16(v)
        n_rep = hp.n_head // hp.n_head_kv
        k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)
        scores = q @ k.transpose(0, 2, 1) * hp.head_dim ** -0.5 + causal            # H6, H8
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probs = num.f16(scores / scores.sum(axis=-1, keepdims=True))
        a = (probs @ v).transpose(1, 0, 2).reshape(T, hp.n_head * hp.head_dim)
        h = h + linear(p + "attn_output.weight", a)                                 # o_proj, no bias
        x = rms_norm(h, w[p + "ffn_norm.weight"], hp.rms_eps)                       # post_attention_layernorm
        g = silu(linear(p + "ffn_gate.weight", x)) * linear(p + "ffn_up.weight", x)  # H2
        h = h + linear(p + "ffn_down.weight", g)
    h = rms_norm(h, w["output_norm.weight"], hp.rms_eps)                            # model.norm
    return linear("output.weight", h)                                               # lm_head


# ---------------------------------------------------------------------------------------------------------------
# Reference 2: llama.cpp through llama-cpp-python, and the goldens
# ---------------------------------------------------------------------------------------------------------------

def compare(ref: np.ndarray, other: np.ndarray) -> dict:
    """Over all positions [T, V]: max |d|, rel L2 (whole matrix), worst per-position rel L2, argmax agreement."""
    d = other - ref
    per_pos = np.linalg.norm(d, axis=1) / np.linalg.norm(ref, axis=1)
    return {"max_abs": float(f"{np.abs(d).max():.3e}"),
            "rel_l2": float(f"{np.linalg.norm(d) / np.linalg.norm(ref):.3e}"),
            "worst_position_rel_l2": float(f"{per_pos.max():.3e}"),
            "last_max_abs": float(f"{np.abs(d[-1]).max():.3e}"),
            "argmax_agree": int((ref.argmax(axis=1) == other.argmax(axis=1)).sum()), "positions": int(ref.shape[0])}


def llama_cpp_logits(path: Path, sequences: list[dict]) -> dict[str, dict[str, np.ndarray]]:
    import llama_cpp
    from llama_cpp import Llama
    out: dict[str, dict[str, np.ndarray]] = {}
    for kv_name, kv in (("f32_kv", dict(type_k=llama_cpp.GGML_TYPE_F32, type_v=llama_cpp.GGML_TYPE_F32)),
                        ("f16_kv", {})):
        llm = Llama(str(path), logits_all=True, n_ctx=128, n_threads=2, verbose=False, **kv)
        out[kv_name] = {}
        for s in sequences:
            llm.reset()
            llm.eval(s["ids"])
            out[kv_name][s["name"]] = np.array(llm.scores[: len(s["ids"])], dtype=np.float64)
        del llm
    return out


def make_golden(arch: str, out: Path) -> dict:
    cfg = CONFIGS[arch]
    sequences = token_sequences(cfg)
    result = {"arch": arch, "config": {k: v for k, v in cfg.__dict__.items() if k != "arch"},
              "sequences": sequences, "variants": []}
    for variant in VARIANTS:
        path = out / file_name(arch, variant)
        hp, w, types = read_model(path)
        llama = llama_cpp_logits(path, sequences)
        entry = {"name": variant, "file": path.name, "bytes": path.stat().st_size, "sha256": rf.sha256(path),
                 "fnv1a64": fnv1a64(path), "reference": [], "llamacpp_f32_kv_vs_reference": {},
                 "llamacpp_f16_kv_vs_reference": {}, "ggml_roundings_vs_reference": {},
                 "llamacpp_f16_kv_vs_ggml_roundings": {}}
        for s in sequences:
            exact = forward(hp, w, types, s["ids"], Exact())
            rounded = forward(hp, w, types, s["ids"], GgmlRoundings())
            entry["reference"].append({"sequence": s["name"],
                                       "logits": [[round(float(x), 6) for x in row] for row in exact]})
            entry["llamacpp_f32_kv_vs_reference"][s["name"]] = compare(exact, llama["f32_kv"][s["name"]])
            entry["llamacpp_f16_kv_vs_reference"][s["name"]] = compare(exact, llama["f16_kv"][s["name"]])
            entry["ggml_roundings_vs_reference"][s["name"]] = compare(exact, rounded)
            entry["llamacpp_f16_kv_vs_ggml_roundings"][s["name"]] = compare(rounded, llama["f16_kv"][s["name"]])
            print(f"{arch} {variant} {s['name']}: llama.cpp f32 KV {entry['llamacpp_f32_kv_vs_reference'][s['name']]}"
                  f"\n    f16 KV {entry['llamacpp_f16_kv_vs_reference'][s['name']]}"
                  f"\n    ggml roundings {entry['ggml_roundings_vs_reference'][s['name']]}", file=sys.stderr)
        result["variants"].append(entry)
    import llama_cpp
    result["generator"] = {"script": "make_synthetic_models.py", "python": platform.python_version(),
                           "numpy": np.__version__, "gguf": importlib.metadata.version("gguf"),
                           "llama_cpp_python": llama_cpp.__version__,
                           "llama_cpp_commit": "0c1e57098bba (vendored in 0.3.36)",
                           "llama_cpp_context": "Llama(path, logits_all=True, n_ctx=128 (llama.cpp pads it to 256), "
                                                "n_threads=2); flash attention off; batch prefill from an empty cache",
                           "machine": f"{platform.machine()} {os.cpu_count()} cpu"}
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=None, help="output folder (default $PLEXUS_SYNTHETIC_CACHE or "
                                                            "<repo>/.cache/synthetic)")
    ap.add_argument("--goldens", action="store_true", help="recompute synthetic_*.json (needs llama-cpp-python)")
    args = ap.parse_args()
    out = args.out or cache_dir()
    problems = write_models(out, check=not args.goldens)
    if problems:
        print("the generator no longer reproduces the files the goldens were made from:\n  " + "\n  ".join(problems) +
              "\nrerun with --goldens (and review the change) if this is intended", file=sys.stderr)
        sys.exit(1)
    if args.goldens:
        for arch in CONFIGS:
            golden_path(arch).write_text(rf.dumps(make_golden(arch, out)) + "\n")
            print(golden_path(arch))


if __name__ == "__main__":
    main()
