#!/usr/bin/env python3
"""Plexus vs llama.cpp on the same GGUF file, the same thread count, in the same run (a benchmark, not a test).

pp<p>: tokens/s processing a prompt of p random tokens in one batch; tg<n>: tokens/s generating n tokens one
decode step at a time from an almost empty context -- the two figures llama-bench reports. llama.cpp runs through
the llama-cpp-python package (it builds llama.cpp from source; install it in a virtual environment:
`python3 -m venv /tmp/llamavenv && /tmp/llamavenv/bin/pip install llama-cpp-python==0.3.36 numpy`), Plexus through
`plexus bench --model ... --json`. The two alternate, r rounds each, and the ratios Plexus / llama.cpp are printed.

usage: /tmp/llamavenv/bin/python Benchmarks/llm_vs_llamacpp.py --model FILE [-p 512] [-n 128] [-t 2] [-r 3]
       [--plexus .build/release/plexus] [--plugins .build/plugins]
"""
import argparse
import json
import random
import statistics
import subprocess
import time


def llamacpp_round(llm, p, n, vocab):
    rng = random.Random(1234)
    prompt = [rng.randrange(vocab) for _ in range(p)]
    llm.reset()
    start = time.perf_counter()
    llm.eval(prompt)
    pp = p / (time.perf_counter() - start)
    llm.reset()
    start = time.perf_counter()
    for _ in range(n):
        llm.eval([rng.randrange(vocab)])
    tg = n / (time.perf_counter() - start)
    return pp, tg


def plexus_round(args):
    command = [args.plexus, "bench", "--model", args.model, "-p", str(args.p), "-n", str(args.n), "-t", str(args.t),
               "-r", "1", "--json", "--plugins", args.plugins]
    figures = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    by_test = {f["test"]: f["tokens_per_second"] for f in figures}
    return by_test[f"pp{args.p}"], by_test[f"tg{args.n}"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("-p", type=int, default=512)
    parser.add_argument("-n", type=int, default=128)
    parser.add_argument("-t", type=int, default=2)
    parser.add_argument("-r", type=int, default=3)
    parser.add_argument("--plexus", default=".build/release/plexus")
    parser.add_argument("--plugins", default=".build/plugins")
    args = parser.parse_args()

    from llama_cpp import Llama
    llm = Llama(model_path=args.model, n_ctx=args.p + args.n + 16, n_batch=args.p, n_ubatch=args.p,
                n_threads=args.t, n_threads_batch=args.t, verbose=False)
    vocab = llm.n_vocab()
    llamacpp_round(llm, 16, 4, vocab)  # warm-up
    results = {"plexus": [], "llama.cpp": []}
    for _ in range(args.r):
        results["llama.cpp"].append(llamacpp_round(llm, args.p, args.n, vocab))
        results["plexus"].append(plexus_round(args))
    print(f"model {args.model}, {args.t} threads, {args.r} rounds (mean ± stdev tokens/s)")
    print("test | Plexus | llama.cpp | ratio")
    print("---|---|---|---")
    for index, test in enumerate([f"pp{args.p}", f"tg{args.n}"]):
        ours = [r[index] for r in results["plexus"]]
        theirs = [r[index] for r in results["llama.cpp"]]
        spread = lambda xs: statistics.stdev(xs) if len(xs) > 1 else 0.0
        print(f"{test} | {statistics.mean(ours):.1f} ± {spread(ours):.1f} | {statistics.mean(theirs):.1f} ± {spread(theirs):.1f} | "
              f"{statistics.mean(ours) / statistics.mean(theirs):.2f}x")


if __name__ == "__main__":
    main()
