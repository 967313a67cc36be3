#!/usr/bin/env python3
"""Greedy agreement of Plexus with llama.cpp, prompt by prompt: a diagnostic, not a test.

Runs `plexus run --tokens <prompt ids> -n <tokens>` for every case of greedy_gemma3.json and greedy_smollm2.json
(llama.cpp's greedy continuations, made by make_llamacpp_golden.py) and prints, per case, how many leading tokens
equal llama.cpp's and, at the first divergence, llama.cpp's own top-1 margin there (the gap between its two best
logits). A divergence at a margin of a few 1e-3 is a rounding difference at a near tie; at a large margin, a bug.
Needs only Python 3 and a plexus build:

  python3 parity_prompts.py [--plexus .build/debug/plexus] [--plugins .build/plugins] [--tokens 32] [--model gemma3]

Exit status 0 when every case matches over the compared tokens.
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


def models_dir() -> Path:
    return Path(os.environ.get("PLEXUS_MODEL_CACHE", REPO / ".cache" / "models"))


def plexus_greedy(args: argparse.Namespace, model: str, prompt: list[int], n: int) -> list[int]:
    cmd = [args.plexus, "run", "--model", str(models_dir() / model), "--tokens", ",".join(map(str, prompt)), "-n", str(n)]
    for folder in args.plugins:
        cmd += ["--plugins", folder]
    return [int(t) for t in subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split(",")]


def compare(args: argparse.Namespace, key: str) -> tuple[int, int]:
    golden = json.loads((HERE / f"greedy_{key}.json").read_text())
    full = 0
    for case in golden["cases"]:
        want = case["output_ids"][: args.tokens] if args.tokens else case["output_ids"]
        got = plexus_greedy(args, golden["model_file"], case["prompt_ids"], len(want))
        same = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b), len(want))
        full += same == len(want)
        label = case.get("prompt") or case["messages"][-1]["content"]
        margin = "" if same == len(want) else f"  llama.cpp's margin there {case['top1_margin'][same]:.4f}"
        print(f"{key:8} {'OK  ' if same == len(want) else 'DIFF'} {same:2}/{len(want):2} {label!r}{margin}")
    print(f"{key}: {full}/{len(golden['cases'])} cases match all compared tokens")
    return full, len(golden["cases"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plexus", default=str(REPO / ".build" / "debug" / "plexus"))
    ap.add_argument("--plugins", action="append", default=[], help="plugin folder (repeatable)")
    ap.add_argument("--tokens", type=int, default=0, help="compare the first N tokens of each case (0: all)")
    ap.add_argument("--model", choices=["gemma3", "smollm2"], help="one model only")
    args = ap.parse_args()
    totals = [compare(args, key) for key in ("gemma3", "smollm2") if args.model in (None, key)]
    sys.exit(0 if all(full == cases for full, cases in totals) else 1)


if __name__ == "__main__":
    main()
