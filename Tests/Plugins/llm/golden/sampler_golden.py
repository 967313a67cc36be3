#!/usr/bin/env python3
"""Golden distributions for the LLM plugin's sampler (Tests/Plugins/llm/test_sampler.c).

An independent reference of Specs/sampling.md in NumPy float64: for fixed logits rows (float32, as the model
emits them) and parameter sets, the exact distribution the chain samples from, and the logprobs it reports.
Writes sampler_golden.txt beside this file:

    python3 Tests/Plugins/llm/golden/sampler_golden.py

Every case is checked for decisions that float32 rounding could flip (a top-p sum or a min-p ratio within 1e-6 of
its threshold): a case that is not decisive is an error here, so the C test can use a tight tolerance.
"""
import math
import os

import numpy as np

F32 = np.float32
MARGIN = 1e-6


def f32(x):
    """A parameter as the C side receives it: float32, widened to float64."""
    return float(F32(x))


def reference(case):
    """(probs, logprobs) of one case, following Specs/sampling.md step by step."""
    v = case["vocab"]
    logits = np.array(case["logits"], dtype=F32).astype(np.float64)
    # 1. mask, then NaN -> -inf, +inf -> FLT_MAX
    if case.get("allowed") is not None:
        allowed = np.array([(case["allowed"][i >> 5] >> (i & 31)) & 1 for i in range(v)], dtype=bool)
        logits[~allowed] = -np.inf
    logits[np.isnan(logits)] = -np.inf
    logits[logits == np.inf] = float(np.finfo(F32).max)
    # 2. penalties: repetition over prompt + output (a set), frequency/presence over output counts
    rep, freq, pres = f32(case["rep"]), f32(case["freq"]), f32(case["pres"])
    seen = set(case["prompt"]) | set(case["output"])
    counts = {t: case["output"].count(t) for t in set(case["output"])}
    for t in sorted(seen):
        x = logits[t]
        if rep != 1.0:
            x = x / rep if x > 0 else x * rep
        c = counts.get(t, 0)
        if c > 0:
            x -= c * freq + pres
        logits[t] = x
    # 3. logprobs: log-softmax of the penalized, masked row
    m = logits.max()
    log_z = math.log(np.exp(logits - m).sum())
    logprobs = logits - m - log_z
    # 4. greedy: one-hot at the first maximum
    probs = np.zeros(v)
    t = f32(case["temperature"])
    if t < f32(1e-5):
        probs[int(np.argmax(logits))] = 1.0
        return probs, logprobs
    # 5. temperature, then top-k, top-p, min-p over the token order (logit descending, id ascending)
    order = np.lexsort((np.arange(v), -logits))
    w = np.exp((logits[order] - m) / t)  # weight relative to the max: the first token weighs 1
    keep = v
    k = case["top_k"]
    if 0 < k < v:
        keep = k
    top_p = f32(case["top_p"])
    if top_p < 1.0:
        total = w[:keep].sum()
        cum = np.cumsum(w[:keep])
        cross = int(np.argmax(cum >= top_p * total))
        assert cum[cross] >= top_p * total * (1 + MARGIN), f"{case['name']}: top-p sum too close to p"
        if cross > 0:
            assert cum[cross - 1] <= top_p * total * (1 - MARGIN), f"{case['name']}: top-p sum too close to p"
        keep = cross + 1
    min_p = f32(case["min_p"])
    if min_p > 0.0:
        near = np.abs(w[:keep] - min_p) < MARGIN * min_p
        assert not near.any() or min_p == 1.0, f"{case['name']}: a weight is too close to min_p"
        keep = min(keep, int((w[:keep] >= min_p).sum()))
    kept = order[:keep]
    probs[kept] = w[:keep] / w[:keep].sum()
    return probs, logprobs


def normal_logits(seed, vocab, scale, quantum=None):
    x = np.random.default_rng(seed).normal(0.0, scale, vocab)
    if quantum is not None:
        x = np.round(x / quantum) * quantum  # exact ties
    return [float(F32(a)) for a in x]


def bits(vocab, allowed_ids):
    words = [0] * ((vocab + 31) // 32)
    for i in allowed_ids:
        words[i >> 5] |= 1 << (i & 31)
    return words


def case(name, vocab, logits, temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, rep=1.0, freq=0.0, pres=0.0,
         prompt=(), output=(), allowed=None):
    return dict(name=name, vocab=vocab, logits=logits, temperature=temperature, top_k=top_k, top_p=top_p,
                min_p=min_p, rep=rep, freq=freq, pres=pres, prompt=list(prompt), output=list(output),
                allowed=allowed)


def cases():
    out = []
    l64 = normal_logits(1, 64, 2.0)
    out.append(case("plain_t1", 64, l64))
    out.append(case("temperature_0.7", 64, l64, temperature=0.7))
    out.append(case("temperature_1.5_top_k_10", 64, l64, temperature=1.5, top_k=10))
    lt = normal_logits(2, 32, 1.0, quantum=0.5)
    out.append(case("top_k_ties", 32, lt, top_k=5))
    out.append(case("top_k_1", 32, lt, top_k=1))
    out.append(case("top_p_0.9", 64, l64, top_p=0.9))
    out.append(case("top_p_0.5_t0.8", 64, l64, temperature=0.8, top_p=0.5))
    out.append(case("top_p_ties", 64, normal_logits(3, 64, 1.0, quantum=0.25), top_p=0.6))
    out.append(case("min_p_0.1", 64, l64, min_p=0.1))
    out.append(case("min_p_1", 32, lt, min_p=1.0))
    out.append(case("chain_all", 64, l64, temperature=0.9, top_k=20, top_p=0.8, min_p=0.05))
    out.append(case("chain_top_p_then_min_p", 64, l64, temperature=1.3, top_p=0.7, min_p=0.02))
    out.append(case("penalties", 64, l64, rep=1.3, freq=0.5, pres=0.4,
                    prompt=[1, 2, 3, 5, 8, 13, 21, 34, 2, 3], output=[5, 5, 7, 40, 40, 40, 63]))
    out.append(case("penalties_inverse", 64, l64, temperature=0.6, top_p=0.95, rep=0.8, freq=-0.5, pres=-1.0,
                    prompt=[0, 4, 9, 16, 25, 36, 49], output=[9, 9, 10, 11, 36]))
    out.append(case("penalties_output_only", 64, l64, temperature=1.2, top_k=12, freq=1.5, pres=2.0,
                    prompt=[6, 7, 8], output=[6, 30, 30, 31]))
    allowed = bits(64, [i for i in range(64) if i % 3 != 0])
    out.append(case("mask", 64, l64, top_p=0.9, allowed=allowed))
    out.append(case("mask_3_tokens_top_k_5", 64, l64, temperature=2.0, top_k=5, allowed=bits(64, [3, 33, 63])))
    out.append(case("mask_tail_word", 40, normal_logits(4, 40, 2.0), allowed=bits(40, [0, 31, 32, 39])))
    out.append(case("greedy", 64, l64, temperature=0.0, rep=1.5, freq=0.3, prompt=[10, 11], output=[12],
                    allowed=allowed))
    lnan = normal_logits(5, 16, 2.0)
    lnan[3], lnan[7] = float("nan"), float("-inf")
    out.append(case("nan_and_minus_inf", 16, lnan, temperature=0.9, top_p=0.9))
    linf = normal_logits(6, 16, 2.0)
    linf[9] = float("inf")
    out.append(case("plus_inf", 16, linf))
    out.append(case("small_vocab_chain", 8, [2.0, 1.5, 0.25, 1.0, -1.0, 0.5, 3.0, 0.0], temperature=0.8, top_k=6,
                    top_p=0.95))
    # One heavy token and a light bulk (weights below 2^-16): top-p and min-p reach into the bulk.
    tail = normal_logits(9, 64, 0.3)
    tail = [x - 12.0 for x in tail]
    tail[5] = 0.0
    out.append(case("top_p_into_the_light_tail", 64, tail, top_p=0.9999))
    out.append(case("min_p_into_the_light_tail", 64, tail, min_p=5e-6))
    # Wider rows: blocks of several tokens in the draw, many equal logits at the top-p edge.
    out.append(case("flat_600_top_p_ties", 600, normal_logits(7, 600, 0.5, quantum=0.125), top_p=0.9))
    out.append(case("flat_600_top_k_400_min_p", 600, normal_logits(8, 600, 1.0, quantum=1 / 64), temperature=0.7,
                    top_k=400, top_p=0.97, min_p=0.05))
    return out


def fmt(x, digits=17):
    """Text that reads back exactly (logits: float32, 9 digits) or to far below the test's tolerance."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}g}"


def main():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sampler_golden.txt")
    with open(path, "w") as f:
        f.write("# written by sampler_golden.py (NumPy float64 reference of Specs/sampling.md); do not edit\n")
        for c in cases():
            probs, logprobs = reference(c)
            f.write(f"case {c['name']}\nvocab {c['vocab']}\n")
            f.write("params " + " ".join(repr(f32(c[k])) for k in ("temperature", "top_p", "min_p", "rep", "freq",
                                                                   "pres")) + f" {c['top_k']}\n")
            f.write("logits " + " ".join(fmt(float(F32(x)), 9) for x in c["logits"]) + "\n")
            f.write("prompt " + " ".join(str(t) for t in [len(c["prompt"])] + c["prompt"]) + "\n")
            f.write("output " + " ".join(str(t) for t in [len(c["output"])] + c["output"]) + "\n")
            words = c["allowed"] or []
            f.write("allowed " + " ".join(str(w) for w in [len(words)] + words) + "\n")
            f.write("probs " + " ".join(fmt(p, 10) for p in probs) + "\n")
            f.write("logprobs " + " ".join(fmt(p, 10) for p in logprobs) + "\nend\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
