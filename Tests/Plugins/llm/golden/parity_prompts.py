#!/usr/bin/env python3
"""Greedy agreement of Plexus with llama.cpp on ordinary prompts: a diagnostic, not a test.

  llama     llama.cpp greedy continuations (prefill, then one token per step, argmax; llama-cpp-python 0.3.36,
            the same context as make_llamacpp_golden.py) of PROMPTS -> parity_llamacpp.json, with every step's
            top-1 margin (the gap between llama.cpp's two best logits).
  compare   `plexus run --tokens <llama.cpp's prompt ids> -n N` for each prompt; prints per prompt how many tokens
            match and, at the first divergence, llama.cpp's margin there. Needs only Python 3 and a plexus build:
              python3 parity_prompts.py compare --plexus PATH/TO/plexus [--plugins DIR]

A divergence at a margin of a few 1e-3 is a rounding difference at a near tie; a large margin means a real bug.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
OUT = HERE / "parity_llamacpp.json"
N_TOKENS = 32

MODELS = {"gemma3": "gemma3-270m-Q4_K_M.gguf", "smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf"}

# Ordinary English completion prompts for gemma3 (BOS added, as llama.cpp does by default).
GEMMA_PROMPTS = [
    "The quick brown fox", "My favorite food is", "In 1969, the first humans", "The best way to learn a language is",
    "Here is a recipe for pancakes:", "The weather today is", "Python is a programming language that",
    "The largest ocean on Earth is", "When I was a child, I", "The meaning of life is",
    "Photosynthesis is the process by which", "Dear John,", "The main causes of the First World War were",
    "A good night's sleep", "The history of the Roman Empire", "To make a cup of tea, first",
    "The sun rises in the east and", "Music has the power to", "Scientists have discovered a new",
    "The most important thing in a friendship is",
]

# SmolLM2 chat questions, rendered with the GGUF's template (as make_llamacpp_golden.py does).
SMOL_QUESTIONS = [
    "What is the capital of Germany?", "How many legs does a spider have?", "What is 2 plus 2?",
    "Give me a synonym for happy.", "Why is the sky blue?", "What is the boiling point of water?",
    "Name a famous painter.", "What do bees make?",
]


def models_dir() -> Path:
    return Path(os.environ.get("PLEXUS_MODEL_CACHE", REPO / ".cache" / "models"))


def llama() -> None:
    import numpy as np
    import gguf
    sys.path.insert(0, str(HERE))
    import make_llamacpp_golden as mg

    cases = {}
    for key, file in MODELS.items():
        path = models_dir() / file
        llm = mg.open_llama(path)
        if key == "gemma3":
            prompts = [(p, llm.tokenize(p.encode(), add_bos=True, special=True)) for p in GEMMA_PROMPTS]
        else:
            template = gguf.GGUFReader(str(path)).fields["tokenizer.chat_template"].contents()
            prompts = [(q, llm.tokenize(mg.render_chat(template, [{"role": "user", "content": q}]).encode(),
                                        add_bos=True, special=True)) for q in SMOL_QUESTIONS]
        cases[key] = []
        for text, ids in prompts:
            res = mg.greedy(llm, ids, N_TOKENS)
            cases[key].append({"prompt": text, "prompt_ids": ids, "output_ids": res["output_ids"],
                               "top1_margin": res["top1_margin"], "text": res["text"]})
            print(f"{key} {text!r} -> {res['text']!r}", file=sys.stderr)
    OUT.write_text(json.dumps({"n_tokens": N_TOKENS, "models": MODELS, "cases": cases}, indent=1) + "\n")


def compare(plexus: str, plugins: list[str], only: str | None) -> int:
    data = json.loads(OUT.read_text())
    total = matched = 0
    for key, cases in data["cases"].items():
        if only and key != only:
            continue
        full = 0
        for case in cases:
            want = case["output_ids"]
            cmd = [plexus, "run", "--model", str(models_dir() / data["models"][key]),
                   "--tokens", ",".join(map(str, case["prompt_ids"])), "-n", str(len(want))]
            for p in plugins:
                cmd += ["--plugins", p]
            got = [int(t) for t in subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split(",")]
            same = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b), len(want))
            ok = same == len(want)
            full += ok
            margin = "" if ok else f"  llama.cpp margin there {case['top1_margin'][same]:.4f}"
            print(f"{key:8} {'OK ' if ok else 'DIFF'} {same:2}/{len(want)} {case['prompt']!r}{margin}")
        print(f"{key}: {full}/{len(cases)} prompts match all their tokens")
        total += len(cases)
        matched += full
    return 0 if matched == total else 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["llama", "compare"])
    ap.add_argument("--plexus", default=str(REPO / ".build" / "debug" / "plexus"))
    ap.add_argument("--plugins", action="append", default=[])
    ap.add_argument("--model", choices=list(MODELS), help="compare one model only")
    args = ap.parse_args()
    if args.command == "llama":
        llama()
    else:
        sys.exit(compare(args.plexus, args.plugins, args.model))


if __name__ == "__main__":
    main()
