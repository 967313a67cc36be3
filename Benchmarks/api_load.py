#!/usr/bin/env python3
"""Load on the HTTP + scheduler path of `plexus serve` (a benchmark, not a test).

1. Added latency: sequential completions of one token from a one-token prompt on SmolLM2 over one keep-alive connection; the client's
   latency minus the device time the server metered for them (plexus_device_seconds_total / requests) is what
   HTTP, JSON, the front-end and the scheduler add.
2. Throughput: C concurrent clients sending 1-token requests: requests/s, p50/p99 latency.
3. Gemma 3 270M, 8 concurrent streamed completions (31-token prompt, 64 tokens each): aggregate tokens/s and
   time to first token -- the shape of the llama.cpp server reference figure in the API issue.
4. Concurrent SSE streams held: S streaming requests opened at once (raw sockets, asyncio); every one must get
   its response headers and then either tokens or `: ping` keep-alives; held for H seconds, none may drop.

usage: ulimit -n 65536; python3 Benchmarks/api_load.py --plexus .build/release/plexus --plugins .build/plugins
       [--requests 200] [--clients 8] [--streams 10000] [--hold 20]
Needs only the standard library. Prints one JSON object with every figure.
"""
import argparse
import asyncio
import json
import re
import statistics
import subprocess
import time
import urllib.request


def start(args):
    command = [args.plexus, "serve", "--port", "0", "--model", f"smol={args.models}/SmolLM2-135M-Instruct.Q4_1.gguf",
               "--model", f"gemma={args.models}/gemma3-270m-Q4_K_M.gguf",
               "--option", "context_length=2048", "--max-waiting", str(args.streams + 100), "--threads", str(args.threads)]
    if args.plugins:
        command += ["--plugins", args.plugins]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = None
    while base is None:
        line = server.stdout.readline()
        if not line:
            raise SystemExit("plexus serve exited")
        match = re.search(r"listening on (http://[0-9.]+:[0-9]+)", line)
        base = match.group(1) if match else None
    import threading
    threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
    while True:
        try:
            urllib.request.urlopen(base + "/health")
            return server, base
        except Exception:
            time.sleep(0.2)


def metric(base, name):
    text = urllib.request.urlopen(base + "/metrics").read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


# The trivial request: a one-token prompt (token ids) and one generated token, so the model's own work is one
# tiny step and what remains is the HTTP + JSON + scheduler path.
BODY = json.dumps({"model": "smol", "prompt": [1], "max_tokens": 1, "temperature": 0}).encode()


async def post(reader, writer, host, body=BODY):
    writer.write(b"POST /v1/completions HTTP/1.1\r\nHost: " + host.encode() + b"\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    await reader.readexactly(length)
    return head.split(b" ")[1]


async def sequential(base, count):
    host, port = base[7:].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    latencies = []
    for _ in range(count):
        start = time.perf_counter()
        status = await post(reader, writer, host)
        assert status == b"200", status
        latencies.append(time.perf_counter() - start)
    writer.close()
    return latencies


async def concurrent(base, clients, count):
    host, port = base[7:].split(":")
    latencies = []

    async def client(n):
        reader, writer = await asyncio.open_connection(host, int(port))
        for _ in range(n):
            start = time.perf_counter()
            status = await post(reader, writer, host)
            assert status == b"200", status
            latencies.append(time.perf_counter() - start)
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client(count // clients) for _ in range(clients)))
    return latencies, time.perf_counter() - start


async def streams(base, count, hold):
    host, port = base[7:].split(":")
    body = json.dumps({"model": "smol", "messages": [{"role": "user", "content": "Tell me a long story."}],
                       "max_tokens": 2000, "stream": True}).encode()
    alive = {"headers": 0, "events": 0, "dropped": 0}

    async def stream():
        try:
            reader, writer = await asyncio.open_connection(host, int(port))
        except OSError:
            alive["dropped"] += 1
            return
        writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)
        await writer.drain()
        got_event = False
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), hold + 30)
            assert b" 200 " in head.split(b"\r\n")[0] + b" ", head[:40]
            alive["headers"] += 1
            deadline = time.monotonic() + hold
            while time.monotonic() < deadline:
                chunk = await asyncio.wait_for(reader.read(65536), deadline - time.monotonic() + 20)
                if not chunk:
                    alive["dropped"] += 1
                    return
                if not got_event:
                    got_event = True
                    alive["events"] += 1
        except asyncio.TimeoutError:
            if not got_event:
                alive["dropped"] += 1
        except Exception:
            alive["dropped"] += 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(stream() for _ in range(count)))
    return alive, time.perf_counter() - start


async def gemma_throughput(base, clients, tokens):
    """The reference figure's shape: `clients` concurrent streamed requests on Gemma 3 270M, each a 31-token prompt
    and `tokens` generated tokens; aggregate generated tokens/s and time to first token."""
    host, port = base[7:].split(":")
    prompt = ("The history of the city begins with a small fishing village on the river, where traders from the north "
              "came every")
    firsts, counts = [], []

    async def client():
        body = json.dumps({"model": "gemma", "prompt": prompt, "max_tokens": tokens, "temperature": 0, "stream": True,
                           "ignore_eos": True, "stream_options": {"include_usage": True}}).encode()
        reader, writer = await asyncio.open_connection(host, int(port))
        start = time.perf_counter()
        writer.write(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)
        await writer.drain()
        first = None
        buffer = b""
        while b"data: [DONE]" not in buffer:
            chunk = await reader.read(65536)
            if not chunk:
                break
            buffer += chunk
            if first is None and b'"text":"' in buffer and b'"text":""' not in buffer.split(b"data: ")[-1]:
                first = time.perf_counter() - start
        events = [json.loads(line[6:]) for line in buffer.split(b"\n") if line.startswith(b"data: {")]
        usage = [event["usage"] for event in events if event.get("usage")][-1]
        firsts.append(first or 0)
        counts.append(usage["completion_tokens"])
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - start
    return sum(counts) / elapsed, statistics.median(firsts), counts


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", default=".build/release/plexus")
    parser.add_argument("--plugins", default=None)
    parser.add_argument("--models", default=".cache/models")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--streams", type=int, default=10000)
    parser.add_argument("--hold", type=float, default=20)
    args = parser.parse_args()
    server, base = start(args)
    try:
        asyncio.run(sequential(base, 5))  # warm up
        device0, requests0 = metric(base, "plexus_device_seconds_total"), metric(base, "plexus_requests_total")
        latencies = asyncio.run(sequential(base, args.requests))
        device = (metric(base, "plexus_device_seconds_total") - device0) / (metric(base, "plexus_requests_total") - requests0)
        loaded, elapsed = asyncio.run(concurrent(base, args.clients, args.requests))
        gemma_tps, gemma_ttft, _ = asyncio.run(gemma_throughput(base, 8, 64))
        alone_tps, alone_ttft, _ = asyncio.run(gemma_throughput(base, 1, 64))
        held, held_for = asyncio.run(streams(base, args.streams, args.hold)) if args.streams else ({}, 0)
        print(json.dumps({
            "sequential_p50_ms": percentile(latencies, 50) * 1e3, "sequential_p99_ms": percentile(latencies, 99) * 1e3,
            "device_ms_per_request": device * 1e3,
            "added_p50_ms": (percentile(latencies, 50) - device) * 1e3, "added_p99_ms": (percentile(latencies, 99) - device) * 1e3,
            "concurrent_clients": args.clients, "requests_per_second": len(loaded) / elapsed,
            "concurrent_p50_ms": percentile(loaded, 50) * 1e3, "concurrent_p99_ms": percentile(loaded, 99) * 1e3,
            "gemma_8_streams_tokens_per_second": gemma_tps, "gemma_8_streams_ttft_p50_ms": gemma_ttft * 1e3,
            "gemma_1_stream_tokens_per_second": alone_tps, "gemma_1_stream_ttft_ms": alone_ttft * 1e3,
            "streams_opened": args.streams, "streams_with_headers": held.get("headers", 0),
            "streams_with_events": held.get("events", 0), "streams_dropped": held.get("dropped", 0),
            "streams_hold_seconds": args.hold, "streams_wall_seconds": held_for,
        }, indent=1))
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
