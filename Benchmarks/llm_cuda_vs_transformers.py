#!/usr/bin/env python3
"""Plexus on CUDA against Hugging Face transformers on the same GPU, with a memory-bandwidth floor for each case.

One run, every part independent (a part that fails prints why and the rest goes on; exit 1 only if nothing ran):
  a. read bandwidth: CUDA events around `x.sum()` over a 2 GiB float32 tensor, median of 20 (copy bandwidth too,
     counted as read + write bytes, for reference only);
  b. the GGUF (Gemma 3 270M) rebuilt as a transformers Gemma3ForCausalLM: every tensor dequantized with
     `gguf.quants.dequantize`, names mapped to HF, norm weights minus 1 (llama.cpp's converter stores Gemma norms
     with HF's "+1" folded in, q/k norms included; no q/k permutation for gemma), bf16, attn_implementation sdpa;
  c. transformers timings: pp512 at batch 1 (median of --repeats after 2 warm-ups), and decode at batch 1/8/64:
     a manual greedy loop, prefill a 32-token prompt, then 128 single-token forwards with the model's own
     DynamicCache; only the 128 steps are timed (torch.cuda.synchronize + perf_counter); aggregate tokens/s =
     batch * 128 / time;
  d. bandwidth floor per decode case: bytes of weights one decode step must read / read bandwidth, times the batch
     (weights are read once per step). Plexus: the quantized bytes of every blk.* tensor plus the tied output
     matrix (token_embd.weight, all 262144 rows for the logits); transformers: the bf16 bytes of the same tensors.
     KV-cache and activation traffic are left out, so the floor is an upper bound on tokens/s;
  e. `plexus bench --model FILE --device cuda -p 512 -n 128 --batch 1,8,64 --plugins DIR --json` by subprocess
     (--plexus-args replaces the arguments after the executable if the CLI differs);
  f. one markdown table and a JSON of every raw number written to --out.
--check-logits (default on): the HF model's top-5 next tokens on a fixed token prompt and an 8-token greedy
continuation, compared with the goldens in Tests/Plugins/llm/golden when they are there.

GPU machine:  python3 Benchmarks/llm_cuda_vs_transformers.py --model .cache/models/gemma3-270m-Q4_K_M.gguf \
                  --plexus px/plexus --plugins px/plugins --out $OUT
Needs torch, transformers and gguf: installed, or the pure-Python wheel .whl/gguf-0.17.1-py3-none-any.whl in the
repo root (or cwd), which is then imported straight from the zip.
--device cpu exists only to check the conversion on a machine without a GPU (no timings worth reporting).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time
import traceback
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", category=FutureWarning)  # transformers 5.2x: past_key_values -> cache rename

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "Tests/Plugins/llm/golden"
# "The capital of France is" with BOS, as llama.cpp tokenizes it (golden/greedy_gemma3.json, first case).
CHECK_PROMPT = [2, 818, 5279, 529, 7001, 563]
CHECK_STEPS = 8


def import_gguf():
    """`gguf`, or the pure-Python wheel in .whl/ (repo root or cwd) put on sys.path when it is not installed."""
    try:
        import gguf
        return gguf
    except ImportError:
        for folder in (REPO / ".whl", Path.cwd() / ".whl"):
            for wheel in sorted(folder.glob("gguf-*-py3-none-any.whl")):
                sys.path.insert(0, str(wheel))
                import gguf
                say(f"   gguf {wheel.name} imported from the wheel")
                return gguf
        raise


def say(*parts) -> None:
    print(*parts, flush=True)


def part(name: str, results: dict):
    """Decorator-free guard: run a part, record its error, never raise."""
    def run(fn, *args, **kwargs):
        say(f"\n== {name}")
        t0 = time.perf_counter()
        try:
            value = fn(*args, **kwargs)
            results["parts"][name] = {"ok": True, "seconds": round(time.perf_counter() - t0, 2)}
            return value
        except Exception as error:  # noqa: BLE001 - every part must fail alone
            say(f"   {name} failed: {type(error).__name__}: {error}")
            traceback.print_exc(file=sys.stdout)
            sys.stdout.flush()
            results["parts"][name] = {"ok": False, "error": f"{type(error).__name__}: {error}"}
            return None
    return run


# ---------------------------------------------------------------------------------------------------------------
# a. bandwidth
# ---------------------------------------------------------------------------------------------------------------

def measure_bandwidth(torch, device: str, gib: float, iters: int = 20) -> dict:
    n = int(gib * 2**30) // 4
    x = torch.ones(n, dtype=torch.float32, device=device)
    y = torch.empty_like(x)
    nbytes = x.numel() * 4

    def timed(fn) -> float:
        for _ in range(3):
            fn()
        samples = []
        for _ in range(iters):
            if device == "cuda":
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                end.synchronize()
                samples.append(start.elapsed_time(end) / 1e3)
            else:
                t0 = time.perf_counter()
                fn()
                samples.append(time.perf_counter() - t0)
        return statistics.median(samples)

    read_s = timed(lambda: x.sum())
    copy_s = timed(lambda: y.copy_(x))
    out = {"bytes": nbytes, "read_s": read_s, "read_gbps": nbytes / read_s / 1e9,
           "copy_s": copy_s, "copy_gbps_read_plus_write": 2 * nbytes / copy_s / 1e9,
           "method": f"median of {iters}: x.sum() over {nbytes / 2**30:.2f} GiB float32 (read); "
                     f"y.copy_(x) counted as 2x bytes (read+write)"}
    del x, y
    if device == "cuda":
        torch.cuda.empty_cache()
    say(f"   read {out['read_gbps']:.0f} GB/s (x.sum over {nbytes / 2**30:.2f} GiB), "
        f"copy {out['copy_gbps_read_plus_write']:.0f} GB/s (read+write)")
    return out


# ---------------------------------------------------------------------------------------------------------------
# b. GGUF -> transformers Gemma3ForCausalLM
# ---------------------------------------------------------------------------------------------------------------

HF_NAMES = {
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj", "attn_q_norm": "self_attn.q_norm", "attn_k_norm": "self_attn.k_norm",
    "attn_norm": "input_layernorm", "post_attention_norm": "post_attention_layernorm",
    "ffn_norm": "pre_feedforward_layernorm", "post_ffw_norm": "post_feedforward_layernorm",
    "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
}


def hf_name(name: str) -> str:
    if name == "token_embd.weight":
        return "model.embed_tokens.weight"
    if name == "output_norm.weight":
        return "model.norm.weight"
    if name == "output.weight":
        return "lm_head.weight"
    m = re.fullmatch(r"blk\.(\d+)\.(\w+)\.weight", name)
    if m and m.group(2) in HF_NAMES:
        return f"model.layers.{m.group(1)}.{HF_NAMES[m.group(2)]}.weight"
    raise KeyError(f"no HF name for GGUF tensor {name}")


def read_gguf(path: str) -> dict:
    """Metadata, tensor byte counts and the reader (tensors are dequantized later, one at a time)."""
    gguf = import_gguf()
    reader = gguf.GGUFReader(path)

    def value(key, default=None):
        field = reader.fields.get(key)
        if field is None:
            return default
        if field.types[0] == gguf.GGUFValueType.STRING:
            return bytes(field.parts[field.data[0]]).decode()
        if field.types[0] == gguf.GGUFValueType.ARRAY:
            return len(field.data)
        return field.parts[field.data[0]][0].item()

    arch = value("general.architecture")
    meta = {"arch": arch}
    for key in ("context_length", "embedding_length", "block_count", "feed_forward_length", "attention.head_count",
                "attention.head_count_kv", "attention.key_length", "attention.value_length",
                "attention.layer_norm_rms_epsilon", "rope.freq_base", "rope.freq_base_swa",
                "attention.sliding_window", "final_logit_softcapping", "attn_logit_softcapping"):
        meta[key] = value(f"{arch}.{key}")
    meta["n_vocab"] = value("tokenizer.ggml.tokens")
    meta["bos"] = value("tokenizer.ggml.bos_token_id")
    meta["eos"] = value("tokenizer.ggml.eos_token_id")
    meta["pad"] = value("tokenizer.ggml.padding_token_id")
    tensors = {t.name: {"type": t.tensor_type.name, "shape": [int(d) for d in t.shape], "bytes": int(t.n_bytes),
                        "elements": int(t.n_elements)} for t in reader.tensors}
    return {"reader": reader, "meta": meta, "tensors": tensors}


def gemma3_config(meta: dict):
    from transformers import Gemma3TextConfig
    if meta["arch"] != "gemma3":
        raise ValueError(f"this script builds gemma3 only, the file is {meta['arch']}")
    layers = meta["block_count"]
    head_dim = meta["attention.key_length"]
    common = dict(
        vocab_size=meta["n_vocab"], hidden_size=meta["embedding_length"], intermediate_size=meta["feed_forward_length"],
        num_hidden_layers=layers, num_attention_heads=meta["attention.head_count"],
        num_key_value_heads=meta["attention.head_count_kv"], head_dim=head_dim,
        hidden_activation="gelu_pytorch_tanh", max_position_embeddings=meta["context_length"],
        rms_norm_eps=meta["attention.layer_norm_rms_epsilon"],
        # llama.cpp uses 1/sqrt(key_length) for every size but 27B; HF takes it from query_pre_attn_scalar.
        query_pre_attn_scalar=head_dim, sliding_window=meta["attention.sliding_window"],
        # llama.cpp set_swa_pattern(6): layer i is sliding iff i % 6 < 5.
        layer_types=["sliding_attention" if i % 6 < 5 else "full_attention" for i in range(layers)],
        final_logit_softcapping=meta["final_logit_softcapping"], attn_logit_softcapping=meta["attn_logit_softcapping"],
        tie_word_embeddings=True, bos_token_id=meta["bos"], eos_token_id=meta["eos"], pad_token_id=meta["pad"],
    )
    full = meta["rope.freq_base"] or 1e6
    local = meta["rope.freq_base_swa"] or 1e4  # llama.cpp default rope_freq_base_train_swa
    try:
        config = Gemma3TextConfig(**common, rope_parameters={
            "full_attention": {"rope_type": "default", "rope_theta": full},
            "sliding_attention": {"rope_type": "default", "rope_theta": local}})
    except TypeError:  # transformers 4.x
        config = Gemma3TextConfig(**common, rope_theta=full, rope_local_base_freq=local)
    return config


def build_hf_model(torch, path: str, device: str, dtype_name: str) -> tuple:
    import_gguf()
    from gguf.quants import dequantize
    from transformers import Gemma3ForCausalLM
    g = read_gguf(path)
    config = gemma3_config(g["meta"])
    config._attn_implementation = "sdpa"
    dtype = getattr(torch, dtype_name)
    say(f"   config: {g['meta']}")
    t0 = time.perf_counter()
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = Gemma3ForCausalLM(config)
    finally:
        torch.set_default_dtype(previous)
    state = {}
    for t in g["reader"].tensors:
        w = dequantize(t.data, t.tensor_type)  # numpy float32 [rows, cols] = [out, in] (GGUF shape reversed)
        if t.name.endswith("norm.weight"):
            w = w - 1.0  # GGUF Gemma norms are HF's (1 + w); Gemma3RMSNorm computes x * (1 + w)
        state[hf_name(t.name)] = torch.from_numpy(w).to(device=device, dtype=dtype)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if m != "lm_head.weight"]
    if missing or unexpected:
        raise RuntimeError(f"state dict mismatch: missing {missing[:5]}, unexpected {unexpected[:5]}")
    model.tie_weights()
    if model.lm_head.weight.data_ptr() != model.model.embed_tokens.weight.data_ptr():
        model.lm_head.weight = model.model.embed_tokens.weight
    model.eval()
    say(f"   built {type(model).__name__} ({sum(p.numel() for p in model.parameters()) / 1e6:.1f} M params, "
        f"{dtype_name}, {config._attn_implementation}, {device}) in {time.perf_counter() - t0:.1f} s")
    return model, g


# ---------------------------------------------------------------------------------------------------------------
# logits check
# ---------------------------------------------------------------------------------------------------------------

def check_logits(torch, model, device: str) -> dict:
    ids = torch.tensor([CHECK_PROMPT], device=device)
    with torch.no_grad():
        logits = model(ids).logits[0, -1].float()
        top = torch.topk(logits, 5)
        generated = model.generate(ids, do_sample=False, max_new_tokens=CHECK_STEPS, min_new_tokens=CHECK_STEPS)
    out = {"prompt_ids": CHECK_PROMPT, "top5_ids": top.indices.tolist(),
           "top5_logits": [round(v, 4) for v in top.values.tolist()],
           "greedy_ids": generated[0, len(CHECK_PROMPT):].tolist()}
    say(f"   prompt {CHECK_PROMPT}: top-5 next {list(zip(out['top5_ids'], out['top5_logits']))}")
    say(f"   greedy {CHECK_STEPS}: {out['greedy_ids']}")
    compare_goldens(out)
    compare_reference(torch, model, device, out)
    return out


def compare_reference(torch, model, device: str, out: dict) -> None:
    """HF last-position logits against the float64 reference's top-64 (golden/reference_gemma3.json) per prompt."""
    try:
        ref = json.loads((GOLDEN / "reference_gemma3.json").read_text())
    except Exception as error:  # noqa: BLE001
        say(f"   (no reference golden comparison: {error})")
        return
    rows = []
    for prompt in ref["prompts"]:
        with torch.no_grad():
            logits = model(torch.tensor([prompt["ids"]], device=device)).logits[0, -1].float().cpu()
        want_ids, want = prompt["last"]["top_ids"], torch.tensor(prompt["last"]["top_logits"])
        got = logits[want_ids]
        top5 = torch.topk(logits, 5).indices.tolist()
        row = {"prompt": prompt["name"], "tokens": len(prompt["ids"]), "argmax_agrees": top5[0] == want_ids[0],
               "top5_overlap": len(set(top5) & set(want_ids[:5])),
               "max_abs_diff_top64": round(float((got - want).abs().max()), 4)}
        rows.append(row)
        say(f"   vs float64 reference, {row['prompt']} ({row['tokens']} tok): argmax agrees {row['argmax_agrees']}, "
            f"top-5 overlap {row['top5_overlap']}/5, max |dlogit| over its top-64 {row['max_abs_diff_top64']}")
    out["vs_reference"] = rows


def compare_goldens(out: dict) -> None:
    """Against llama.cpp's greedy ids and the float64 reference top-64 (Tests/Plugins/llm/golden), if present."""
    try:
        greedy = json.loads((GOLDEN / "greedy_gemma3.json").read_text())
        case = next(c for c in greedy["cases"] if c["prompt_ids"] == CHECK_PROMPT)
        want = case["output_ids"][:CHECK_STEPS]
        agree = next((i for i, (a, b) in enumerate(zip(out["greedy_ids"], want)) if a != b), len(want))
        out["golden_llamacpp_greedy"] = want
        out["golden_greedy_prefix_agreement"] = agree
        say(f"   llama.cpp greedy golden {want}: first {agree} of {len(want)} agree")
    except Exception as error:  # noqa: BLE001
        say(f"   (no greedy golden comparison: {error})")


# ---------------------------------------------------------------------------------------------------------------
# c. transformers timings
# ---------------------------------------------------------------------------------------------------------------

def sync(torch, device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def prompt_ids(torch, batch: int, length: int, device: str, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(1000, 200000, (batch, length), generator=gen)  # ordinary tokens, no specials
    return ids.to(device)


def time_prefill(torch, model, device: str, n_prompt: int, warmups: int, repeats: int) -> dict:
    ids = prompt_ids(torch, 1, n_prompt, device)
    samples = []
    with torch.no_grad():
        for i in range(warmups + repeats):
            sync(torch, device)
            t0 = time.perf_counter()
            model(ids, use_cache=False, logits_to_keep=1)
            sync(torch, device)
            if i >= warmups:
                samples.append(time.perf_counter() - t0)
    s = statistics.median(samples)
    return {"seconds": samples, "median_s": s, "tokens_per_second": n_prompt / s}


def decode_once(torch, model, ids, n_new: int, device: str) -> float:
    """Prefill ids (untimed), then n_new greedy single-token steps with the model's DynamicCache (timed)."""
    with torch.no_grad():
        out = model(ids, use_cache=True, logits_to_keep=1)
        cache = out.past_key_values
        token = out.logits[:, -1].argmax(-1, keepdim=True)
        sync(torch, device)
        t0 = time.perf_counter()
        for _ in range(n_new):
            out = model(token, past_key_values=cache, use_cache=True)
            cache = out.past_key_values
            token = out.logits[:, -1].argmax(-1, keepdim=True)
        sync(torch, device)
        return time.perf_counter() - t0


def time_decode(torch, model, device: str, batch: int, n_prompt: int, n_new: int, warmups: int, repeats: int) -> dict:
    ids = prompt_ids(torch, batch, n_prompt, device, seed=batch)
    for _ in range(warmups):
        decode_once(torch, model, ids, min(n_new, 8), device)
    samples = [decode_once(torch, model, ids, n_new, device) for _ in range(repeats)]
    s = statistics.median(samples)
    return {"seconds": samples, "median_s": s, "tokens_per_second": batch * n_new / s,
            "ms_per_step": s / n_new * 1e3}


# ---------------------------------------------------------------------------------------------------------------
# d. floors
# ---------------------------------------------------------------------------------------------------------------

def step_bytes(tensors: dict) -> dict:
    """Weight bytes one decode step reads: every blk.* tensor plus the logits matrix (output or tied token_embd)."""
    names = [n for n in tensors if n.startswith("blk.")]
    names.append("output.weight" if "output.weight" in tensors else "token_embd.weight")
    return {"plexus_quantized": sum(tensors[n]["bytes"] for n in names),
            "transformers_bf16": sum(tensors[n]["elements"] * 2 for n in names),
            "tensors": len(names)}


# ---------------------------------------------------------------------------------------------------------------
# e. Plexus
# ---------------------------------------------------------------------------------------------------------------

def run_plexus(args) -> dict:
    if not args.plexus:
        raise RuntimeError("no --plexus given")
    if args.plexus_args:
        argv = [args.plexus] + args.plexus_args.split()
    else:
        argv = [args.plexus, "bench", "--model", args.model, "--device", "cuda", "-p", str(args.n_prompt),
                "-n", str(args.n_gen), "--batch", ",".join(str(b) for b in args.batches), "--json"]
        if args.plugins:
            argv += ["--plugins", args.plugins]
    say(f"   $ {' '.join(argv)}")
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=args.plexus_timeout)
    if proc.stderr.strip():
        say("   stderr (last 20 lines):\n" + "\n".join("     " + l for l in proc.stderr.strip().splitlines()[-20:]))
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}")
    rows = parse_plexus_json(proc.stdout)
    return {"argv": argv, "raw_stdout": proc.stdout[-20000:], "stderr": proc.stderr[-5000:], "cases": rows}


def parse_plexus_json(text: str) -> dict:
    """Case key ('pp512', 'tg128@b8', ...) -> entry; accepts a JSON array, an object with a list, or mixed output."""
    data = None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        start, end = text.find("["), text.rfind("]")
        if start >= 0 and end > start:
            data = json.loads(text[start:end + 1])
    if isinstance(data, dict):
        data = next((v for v in data.values() if isinstance(v, list)), [data])
    if not isinstance(data, list):
        raise ValueError("no JSON array in plexus output")
    rows = {}
    for entry in data:
        if not isinstance(entry, dict):
            continue
        test = str(entry.get("test", entry.get("name", "")))
        tps = entry.get("tokens_per_second", entry.get("t/s", entry.get("avg_ts")))
        if tps is None:
            continue
        batch = entry.get("batch", entry.get("n_batch_seqs", entry.get("batch_size")))
        if batch is None:
            m = re.search(r"(?:@b|xb|_b|@|x|b)(\d+)$", test)
            batch = int(m.group(1)) if m and not re.fullmatch(r"(pp|tg)\d+", test) else 1
        kind = "pp" if test.startswith("pp") or entry.get("n_gen") == 0 else "tg"
        m = re.match(r"(pp|tg)(\d+)", test)
        n = int(m.group(2)) if m else int(entry.get("n_prompt" if kind == "pp" else "n_gen", 0))
        key = f"{kind}{n}" if kind == "pp" and int(batch) == 1 else f"{kind}{n}@b{int(batch)}"
        rows[key] = dict(entry, tokens_per_second=float(tps), batch=int(batch))
    if not rows:
        raise ValueError("plexus JSON has no entry with tokens_per_second")
    return rows


# ---------------------------------------------------------------------------------------------------------------
# f. report
# ---------------------------------------------------------------------------------------------------------------

def fmt(x, digits=1) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


def table(results: dict, args) -> str:
    hf = results.get("transformers", {}) or {}
    px = (results.get("plexus") or {}).get("cases", {})
    bw = (results.get("bandwidth") or {}).get("read_gbps")
    sb = results.get("step_bytes")
    lines = ["| case | Plexus t/s | transformers t/s | ratio | floor t/s (Plexus / HF) | Plexus % of floor |",
             "|---|---|---|---|---|---|"]
    cases = [(f"pp{args.n_prompt}", 1, "prefill")] + [(f"tg{args.n_gen}@b{b}", b, "decode") for b in args.batches]
    for key, batch, kind in cases:
        p = (px.get(key) or px.get(key.replace("@b1", "")) or {}).get("tokens_per_second")
        h = (hf.get(key) or {}).get("tokens_per_second")
        ratio = f"{p / h:.2f}x" if p and h else "-"
        floor_px = floor_hf = None
        if kind == "decode" and bw and sb:
            floor_px = batch * bw * 1e9 / sb["plexus_quantized"]
            floor_hf = batch * bw * 1e9 / sb["transformers_bf16"]
        pct = f"{100 * p / floor_px:.0f}%" if p and floor_px else "-"
        floor = f"{fmt(floor_px, 0)} / {fmt(floor_hf, 0)}" if floor_px else \
            ("n/a (compute-bound)" if kind == "prefill" else "- (no bandwidth)")
        lines.append(f"| {key} | {fmt(p)} | {fmt(h)} | {ratio} | {floor} | {pct} |")
    notes = []
    if bw:
        notes.append(f"Floor = batch x {bw:.0f} GB/s (read, x.sum) / weight bytes per step "
                     f"(Plexus {sb['plexus_quantized'] / 1e6:.1f} MB quantized, transformers "
                     f"{sb['transformers_bf16'] / 1e6:.1f} MB bf16; KV cache and activations not counted).")
    notes.append(f"transformers decode: manual greedy loop with DynamicCache, {args.n_gen} steps after a "
                 f"{args.decode_prompt}-token prompt, prefill not timed; median of {max(1, min(args.repeats, 3))} "
                 f"(pp: median of {args.repeats} after {args.warmups} warm-ups).")
    return "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="Gemma 3 270M GGUF")
    ap.add_argument("--plexus", help="plexus executable")
    ap.add_argument("--plugins", help="plugin folder passed to plexus")
    ap.add_argument("--plexus-args", help="replace the plexus arguments (after the executable), space separated")
    ap.add_argument("--plexus-timeout", type=int, default=300)
    ap.add_argument("--out", default="bench-out", help="folder for table.md and results.json")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"], help="cpu: conversion check only")
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument("-p", "--n-prompt", type=int, default=512)
    ap.add_argument("-n", "--n-gen", type=int, default=128)
    ap.add_argument("--decode-prompt", type=int, default=32)
    ap.add_argument("--batches", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 64])
    ap.add_argument("-r", "--repeats", type=int, default=5)
    ap.add_argument("--warmups", type=int, default=2)
    ap.add_argument("--bandwidth-gib", type=float, default=2.0)
    ap.add_argument("--check-logits", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--skip-timings", action="store_true", help="build and check logits only")
    ap.add_argument("--skip-plexus", action="store_true")
    args = ap.parse_args()

    results: dict = {"args": vars(args), "parts": {}}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch = part("torch", results)(lambda: __import__("torch"))
    if torch is not None:
        results["environment"] = {"torch": torch.__version__, "python": sys.version.split()[0],
                                  "cuda": torch.version.cuda,
                                  "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
        try:
            import transformers
            results["environment"]["transformers"] = transformers.__version__
        except Exception as error:  # noqa: BLE001
            results["environment"]["transformers"] = f"import failed: {error}"
        say(f"   {results['environment']}")
        if args.device == "cuda" and not torch.cuda.is_available():
            say("   CUDA is not available: torch parts are skipped")
            torch = None

    if torch is not None:
        results["bandwidth"] = part("bandwidth", results)(measure_bandwidth, torch, args.device, args.bandwidth_gib)
    built = part("build transformers model", results)(build_hf_model, torch, args.model, args.device, args.dtype) \
        if torch is not None else None
    if built is None:
        g = part("read gguf", results)(read_gguf, args.model)
        tensors = g["tensors"] if g else None
    else:
        model, g = built
        tensors = g["tensors"]
    if tensors:
        results["step_bytes"] = step_bytes(tensors)
        say(f"   weight bytes per decode step: {results['step_bytes']}")

    if built is not None and args.check_logits:
        results["logits_check"] = part("check logits", results)(check_logits, torch, model, args.device)
    if built is not None and not args.skip_timings:
        hf = results["transformers"] = {}
        r = part(f"transformers pp{args.n_prompt}", results)(time_prefill, torch, model, args.device, args.n_prompt,
                                                            args.warmups, args.repeats)
        if r:
            hf[f"pp{args.n_prompt}"] = r
            say(f"   {r['tokens_per_second']:.1f} tokens/s")
        for b in args.batches:
            r = part(f"transformers tg{args.n_gen}@b{b}", results)(time_decode, torch, model, args.device, b,
                                                                   args.decode_prompt, args.n_gen, args.warmups,
                                                                   max(1, min(args.repeats, 3)))
            if r:
                hf[f"tg{args.n_gen}@b{b}"] = r
                say(f"   {r['tokens_per_second']:.1f} tokens/s ({r['ms_per_step']:.2f} ms/step)")
    if built is not None:
        del model
        if args.device == "cuda":
            torch.cuda.empty_cache()  # leave the GPU to plexus

    if not args.skip_plexus:
        results["plexus"] = part("plexus bench", results)(run_plexus, args)

    report = table(results, args)
    say("\n" + report)
    (out / "table.md").write_text(report)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    say(f"wrote {out / 'table.md'} and {out / 'results.json'}")
    ran = [n for n, p in results["parts"].items() if p["ok"] and n not in ("torch", "read gguf")]
    failed = [n for n, p in results["parts"].items() if not p["ok"]]
    if failed:
        say(f"failed parts: {failed}")
    return 0 if ran else 1


if __name__ == "__main__":
    sys.exit(main())
