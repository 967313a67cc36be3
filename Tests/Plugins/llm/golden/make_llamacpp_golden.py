#!/usr/bin/env python3
"""Goldens taken from llama.cpp itself (through llama-cpp-python 0.3.36), and the cross-check of the reference.

Subcommands, run in this order (README.md has the exact commands):
  prompts     tokenize the fixed English prompts with llama.cpp -> prompts.json (the token ids every other
              golden uses; the tokenizer is not under test in the logit goldens).
  crosscheck  llama.cpp logits for those ids vs reference_forward.py (float64) -> crosscheck.json:
                quantized    the real GGUF, llama.cpp defaults (8-bit activations, f16 KV cache);
                dequantized  the same weights written out as an F32 GGUF, F32 KV cache: no activation
                             quantization left, so this isolates modelling errors from rounding;
                self         llama.cpp batch prefill vs token-by-token decode: llama.cpp's own noise floor.
  greedy      greedy continuations (argmax of llama.cpp's logits, one token per decode step, the same choice
              as llama.cpp's greedy sampler / temperature 0) -> greedy_gemma3.json, greedy_smollm2.json.

Every llama.cpp context: Llama(model_path, logits_all=True, n_ctx=512, n_threads=2, verbose=False)
(flash attention off, the llama-cpp-python default; KV cache f16 unless stated).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import gguf
import jinja2
import jinja2.ext
import jinja2.sandbox
import llama_cpp
from gguf.quants import dequantize
from llama_cpp import Llama

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
sys.path.insert(0, str(HERE))
import reference_forward as rf  # noqa: E402

MODELS = {"smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf", "gemma3": "gemma3-270m-Q4_K_M.gguf"}

# name, text, prefill all positions? ("" with add_bos gives the BOS-only prompt for gemma3)
PROMPT_TEXTS = {
    "smollm2": [
        ("one_token", "Hello", False),
        ("eight_tokens", "The capital of France is Paris, and", True),
        ("forty_tokens", "In the early morning, the small village by the river was quiet. The baker opened his shop, "
                         "the fishermen prepared their boats, and children walked slowly to the old stone school "
                         "on the hill.", False),
    ],
    "gemma3": [
        ("one_token", "", False),
        ("eight_tokens", "The capital of France is Paris, and", True),
        ("forty_tokens", "In the early morning, the small village by the river was quiet. The baker opened his shop, "
                         "the fishermen prepared their boats, and children walked slowly to the old stone school "
                         "on the hill.", False),
    ],
}

GEMMA_GREEDY_PROMPTS = ["The capital of France is", "Once upon a time", "def fibonacci(n):",
                        "The three primary colors are", "Water boils at",
                        # ordinary English prompts, added once Plexus matched llama.cpp bit for bit (parity_prompts.py)
                        "The quick brown fox", "My favorite food is", "In 1969, the first humans",
                        "The best way to learn a language is", "Here is a recipe for pancakes:", "The weather today is",
                        "Python is a programming language that", "The largest ocean on Earth is", "When I was a child, I",
                        "The meaning of life is", "Photosynthesis is the process by which", "Dear John,",
                        "The main causes of the First World War were", "A good night's sleep",
                        "The history of the Roman Empire", "To make a cup of tea, first", "The sun rises in the east and",
                        "Music has the power to", "Scientists have discovered a new",
                        "The most important thing in a friendship is"]
SMOLLM_CONVERSATIONS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "system", "content": "You are a concise assistant. Answer in one sentence."},
     {"role": "user", "content": "Name the three primary colors."}],
    [{"role": "user", "content": "Hi!"},
     {"role": "assistant", "content": "Hello! How can I help you today?"},
     {"role": "user", "content": "Tell me a fun fact about octopuses."}],
    [{"role": "user", "content": "Write a Python function that returns the square of a number."}],
] + [[{"role": "user", "content": q}] for q in [  # single questions, added with the Gemma prompts above
    "What is the capital of Germany?", "How many legs does a spider have?", "What is 2 plus 2?",
    "Give me a synonym for happy.", "Why is the sky blue?", "What is the boiling point of water?",
    "Name a famous painter.", "What do bees make?"]]


def models_dir() -> Path:
    return Path(os.environ.get("PLEXUS_MODEL_CACHE", REPO / ".cache" / "models"))


def open_llama(path: Path | str, f32_kv: bool = False) -> Llama:
    kv = dict(type_k=llama_cpp.GGML_TYPE_F32, type_v=llama_cpp.GGML_TYPE_F32) if f32_kv else {}
    return Llama(str(path), logits_all=True, n_ctx=512, n_threads=2, verbose=False, **kv)


def llama_logits(llm: Llama, ids: list[int]) -> np.ndarray:
    """Logits [T, n_vocab] float64 of one batch prefill of `ids` from an empty cache."""
    llm.reset()
    llm.eval(ids)
    return np.array(llm.scores[: len(ids)], dtype=np.float64)


def llama_logits_incremental(llm: Llama, ids: list[int]) -> np.ndarray:
    llm.reset()
    rows = []
    for t in ids:
        llm.eval([t])
        rows.append(np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64))
    return np.array(rows)


def write_json(name: str, obj: dict) -> None:
    (HERE / name).write_text(rf.dumps(obj) + "\n")


def environment() -> dict:
    return {"llama_cpp_python": llama_cpp.__version__, "llama_cpp_commit": "0c1e57098bba (vendored in 0.3.36)",
            "gguf": "0.17.1", "numpy": np.__version__, "jinja2": jinja2.__version__,
            "python": platform.python_version(), "machine": f"{platform.machine()}, {os.cpu_count()} cpu, n_threads=2",
            "date": datetime.date.today().isoformat()}


# ---------------------------------------------------------------------------------------------------------------
# prompts
# ---------------------------------------------------------------------------------------------------------------

def make_prompts() -> None:
    out = {"note": "token ids from llama.cpp's tokenizer: llm.tokenize(text.encode(), add_bos=True, special=False); "
                   "llama.cpp adds BOS only where tokenizer.ggml.add_bos_token is true (gemma3: yes, id 2; "
                   "smollm2: no)"}
    for key, file in MODELS.items():
        llm = open_llama(models_dir() / file)
        prompts = []
        for name, text, all_positions in PROMPT_TEXTS[key]:
            ids = llm.tokenize(text.encode(), add_bos=True, special=False)
            prompts.append({"name": name, "text": text, "ids": ids, "all_positions": all_positions})
            print(key, name, len(ids), ids, file=sys.stderr)
        out[key] = {"file": file, "prompts": prompts}
    write_json("prompts.json", out)


# ---------------------------------------------------------------------------------------------------------------
# crosscheck
# ---------------------------------------------------------------------------------------------------------------

def write_f32_gguf(src: Path, dst: Path) -> None:
    """Same metadata, every tensor dequantized (gguf.quants.dequantize) and stored as F32."""
    reader = gguf.GGUFReader(str(src))
    writer = gguf.GGUFWriter(str(dst), reader.fields["general.architecture"].contents())
    for key, f in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        if key == "general.file_type":
            writer.add_file_type(gguf.LlamaFileType.ALL_F32)
            continue
        vtype = f.types[0]
        writer.add_key_value(key, f.contents(), vtype, f.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None)
    for t in reader.tensors:
        shape = tuple(int(d) for d in reversed(t.shape))
        writer.add_tensor(t.name, np.ascontiguousarray(dequantize(t.data, t.tensor_type), dtype=np.float32).reshape(shape))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def log_softmax(x: np.ndarray) -> np.ndarray:
    return x - rf.logsumexp(x)


def compare(ref: np.ndarray, other: np.ndarray) -> dict:
    """Errors of `other` against the reference vector `ref` (both float64, one position)."""
    top5_ref, top5_other = np.argsort(-ref)[:5], np.argsort(-other)[:5]
    lp, lq = log_softmax(ref), log_softmax(other)
    top64 = np.argsort(-ref)[:64]
    sample = slice(None, None, rf.SAMPLE_STRIDE)
    return {
        "kl": float(f"{np.sum(np.exp(lp) * (lp - lq)):.3e}"),
        # the three metrics a test can compute from the stored goldens alone (top-64, logsumexp, stride sample)
        "top64_max_abs": float(f"{np.abs(ref[top64] - other[top64]).max():.3e}"),
        "logsumexp_abs": float(f"{abs(rf.logsumexp(ref) - rf.logsumexp(other)):.3e}"),
        "sample_rel_l2": float(f"{np.linalg.norm(ref[sample] - other[sample]) / np.linalg.norm(ref[sample]):.3e}"),
        "max_abs": float(f"{np.abs(ref - other).max():.3e}"),
        "rel_l2": float(f"{np.linalg.norm(ref - other) / np.linalg.norm(ref):.3e}"),
        "top1_agree": bool(top5_ref[0] == top5_other[0]),
        "top5_overlap": int(len(set(top5_ref) & set(top5_other))),
        "top5_same_order": bool((top5_ref == top5_other).all()),
    }


def worst(rows: list[dict]) -> dict:
    return {"max_abs": max(r["max_abs"] for r in rows), "rel_l2": max(r["rel_l2"] for r in rows),
            "kl": max(r["kl"] for r in rows), "top64_max_abs": max(r["top64_max_abs"] for r in rows),
            "logsumexp_abs": max(r["logsumexp_abs"] for r in rows),
            "sample_rel_l2": max(r["sample_rel_l2"] for r in rows),
            "top1_agree_all": all(r["top1_agree"] for r in rows), "min_top5_overlap": min(r["top5_overlap"] for r in rows)}


def crosscheck_model(key: str, spec: dict, tmp: Path) -> dict:
    path = models_dir() / spec["file"]
    model = rf.load_model(path)
    t0 = time.perf_counter()
    f32_path = tmp / f"{key}-f32.gguf"
    write_f32_gguf(path, f32_path)
    print(f"{key}: F32 GGUF written in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    quant, dequant = open_llama(path), open_llama(f32_path, f32_kv=True)
    out = []
    for p in spec["prompts"]:
        ids = p["ids"]
        t0 = time.perf_counter()
        ref = rf.forward(model, ids)
        ref_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        q = llama_logits(quant, ids)
        q_s = time.perf_counter() - t0
        d = llama_logits(dequant, ids)
        inc = llama_logits_incremental(quant, ids)
        entry = {
            "name": p["name"], "n_tokens": len(ids), "reference_forward_s": round(ref_s, 2),
            "llamacpp_prefill_s": round(q_s, 3),
            "last_quantized": compare(ref[-1], q[-1]),
            "last_dequantized_f32": compare(ref[-1], d[-1]),
            "last_self_batch_vs_incremental": compare(q[-1], inc[-1]),
            "llamacpp_last": rf.summarize(q[-1], 64),
        }
        if model.hp.arch == "gemma3":   # what is left in the F32 check is llama.cpp's f16 GELU table (D2)
            model.num = rf.GeluTableNumerics()
            entry["last_dequantized_f32_vs_gelu_table_reference"] = compare(rf.forward(model, ids)[-1], d[-1])
            model.num = rf.ExactNumerics()
        if p.get("all_positions"):
            entry["all_positions_quantized"] = worst([compare(ref[i], q[i]) for i in range(len(ids))])
            entry["all_positions_dequantized_f32"] = worst([compare(ref[i], d[i]) for i in range(len(ids))])
            entry["all_positions_self_batch_vs_incremental"] = worst([compare(q[i], inc[i]) for i in range(len(ids))])
            entry["llamacpp_positions_argmax"] = [int(r.argmax()) for r in q]
            model.num = rf.GgmlCpuNumerics()
            emu = rf.forward(model, ids)
            model.num = rf.ExactNumerics()
            rel = lambda a, b: [float(f"{np.linalg.norm(a[i] - b[i]) / np.linalg.norm(a[i]):.2e}") for i in range(len(ids))]  # noqa: E731
            entry["per_position_rel_l2"] = {
                "reference_vs_quantized": rel(ref, q),
                "ggml_cpu_emulating_reference_vs_quantized": rel(emu, q),
                "quantized_batch_vs_incremental": rel(q, inc),
            }
        out.append(entry)
        print(f"{key} {p['name']}: quantized {entry['last_quantized']} dequantized {entry['last_dequantized_f32']}",
              file=sys.stderr)
    del quant, dequant
    f32_path.unlink()
    return {"model_file": spec["file"], "prompts": out}


def crosscheck() -> None:
    prompts = json.loads((HERE / "prompts.json").read_text())
    result = {"environment": environment(),
              "legend": {
                  "last_quantized": "reference (float64) vs llama.cpp on the shipped quantized GGUF, last position",
                  "last_dequantized_f32": "reference vs llama.cpp on an F32 GGUF of the same dequantized weights, "
                                          "F32 KV cache (no activation quantization): isolates modelling errors",
                  "last_dequantized_f32_vs_gelu_table_reference": "gemma3 only: as last_dequantized_f32 but the "
                                                                  "reference uses llama.cpp's f16 GELU table",
                  "last_self_batch_vs_incremental": "llama.cpp quantized: batch prefill vs one-token decode steps "
                                                    "(reference = batch); llama.cpp's own noise floor",
                  "top64_max_abs": "max |difference| over the reference's top-64 ids",
                  "sample_rel_l2": f"rel_l2 over every {rf.SAMPLE_STRIDE}th vocabulary entry (ids 0, 256, ...)",
                  "rel_l2": "||a - b|| / ||reference||", "kl": "KL(softmax(reference) || softmax(other)) in nats",
                  "top5_overlap": "common ids among the two top-5 sets",
                  "per_position_rel_l2": "8-token prompt, every position. ggml_cpu_emulating_reference = the float64 "
                                         "reference with reference_forward.GgmlCpuNumerics (8-bit activation "
                                         "quantization, f16 KV/probabilities, f16 GELU table re-applied): it "
                                         "matches llama.cpp to ~1e-6 until the first position where one rounding "
                                         "decision flips; from there both differ at the level of llama.cpp's "
                                         "own batch-vs-incremental spread"}}
    with tempfile.TemporaryDirectory() as tmp:
        for key in MODELS:
            result[key] = crosscheck_model(key, prompts[key], Path(tmp))
    write_json("crosscheck.json", result)


# ---------------------------------------------------------------------------------------------------------------
# greedy
# ---------------------------------------------------------------------------------------------------------------

NEAR_TIE = 0.25   # logits; see README.md "Greedy continuations"

GREEDY_FIELDS = {
    "near_tie_steps": f"steps whose llama.cpp top1_margin < {NEAR_TIE}: either token is acceptable there",
    "stable_prefix_len": f"output tokens before the first near-tie step (margin < {NEAR_TIE})",
    "top1_margin": "per step, llama.cpp's top-1 minus top-2 logit: a small margin is a near-tie another "
                   "implementation may break the other way",
    "sampler_agrees": "llama-cpp-python generate(top_k=1, temp=0) (llama.cpp's greedy sampler) gave the same ids",
    "reference_argmax_agrees": "per step, the float64 reference (teacher-forced on prompt + llama.cpp's tokens) "
                               "picks the same token",
}


def greedy(llm: Llama, prompt_ids: list[int], max_tokens: int) -> dict:
    """Greedy decode: prefill the prompt, then repeatedly take argmax and decode that one token."""
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    llm.reset()
    llm.eval(prompt_ids)
    out, margins, stop = [], [], "max_tokens"
    for _ in range(max_tokens):
        row = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
        top2 = np.argsort(-row)[:2]
        tok = int(row.argmax())
        out.append(tok)
        margins.append(round(float(row[top2[0]] - row[top2[1]]), 4))
        if llama_cpp.llama_vocab_is_eog(vocab, tok):
            stop = "eog"
            break
        llm.eval([tok])
    return {"output_ids": out, "stop": stop, "top1_margin": margins,
            "pieces": [llm.detokenize([t], special=True).decode("utf-8", errors="replace") for t in out],
            "text": llm.detokenize(out, prev_tokens=prompt_ids).decode("utf-8", errors="replace"),
            "min_margin": min(margins),
            "near_tie_steps": [i for i, m in enumerate(margins) if m < NEAR_TIE],
            "stable_prefix_len": next((i for i, m in enumerate(margins) if m < NEAR_TIE), len(margins))}


def reference_agreement(model: rf.Model, prompt_ids: list[int], out_ids: list[int]) -> dict:
    """Teacher-force prompt + llama.cpp's tokens through the float64 reference: where would it choose the same?"""
    logits = rf.forward(model, prompt_ids + out_ids[:-1])[len(prompt_ids) - 1:]
    agree = [bool(int(row.argmax()) == tok) for row, tok in zip(logits, out_ids)]
    return {"reference_argmax_agrees": agree,
            "reference_first_disagreement": agree.index(False) if False in agree else None}


def check_with_sampler(llm: Llama, prompt_ids: list[int], expected: list[int]) -> bool:
    """llama-cpp-python's own generate() with temperature 0 / top_k 1 must pick the same tokens."""
    llm.reset()
    got = []
    for tok in llm.generate(prompt_ids, top_k=1, temp=0.0, reset=True):
        got.append(int(tok))
        if len(got) == len(expected):
            break
    return got == expected


def render_chat(template: str, messages: list[dict]) -> str:
    """HF transformers' apply_chat_template rendering: sandboxed jinja2, trim_blocks + lstrip_blocks."""
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                                       extensions=[jinja2.ext.loopcontrols])
    env.globals["raise_exception"] = raise_exception
    return env.from_string(template).render(messages=messages, add_generation_prompt=True)


def greedy_gemma3() -> None:
    llm = open_llama(models_dir() / MODELS["gemma3"])
    model = rf.load_model(models_dir() / MODELS["gemma3"])
    cases = []
    for text in GEMMA_GREEDY_PROMPTS:
        ids = llm.tokenize(text.encode(), add_bos=True, special=True)   # BOS as llama.cpp's default: add_bos_token
        t0 = time.perf_counter()
        res = greedy(llm, ids, 48)
        res["runtime_s"] = round(time.perf_counter() - t0, 2)
        res["sampler_agrees"] = check_with_sampler(llm, ids, res["output_ids"])
        res.update(reference_agreement(model, ids, res["output_ids"]))
        cases.append({"prompt": text, "prompt_ids": ids, **res})
        print(f"gemma3 {text!r} -> {res['text']!r} (min margin {res['min_margin']})", file=sys.stderr)
    write_json("greedy_gemma3.json", {
        "model_file": MODELS["gemma3"], "environment": environment(), "max_tokens": 48,
        "tokenize": "llm.tokenize(prompt.encode(), add_bos=True, special=True): BOS id 2 first, as llama.cpp's default",
        "decode": "argmax over llama.cpp logits, prefill then one token per step; stop after an end-of-generation "
                  "token (included in output_ids) or 48 tokens",
        "fields": GREEDY_FIELDS,
        "cases": cases})


def greedy_smollm2() -> None:
    path = models_dir() / MODELS["smollm2"]
    template = gguf.GGUFReader(str(path)).fields["tokenizer.chat_template"].contents()
    llm = open_llama(path)
    model = rf.load_model(path)
    cases = []
    for messages in SMOLLM_CONVERSATIONS:
        rendered = render_chat(template, messages)
        ids = llm.tokenize(rendered.encode(), add_bos=True, special=True)  # add_bos_token is false: no BOS added
        t0 = time.perf_counter()
        res = greedy(llm, ids, 64)
        res["runtime_s"] = round(time.perf_counter() - t0, 2)
        res["sampler_agrees"] = check_with_sampler(llm, ids, res["output_ids"])
        res.update(reference_agreement(model, ids, res["output_ids"]))
        cases.append({"messages": messages, "rendered": rendered, "prompt_ids": ids, **res})
        print(f"smollm2 {messages[-1]['content']!r} -> {res['text']!r} (min margin {res['min_margin']})", file=sys.stderr)
    write_json("greedy_smollm2.json", {
        "model_file": MODELS["smollm2"], "environment": environment(), "max_tokens": 64,
        "chat_template": template,
        "render": "jinja2 ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, loopcontrols), "
                  "render(messages=..., add_generation_prompt=True), as HF transformers apply_chat_template",
        "tokenize": "llm.tokenize(rendered.encode(), add_bos=True, special=True): special tokens parsed, no BOS "
                    "(tokenizer.ggml.add_bos_token = false)",
        "decode": "argmax over llama.cpp logits; stop after <|im_end|> (id 2, end-of-generation, included in "
                  "output_ids) or 64 tokens",
        "fields": GREEDY_FIELDS,
        "cases": cases})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["prompts", "crosscheck", "greedy"])
    cmd = ap.parse_args().command
    if cmd == "prompts":
        make_prompts()
    elif cmd == "crosscheck":
        crosscheck()
    else:
        greedy_gemma3()
        greedy_smollm2()


if __name__ == "__main__":
    main()
