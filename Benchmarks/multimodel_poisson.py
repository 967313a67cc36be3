#!/usr/bin/env python3
"""Several models, Poisson arrivals, heavy-tailed popularity (a benchmark, not a test).

Benchmark (b) of the scheduler issue: one `plexus serve` with several models; a seeded trace of streamed requests is
replayed twice on the same server, and the two replays are compared:

- "multiplexed": the trace is replayed open-loop. Each request is sent at its arrival time whatever else is in flight,
  so the server's scheduler interleaves the models step by step.
- "one model at a time": the same trace through a client-side gate that lets only one model have requests in flight.
  A request for the model now in flight goes at once unless other requests are waiting; otherwise it waits in a FIFO
  queue. When the last in-flight request ends, the gate switches to the model of the oldest waiting request and
  sends every waiting request of that model together (so batching within the model still happens, as large as the
  queue allows, and no model starves). This emulates a server that serves one model at a time. All models stay
  resident, so the baseline pays no load or swap cost: it isolates what interleaving models buys, not what keeping
  them loaded buys. Each gate switch does cost a client round trip (the last stream's end, then the next request).

The trace: total arrival rate --rate requests/s, exponential inter-arrival times, for --duration seconds. Each
request's model is drawn with weight 1/rank^s (s = --zipf), so a couple of models are hot and the rest cold. Ranks
alternate between the two files: rank 1 = smol0, rank 2 = gemma0, rank 3 = smol1, rank 4 = gemma1, ... (then the
remaining ids of whichever file has more). The ids share two GGUF files only so that the models fit this machine;
each id is a separate loaded model with its own KV memory, scheduled separately (the LLM plugin maps the weights
read-only from the file, so ids of one file share those pages in RAM: memory pressure is not part of this test).
SmolLM2 ids get a streamed chat completion, Gemma ids a streamed text completion (/v1/completions: Gemma 3 270M has
no chat template); the prompt is one of a few short ones (seeded), max_tokens is --max-tokens, temperature 0 and
ignore_eos, so every request generates exactly --max-tokens tokens and both replays do identical work.

Measured per request: time to first token (TTFT) from the request's arrival time (the moment the trace says it
arrives; in the gated replay that includes its wait at the gate) to the first SSE event with non-empty text, the end
time, and completion tokens from the usage chunk (stream_options.include_usage). Reported per replay: completion
tokens/s and requests/s over the makespan (first arrival to last finish), and per model the count and p50/p99 TTFT
(ms; p99 of a cold model's few requests is its maximum). Ratios multiplexed / one-at-a-time: throughput (> 1 means
multiplexing is faster) and each model's p99 TTFT (< 1 means multiplexing is better for that model). The device
seconds the server metered (plexus_device_seconds_total) are scraped before and after each replay and at the end.
--warmup sends one request to each model first, so that first-request costs are not measured. --rounds R replays
each mode R times in the order A B, B A, A B, ... (A = multiplexed) on the same server, and pools the figures, so
that slow drift of a shared machine hits both modes alike; the throughput ratio is also given per round.

The trace is open-loop, so below saturation both modes finish in about the trace's length and the throughput ratio
is about 1 whatever the scheduler does; it moves only where one mode falls behind the arrivals. The TTFT ratios are
the figures that show what interleaving buys. The default rate (1.5 requests/s, 48 tokens/s offered) keeps the
2-core dev VM busy (63-90% of the makespan in metered steps, by the load beside it on the shared machine) without
an ever-growing queue; 2 requests/s saturated it, 3 requests/s left a queue that grew for the whole trace.

usage: python3 Benchmarks/multimodel_poisson.py --plexus .build/release/plexus --plugins .build/plugins
       [--rate 1.5] [--duration 40] [--rounds 2] [--zipf 1.2] [--seed 1] [--max-tokens 32] [--smol-ids 3]
       [--gemma-ids 3] [--warmup 1] [--models .cache/models] [--threads 2] [--device cpu|cuda]
Needs only the standard library. Prints one JSON object with every figure.
"""
import argparse
import asyncio
import collections
import json
import random
import re
import signal
import subprocess
import threading
import time
import urllib.request

SMOL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA_FILE = "gemma3-270m-Q4_K_M.gguf"

CHAT_PROMPTS = ["Name three fruits.", "What is the capital of Italy?", "Give me a tip for sleeping well.",
                "Describe the sea in one sentence.", "Why is the sky blue?", "Write a haiku about rain."]
TEXT_PROMPTS = ["The capital of France is", "Once upon a time, in a small village by the river,",
                "The three primary colors are", "To make a cup of tea, first",
                "The history of the city begins with", "Water boils at a temperature of"]


def model_ids(args):
    """Model ids in popularity order (rank 1 first), alternating files."""
    smol = [f"smol{i}" for i in range(args.smol_ids)]
    gemma = [f"gemma{i}" for i in range(args.gemma_ids)]
    ranked = []
    for i in range(max(len(smol), len(gemma))):
        ranked += smol[i:i + 1] + gemma[i:i + 1]
    return ranked


def make_trace(args, ranked):
    rng = random.Random(args.seed)
    weights = [1 / (rank + 1) ** args.zipf for rank in range(len(ranked))]
    trace, t = [], 0.0
    while True:
        t += rng.expovariate(args.rate)
        if t >= args.duration:
            return trace, [w / sum(weights) for w in weights]
        model = rng.choices(ranked, weights)[0]
        prompts = CHAT_PROMPTS if model.startswith("smol") else TEXT_PROMPTS
        trace.append({"index": len(trace), "arrival": t, "model": model, "prompt": rng.choice(prompts)})


def start(args, ranked):
    command = [args.plexus, "serve", "--port", "0", "--threads", str(args.threads), "--option", "context_length=2048",
               "--device", args.device]
    for model in ranked:
        command += ["--model", f"{model}={args.models}/{SMOL_FILE if model.startswith('smol') else GEMMA_FILE}"]
    if args.plugins:
        command += ["--plugins", args.plugins]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = None
    log = collections.deque(maxlen=50)
    while base is None:
        line = server.stdout.readline()
        if not line:
            raise SystemExit("plexus serve exited:\n" + "".join(log))
        log.append(line)
        match = re.search(r"listening on (http://[0-9.]+:[0-9]+)", line)
        base = match.group(1) if match else None
    threading.Thread(target=lambda: [log.append(line) for line in server.stdout], daemon=True).start()
    while True:
        try:
            urllib.request.urlopen(base + "/health")
            return server, base, log
        except Exception:
            if server.poll() is not None:
                raise SystemExit("plexus serve exited:\n" + "".join(log))
            time.sleep(0.2)


def metric(base, name):
    """The sum of every series of `name`, and the series by model."""
    text = urllib.request.urlopen(base + "/metrics").read().decode()
    total, by_model = None, {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            value = float(line.rsplit(" ", 1)[1])
            total = (total or 0.0) + value
            match = re.search(r'model="([^"]*)"', line)
            if match:
                by_model[match.group(1)] = by_model.get(match.group(1), 0.0) + value
    return total, by_model


def request_body(model, prompt, max_tokens):
    body = {"model": model, "max_tokens": max_tokens, "temperature": 0, "ignore_eos": True, "stream": True,
            "stream_options": {"include_usage": True}}
    if model.startswith("smol"):
        body["messages"] = [{"role": "user", "content": prompt}]
        return "/v1/chat/completions", json.dumps(body).encode()
    body["prompt"] = prompt
    return "/v1/completions", json.dumps(body).encode()


async def stream(base, model, prompt, max_tokens, arrived):
    """One streamed request; returns (ttft seconds from `arrived`, end time, completion tokens, error or None)."""
    host, port = base[7:].split(":")
    path, body = request_body(model, prompt, max_tokens)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n")[0] + b" ":
            return None, time.perf_counter(), 0, head.split(b"\r\n")[0].decode(errors="replace")
        first, tokens, chunks = None, None, 0
        while True:
            line = await reader.readline()
            if not line:
                return first, time.perf_counter(), tokens or chunks, "stream ended before [DONE]"
            if not line.startswith(b"data: "):
                continue
            if line.startswith(b"data: [DONE]"):
                return first, time.perf_counter(), tokens if tokens is not None else chunks, None
            event = json.loads(line[6:])
            if event.get("usage"):
                tokens = event["usage"]["completion_tokens"]
            for choice in event.get("choices", []):
                text = choice.get("text") if "text" in choice else choice.get("delta", {}).get("content")
                if text:
                    chunks += 1
                    if first is None:
                        first = time.perf_counter() - arrived
    finally:
        writer.close()


class OneModelGate:
    """Lets requests of only one model be in flight (see the docstring: FIFO, batch all waiting of the next model)."""

    def __init__(self):
        self.current, self.in_flight, self.waiting = None, 0, collections.deque()
        self.switches, self.batches = 0, []

    async def enter(self, model):
        if not self.waiting and (self.in_flight == 0 or self.current == model):
            if self.in_flight == 0:
                self.switch(model, 1)
            else:
                self.batches[-1] += 1
            self.in_flight += 1
            return
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((model, future))
        await future

    def leave(self):
        self.in_flight -= 1
        if self.in_flight or not self.waiting:
            return
        model = self.waiting[0][0]
        admitted = [future for waiting_model, future in self.waiting if waiting_model == model]
        self.waiting = collections.deque(item for item in self.waiting if item[0] != model)
        self.switch(model, len(admitted))
        self.in_flight += len(admitted)
        for future in admitted:
            future.set_result(None)

    def switch(self, model, count):
        self.switches += self.current is not None and model != self.current
        self.current = model
        self.batches.append(count)


async def replay(base, trace, max_tokens, gated):
    gate = OneModelGate() if gated else None
    results = [None] * len(trace)
    start = time.perf_counter() + 0.2

    async def one(request):
        await asyncio.sleep(max(0.0, start + request["arrival"] - time.perf_counter()))
        arrived = time.perf_counter()
        late = arrived - (start + request["arrival"])
        if gate:
            await gate.enter(request["model"])
        sent = time.perf_counter()
        try:
            ttft, end, tokens, error = await asyncio.wait_for(
                stream(base, request["model"], request["prompt"], max_tokens, arrived), 600)
        except Exception as failure:  # noqa: BLE001 -- a benchmark records the failure and goes on
            ttft, end, tokens, error = None, time.perf_counter(), 0, repr(failure)
        finally:
            if gate:
                gate.leave()
        results[request["index"]] = {"model": request["model"], "arrived": arrived - start, "late": late,
                                      "gate_wait": sent - arrived, "ttft": ttft, "end": end - start,
                                      "tokens": tokens, "error": error}

    await asyncio.gather(*(one(request) for request in trace))
    return results, gate


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] if values else None


def summarize(replays, ranked):
    """One mode's figures, pooled over its replays (one per round): sums over makespans, percentiles over requests."""
    results = [r for replay in replays for r in replay["results"]]
    ok = [r for r in results if r["error"] is None and r["ttft"] is not None]
    makespans = [max(r["end"] for r in replay["results"]) - min(r["arrived"] for r in replay["results"])
                 for replay in replays]
    tokens = sum(r["tokens"] for r in ok)
    device = sum(replay["device_seconds"] for replay in replays) if replays[0]["device_seconds"] is not None else None
    steps = sum(replay["steps"] for replay in replays) if replays[0]["steps"] is not None else None
    per_model = {}
    for model in ranked:
        ttfts = [r["ttft"] for r in ok if r["model"] == model]
        per_model[model] = {
            "requests": sum(r["model"] == model for r in results),
            "ttft_p50_ms": percentile(ttfts, 50) * 1e3 if ttfts else None,
            "ttft_p99_ms": percentile(ttfts, 99) * 1e3 if ttfts else None,
        }
    summary = {
        "requests": len(results), "failed": len(results) - len(ok),
        "errors": sorted({r["error"] for r in results if r["error"]})[:5],
        "completion_tokens": tokens, "makespan_s": sum(makespans),
        "tokens_per_second": tokens / sum(makespans), "requests_per_second": len(ok) / sum(makespans),
        "tokens_per_second_by_round": [sum(r["tokens"] for r in replay["results"] if r["error"] is None) / makespan
                                       for replay, makespan in zip(replays, makespans)],
        "ttft_p50_ms": percentile([r["ttft"] for r in ok], 50) * 1e3,
        "ttft_p99_ms": percentile([r["ttft"] for r in ok], 99) * 1e3,
        "client_late_max_ms": max(r["late"] for r in results) * 1e3,
        "device_seconds": device, "device_busy_fraction": device and device / sum(makespans),
        "steps": steps, "completion_tokens_per_step": steps and tokens / steps,
        "device_ms_per_completion_token": device and device / tokens * 1e3,
        "per_model": per_model,
    }
    gates = [replay["gate"] for replay in replays if replay["gate"]]
    if gates:
        summary["gate_wait_p50_ms"] = percentile([r["gate_wait"] for r in results], 50) * 1e3
        summary["gate_wait_p99_ms"] = percentile([r["gate_wait"] for r in results], 99) * 1e3
        summary["gate_switches"] = sum(gate.switches for gate in gates)
        batches = [count for gate in gates for count in gate.batches]
        summary["gate_mean_batch"] = sum(batches) / len(batches)
    return summary


def ratio(a, b):
    return a / b if a is not None and b else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plexus", default=".build/release/plexus")
    parser.add_argument("--plugins", default=None)
    parser.add_argument("--models", default=".cache/models", help="directory with the two GGUF files")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="where the server's engine runs: cpu, cuda or cuda:N")
    parser.add_argument("--rate", type=float, default=1.5, help="total arrivals per second (Poisson)")
    parser.add_argument("--duration", type=float, default=40.0, help="trace length in seconds")
    parser.add_argument("--zipf", type=float, default=1.2, help="popularity exponent s: weight 1/rank^s")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--smol-ids", type=int, default=3, help="model ids served from the SmolLM2 file")
    parser.add_argument("--gemma-ids", type=int, default=3, help="model ids served from the Gemma 3 file")
    parser.add_argument("--rounds", type=int, default=2,
                        help="replays of each mode, in the order A B, B A, A B, ...; figures are pooled")
    parser.add_argument("--warmup", type=int, default=1, help="requests sent to each model before measuring (0: none)")
    args = parser.parse_args()

    ranked = model_ids(args)
    trace, shares = make_trace(args, ranked)
    server, base, log = start(args, ranked)
    try:
        for _ in range(args.warmup):
            for model in ranked:
                asyncio.run(stream(base, model, "Hello", 4, time.perf_counter()))
        modes = {"multiplexed": [], "one_model_at_a_time": []}
        order = [("multiplexed", False), ("one_model_at_a_time", True)]
        for round_ in range(args.rounds):
            for name, gated in (order if round_ % 2 == 0 else order[::-1]):  # A B B A ...: drift hits both alike
                device0, steps0 = metric(base, "plexus_device_seconds_total")[0], metric(base, "plexus_steps_total")[0]
                results, gate = asyncio.run(replay(base, trace, args.max_tokens, gated))
                device1, steps1 = metric(base, "plexus_device_seconds_total")[0], metric(base, "plexus_steps_total")[0]
                modes[name].append({"results": results, "gate": gate,
                                    "device_seconds": device1 - device0 if device0 is not None else None,
                                    "steps": steps1 - steps0 if steps0 is not None else None})
        device_total, device_by_model = metric(base, "plexus_device_seconds_total")
        mux, one = summarize(modes["multiplexed"], ranked), summarize(modes["one_model_at_a_time"], ranked)
        print(json.dumps({
            "rate": args.rate, "duration_s": args.duration, "zipf": args.zipf, "seed": args.seed,
            "max_tokens": args.max_tokens, "threads": args.threads, "trace_requests": len(trace),
            "popularity": {model: round(share, 3) for model, share in zip(ranked, shares)},
            "multiplexed": mux, "one_model_at_a_time": one,
            "rounds": args.rounds,
            "ratio_tokens_per_second": ratio(mux["tokens_per_second"], one["tokens_per_second"]),
            "ratio_tokens_per_second_by_round": [ratio(a, b) for a, b in zip(mux["tokens_per_second_by_round"],
                                                                             one["tokens_per_second_by_round"])],
            "ratio_ttft_p99": {model: ratio(mux["per_model"][model]["ttft_p99_ms"], one["per_model"][model]["ttft_p99_ms"])
                               for model in ranked},
            "device_seconds_total": device_total, "device_seconds_by_model": device_by_model,
        }, indent=1))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
