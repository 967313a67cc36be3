#!/usr/bin/env python3
"""End to end: `plexus serve` on loopback with the real models, driven by the official `openai` package in strict
mode (every response validated against the SDK's pydantic types). SmolLM2 serves chat, Gemma 3 completions.

usage: PYTHONPATH=.cache/pyapi python3 Tests/API/openai_e2e.py --plexus .build/debug/plexus --models .cache/models
Exit status 0 when every check passed; each failure is printed with what was expected.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

import openai

ARGS = None
SERVER = None
BASE = None
KEY = "sk-plexus-e2e"


def start_server():
    global SERVER, BASE
    models = ARGS.models
    command = [ARGS.plexus, "serve", "--host", "127.0.0.1", "--port", "0",
               "--model", f"smol={models}/SmolLM2-135M-Instruct.Q4_1.gguf",
               "--model", f"gemma={models}/gemma3-270m-Q4_K_M.gguf",
               "--option", "context_length=2048", "--threads", "2"]
    if ARGS.plugins:
        command += ["--plugins", ARGS.plugins]
    env = dict(os.environ, PLEXUS_API_KEYS=KEY)
    SERVER = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.time() + 120
    lines = []
    while time.time() < deadline:
        line = SERVER.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(r"listening on (http://[0-9.]+:[0-9]+)", line)
        if match:
            BASE = match.group(1)
            break
    if BASE is None:
        raise SystemExit("plexus serve did not start:\n" + "".join(lines))
    # Drain the server's output in the background so it never blocks on a full pipe.
    import threading
    threading.Thread(target=lambda: [None for _ in SERVER.stdout], daemon=True).start()
    wait_ready()


def wait_ready():
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(BASE + "/health") as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as error:
            if error.code != 503:
                raise
        except urllib.error.URLError:
            pass
        time.sleep(0.2)
    raise SystemExit("models did not load within 120 s")


def client(**kwargs):
    return openai.OpenAI(base_url=BASE + "/v1", api_key=KEY, max_retries=0, _strict_response_validation=True, **kwargs)


def metric(name, labels):
    with urllib.request.urlopen(BASE + "/metrics") as response:
        text = response.read().decode()
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


class Models(unittest.TestCase):
    def test_list_and_retrieve(self):
        models = client().models.list()
        ids = [m.id for m in models.data]
        self.assertEqual(ids, ["smol", "gemma"])
        self.assertEqual(client().models.retrieve("gemma").id, "gemma")

    def test_unknown_model_is_404(self):
        with self.assertRaises(openai.NotFoundError):
            client().models.retrieve("no-such-model")


class Chat(unittest.TestCase):
    messages = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]

    def test_streamed_text_equals_non_streamed_text_at_temperature_0(self):
        c = client()
        full = c.chat.completions.create(model="smol", messages=self.messages, temperature=0, max_tokens=40)
        choice = full.choices[0]
        self.assertEqual(choice.message.role, "assistant")
        self.assertTrue(choice.message.content)
        self.assertIn(choice.finish_reason, ("stop", "length"))
        self.assertGreater(full.usage.prompt_tokens, 10)
        stream = c.chat.completions.create(model="smol", messages=self.messages, temperature=0, max_tokens=40,
                                           stream=True, stream_options={"include_usage": True})
        chunks = list(stream)
        self.assertEqual(len({chunk.id for chunk in chunks}), 1, "one id on every chunk")
        with_choices = [chunk for chunk in chunks if chunk.choices]
        roles = [chunk.choices[0].delta.role for chunk in with_choices if chunk.choices[0].delta.role]
        finishes = [chunk.choices[0].finish_reason for chunk in with_choices if chunk.choices[0].finish_reason]
        self.assertEqual(roles, ["assistant"])
        self.assertEqual(finishes, [choice.finish_reason])
        text = "".join(chunk.choices[0].delta.content or "" for chunk in with_choices)
        self.assertEqual(text, choice.message.content)
        self.assertEqual(chunks[-1].choices, [])
        self.assertEqual(chunks[-1].usage.model_dump(include={"prompt_tokens", "completion_tokens", "total_tokens"}),
                         full.usage.model_dump(include={"prompt_tokens", "completion_tokens", "total_tokens"}))
        # Plexus's usage extension: the device time attributed to each request (per-second metering).
        self.assertGreater(full.usage.model_extra["device_seconds"], 0)
        self.assertGreater(chunks[-1].usage.model_extra["device_seconds"], 0)

    def test_no_usage_chunk_unless_asked(self):
        chunks = list(client().chat.completions.create(model="smol", messages=self.messages, max_tokens=5, stream=True))
        self.assertTrue(all(chunk.choices for chunk in chunks))
        self.assertTrue(all(chunk.usage is None for chunk in chunks))

    def test_logprobs(self):
        full = client().chat.completions.create(model="smol", messages=self.messages, temperature=0, max_tokens=6,
                                                logprobs=True, top_logprobs=3)
        content = full.choices[0].logprobs.content
        self.assertEqual(len(content), full.usage.completion_tokens)
        self.assertTrue(all(len(entry.top_logprobs) == 3 for entry in content))

    def test_stop_string(self):
        c = client()
        ask = [{"role": "user", "content": "Count from 1 to 10, separated by commas."}]
        full = c.chat.completions.create(model="smol", messages=ask, temperature=0, max_tokens=40).choices[0].message.content
        self.assertIn("5", full)
        stopped = c.chat.completions.create(model="smol", messages=ask, temperature=0, max_tokens=40, stop=["5"])
        self.assertEqual(stopped.choices[0].message.content, full[:full.index("5")])
        self.assertEqual(stopped.choices[0].finish_reason, "stop")

    def test_seeded_sampling_repeats(self):
        c = client()
        a = c.chat.completions.create(model="smol", messages=self.messages, temperature=0.9, seed=7, max_tokens=20)
        b = c.chat.completions.create(model="smol", messages=self.messages, temperature=0.9, seed=7, max_tokens=20)
        self.assertEqual(a.choices[0].message.content, b.choices[0].message.content)

    def test_n_choices(self):
        full = client().chat.completions.create(model="smol", messages=self.messages, temperature=0.8, seed=1, n=2, max_tokens=8)
        self.assertEqual(sorted(choice.index for choice in full.choices), [0, 1])

    def test_json_schema_output_parses_and_validates(self):
        schema = {"type": "object", "additionalProperties": False, "required": ["city", "country", "population"],
                  "properties": {"city": {"type": "string", "maxLength": 40}, "country": {"type": "string", "maxLength": 40},
                                 "population": {"type": "integer"}}}
        full = client().chat.completions.create(
            model="smol", max_tokens=120, temperature=0,
            messages=[{"role": "user", "content": "Give the capital of France as JSON."}],
            response_format={"type": "json_schema", "json_schema": {"name": "capital", "schema": schema, "strict": True}})
        value = json.loads(full.choices[0].message.content)
        self.assertEqual(set(value), {"city", "country", "population"})
        self.assertIsInstance(value["population"], int)
        self.assertEqual(full.choices[0].finish_reason, "stop")

    def test_json_object_mode(self):
        full = client().chat.completions.create(
            model="smol", max_tokens=300, temperature=0, response_format={"type": "json_object"},
            messages=[{"role": "user", "content": "Give a JSON object with a cat's name and color."}])
        self.assertIsInstance(json.loads(full.choices[0].message.content), dict)

    def test_model_without_template_is_a_clear_400(self):
        with self.assertRaises(openai.BadRequestError) as caught:
            client().chat.completions.create(model="gemma", messages=self.messages)
        self.assertIn("chat template", str(caught.exception))

    def test_absurd_values_are_400(self):
        c = client()
        for kwargs in ({"temperature": 5}, {"max_tokens": -1}, {"n": 1_000_000}, {"top_logprobs": 50, "logprobs": True}):
            with self.subTest(kwargs=kwargs), self.assertRaises(openai.BadRequestError):
                c.chat.completions.create(model="smol", messages=self.messages, **kwargs)

    def test_service_tier_picks_the_class_and_changes_no_text(self):
        c = client()
        flex = c.chat.completions.create(model="smol", messages=self.messages, temperature=0, max_tokens=8, service_tier="flex")
        default = c.chat.completions.create(model="smol", messages=self.messages, temperature=0, max_tokens=8, service_tier="default")
        self.assertEqual(flex.choices[0].message.content, default.choices[0].message.content)
        with self.assertRaises(openai.BadRequestError) as caught:
            c.chat.completions.create(model="smol", messages=self.messages, service_tier="turbo")
        self.assertIn("service_tier", str(caught.exception))

    def test_disconnect_cancels_the_generation(self):
        before = metric("plexus_requests_total", {"model": "smol", "outcome": "cancelled"})
        stream = client().chat.completions.create(model="smol", max_tokens=1000, stream=True,
                                                  messages=[{"role": "user", "content": "Write a very long story."}])
        for index, _ in enumerate(stream):
            if index == 3:
                break
        stream.close()
        deadline = time.time() + 5
        while time.time() < deadline and metric("plexus_requests_total", {"model": "smol", "outcome": "cancelled"}) <= before:
            time.sleep(0.05)
        self.assertGreater(metric("plexus_requests_total", {"model": "smol", "outcome": "cancelled"}), before)


class Tools(unittest.TestCase):
    """Tool calling the generic way (instruction + output constrained to a JSON envelope), with SmolLM2."""
    tools = [{"type": "function", "function": {
        "name": "get_weather", "description": "Get the current weather in a city.",
        "parameters": {"type": "object", "additionalProperties": False, "required": ["city"],
                       "properties": {"city": {"type": "string", "maxLength": 40}}}}}]
    messages = [{"role": "user", "content": "What is the weather like in Paris today?"}]

    def check_call(self, name, arguments):
        self.assertEqual(name, "get_weather")
        self.assertIn("city", json.loads(arguments))

    def test_required_gives_a_tool_call(self):
        full = client().chat.completions.create(model="smol", messages=self.messages, tools=self.tools,
                                                tool_choice="required", temperature=0, max_tokens=100)
        choice = full.choices[0]
        self.assertEqual(choice.finish_reason, "tool_calls")
        self.assertIsNone(choice.message.content)
        call = choice.message.tool_calls[0]
        self.assertEqual(call.type, "function")
        self.assertTrue(call.id.startswith("call_"))
        self.check_call(call.function.name, call.function.arguments)

    def test_streamed_required_gives_the_same_call(self):
        stream = client().chat.completions.create(model="smol", messages=self.messages, tools=self.tools,
                                                  tool_choice="required", temperature=0, max_tokens=100, stream=True)
        chunks = list(stream)
        deltas = [chunk.choices[0].delta for chunk in chunks if chunk.choices]
        self.assertEqual([d.role for d in deltas if d.role], ["assistant"])
        self.assertFalse("".join(d.content or "" for d in deltas), "no content beside the call")
        calls = {}
        for delta in deltas:
            for call in delta.tool_calls or []:
                entry = calls.setdefault(call.index, {"id": None, "name": "", "arguments": ""})
                entry["id"] = entry["id"] or call.id
                entry["name"] += (call.function and call.function.name) or ""
                entry["arguments"] += (call.function and call.function.arguments) or ""
        self.assertEqual(list(calls), [0])
        self.assertTrue(calls[0]["id"].startswith("call_"))
        self.check_call(calls[0]["name"], calls[0]["arguments"])
        finishes = [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason]
        self.assertEqual(finishes, ["tool_calls"])

    def test_auto_gives_content_or_a_call(self):
        choice = client().chat.completions.create(model="smol", messages=self.messages, tools=self.tools,
                                                  temperature=0, max_tokens=100).choices[0]
        if choice.message.tool_calls:
            self.assertEqual(choice.finish_reason, "tool_calls")
            self.check_call(choice.message.tool_calls[0].function.name, choice.message.tool_calls[0].function.arguments)
        else:
            self.assertEqual(choice.finish_reason, "stop")
            self.assertIsInstance(choice.message.content, str)
            self.assertNotIn('"response"', choice.message.content)

    def test_second_turn_with_the_tool_result(self):
        messages = self.messages + [
            {"role": "assistant", "content": None, "tool_calls": [{"id": "call_abc", "type": "function", "function": {
                "name": "get_weather", "arguments": json.dumps({"city": "Paris"})}}]},
            {"role": "tool", "tool_call_id": "call_abc", "content": json.dumps({"temperature_c": 21, "sky": "sunny"})}]
        choice = client().chat.completions.create(model="smol", messages=messages, tools=self.tools,
                                                  temperature=0, max_tokens=100).choices[0]
        self.assertIn(choice.finish_reason, ("stop", "tool_calls", "length"))
        self.assertTrue(choice.message.content or choice.message.tool_calls)

    def test_unsupported_parameters_schema_is_400_on_tools(self):
        tools = [{"type": "function", "function": {"name": "f", "parameters": {
            "type": "object", "properties": {"zip": {"type": "string", "pattern": "^[0-9]{5}$"}}}}}]
        with self.assertRaises(openai.BadRequestError) as caught:
            client().chat.completions.create(model="smol", messages=self.messages, tools=tools)
        self.assertEqual(caught.exception.param, "tools")
        self.assertIn("pattern", str(caught.exception))


class Completions(unittest.TestCase):
    def test_streamed_equals_non_streamed(self):
        c = client()
        full = c.completions.create(model="gemma", prompt="The three primary colors are", temperature=0, max_tokens=16)
        self.assertTrue(full.choices[0].text)
        # openai-python types CompletionChoice.finish_reason as a non-optional Literal, yet the API (OpenAI's own
        # included) sends null on every streamed completion chunk but the last: strict validation cannot pass a
        # correct stream, so this stream is read with the SDK's default (lenient) parsing and checked here.
        lenient = openai.OpenAI(base_url=BASE + "/v1", api_key=KEY, max_retries=0)
        stream = lenient.completions.create(model="gemma", prompt="The three primary colors are", temperature=0, max_tokens=16,
                                            stream=True, stream_options={"include_usage": True})
        chunks = list(stream)
        finishes = [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason]
        self.assertEqual(finishes, [full.choices[0].finish_reason])
        self.assertEqual(len({chunk.id for chunk in chunks}), 1)
        text = "".join(chunk.choices[0].text for chunk in chunks if chunk.choices)
        self.assertEqual(text, full.choices[0].text)
        self.assertEqual(chunks[-1].usage.completion_tokens, full.usage.completion_tokens)


class Errors(unittest.TestCase):
    def test_bad_key_is_401(self):
        with self.assertRaises(openai.AuthenticationError):
            openai.OpenAI(base_url=BASE + "/v1", api_key="wrong", max_retries=0,
                          _strict_response_validation=True).models.list()

    def test_malformed_json_is_400_with_the_openai_envelope(self):
        request = urllib.request.Request(BASE + "/v1/chat/completions", data=b"{not json", method="POST",
                                         headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request)
        self.assertEqual(caught.exception.code, 400)
        error = json.loads(caught.exception.read())["error"]
        self.assertEqual(set(error), {"message", "type", "param", "code"})

    def test_unsupported_endpoints_say_what_is_missing(self):
        with self.assertRaises(openai.BadRequestError) as caught:
            client().embeddings.create(model="smol", input="hello")
        self.assertIn("embedding", str(caught.exception))


class Reload(unittest.TestCase):
    """A second server with a catalog: SIGHUP and POST /admin/reload apply the edited catalog; a removed model
    finishes the request it is streaming; an invalid catalog changes nothing."""

    def write_catalog(self, models, path):
        models_dir = os.path.abspath(ARGS.models)
        entries = [{"id": "smol", "weights": f"{models_dir}/SmolLM2-135M-Instruct.Q4_1.gguf", "options": {"context_length": 1024}},
                   {"id": "gemma", "weights": f"{models_dir}/gemma3-270m-Q4_K_M.gguf", "options": {"context_length": 1024}}]
        catalog = {"models": [e for e in entries if e["id"] in models],
                   "api_keys": [{"key": "user"}, {"key": "admin", "admin": True}], "server": {"host": "127.0.0.1", "port": 0}}
        with open(path + ".tmp", "w") as f:
            json.dump(catalog, f)
        os.replace(path + ".tmp", path)

    def test_reload_adds_and_drains_without_dropping_requests(self):
        import tempfile
        folder = tempfile.mkdtemp()
        path = folder + "/catalog.json"
        self.write_catalog(["smol"], path)
        command = [ARGS.plexus, "serve", "--catalog", path, "--threads", "2"] + (["--plugins", ARGS.plugins] if ARGS.plugins else [])
        server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            base = None
            while base is None:
                line = server.stdout.readline()
                self.assertTrue(line, "serve exited")
                match = re.search(r"listening on (http://[0-9.]+:[0-9]+)", line)
                base = match.group(1) if match else None
            import threading
            threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
            user = openai.OpenAI(base_url=base + "/v1", api_key="user", max_retries=0, _strict_response_validation=True)
            # While smol loads, a request for it is a 503 the SDK would retry (here: max_retries=0).
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    user.chat.completions.create(model="smol", messages=[{"role": "user", "content": "hi"}], max_tokens=1)
                    break
                except openai.InternalServerError as error:
                    self.assertEqual(error.status_code, 503)
                    time.sleep(0.2)
            # POST /admin/reload needs an admin key; it adds gemma.
            self.write_catalog(["smol", "gemma"], path)
            with self.assertRaises(openai.PermissionDeniedError):
                user.post("/../admin/reload", cast_to=object)
            admin = openai.OpenAI(base_url=base, api_key="admin", max_retries=0)
            changes = admin.post("/admin/reload", cast_to=object)["changes"]
            self.assertEqual(changes["added"], ["gemma"])
            # A stream on smol in flight while SIGHUP removes smol: it finishes with every token.
            stream = user.chat.completions.create(model="smol", max_tokens=48, stream=True, temperature=0,
                                                  messages=[{"role": "user", "content": "Tell me a story."}],
                                                  extra_body={"ignore_eos": True})
            first = next(iter(stream))
            self.write_catalog(["gemma"], path)
            server.send_signal(signal.SIGHUP)
            chunks = [first] + list(stream)
            finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
            self.assertEqual(finishes, ["length"])
            deadline = time.time() + 30
            while time.time() < deadline and [m.id for m in user.models.list().data] != ["gemma"]:
                time.sleep(0.2)
            self.assertEqual([m.id for m in user.models.list().data], ["gemma"])
            with self.assertRaises(openai.NotFoundError):
                user.chat.completions.create(model="smol", messages=[{"role": "user", "content": "hi"}], max_tokens=2)
            # An invalid catalog is refused and changes nothing.
            with open(path, "w") as f:
                f.write("{")
            with self.assertRaises(openai.BadRequestError):
                admin.post("/admin/reload", cast_to=object)
            self.assertEqual([m.id for m in user.models.list().data], ["gemma"])
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


class Images(unittest.TestCase):
    """A server with the digits image model (Specs/image-plugin.md): images.generate through the SDK in strict
    mode, PNGs read back with the standard library's zlib, seeds reproducible, refusals as 400."""

    @staticmethod
    def read_png(data):
        import struct
        import zlib
        assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
        at, chunks = 8, {}
        while at < len(data):
            (length,) = struct.unpack(">I", data[at:at + 4])
            kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
            (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
            assert zlib.crc32(kind + body) == crc, f"bad CRC on {kind}"
            chunks[kind] = chunks.get(kind, b"") + body
            at += 12 + length
        width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
        assert (depth, color) == (8, 2), "not 8-bit RGB"
        raw = zlib.decompress(chunks[b"IDAT"])
        rows = [raw[y * (3 * width + 1):(y + 1) * (3 * width + 1)] for y in range(height)]
        assert all(row[0] == 0 for row in rows) and len(raw) == height * (3 * width + 1)
        return width, height, b"".join(row[1:] for row in rows)

    @classmethod
    def setUpClass(cls):
        model = os.path.abspath(ARGS.models) + "/digits-ddim.gguf"
        command = [ARGS.plexus, "serve", "--host", "127.0.0.1", "--port", "0", "--model", f"digits={model}", "--threads", "2"]
        command += ["--plugins", ARGS.plugins] if ARGS.plugins else []
        cls.server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        base = None
        while base is None:
            line = cls.server.stdout.readline()
            if not line:
                raise SystemExit("plexus serve (digits) exited")
            match = re.search(r"listening on (http://[0-9.]+:[0-9]+)", line)
            base = match.group(1) if match else None
        import threading
        threading.Thread(target=lambda: [None for _ in cls.server.stdout], daemon=True).start()
        cls.client = openai.OpenAI(base_url=base + "/v1", api_key="none", max_retries=5, _strict_response_validation=True)

    @classmethod
    def tearDownClass(cls):
        cls.server.send_signal(signal.SIGTERM)
        cls.server.wait(timeout=30)

    def generate(self, **kwargs):
        return self.client.images.generate(model="digits", **kwargs)

    def test_images_come_back_as_png_and_a_seed_repeats(self):
        import base64
        first = self.generate(prompt="a handwritten 3", n=2, size="16x8", extra_body={"seed": 7, "steps": 10})
        self.assertEqual(len(first.data), 2)
        self.assertEqual(first.output_format, "png")
        self.assertGreater(first.usage.model_extra["device_seconds"], 0)
        images = [self.read_png(base64.b64decode(item.b64_json)) for item in first.data]
        for width, height, rgb in images:
            self.assertEqual((width, height, len(rgb)), (16, 8, 16 * 8 * 3))
            self.assertTrue(all(rgb[i] == rgb[i + 1] == rgb[i + 2] for i in range(0, len(rgb), 3)))
        self.assertNotEqual(images[0][2], images[1][2])  # two images of one request differ
        again = self.generate(prompt="a handwritten 3", n=2, size="16x8", extra_body={"seed": 7, "steps": 10})
        self.assertEqual([i.b64_json for i in again.data], [i.b64_json for i in first.data])
        other = self.generate(prompt="a handwritten 3", n=1, size="16x8", extra_body={"seed": 8, "steps": 10})
        self.assertNotEqual(other.data[0].b64_json, first.data[0].b64_json)

    def test_refusals_are_400(self):
        with self.assertRaises(openai.BadRequestError) as caught:
            self.generate(prompt="a 1", size="12x12")  # the model takes multiples of 8
        self.assertIn("width", str(caught.exception))
        with self.assertRaises(openai.BadRequestError):
            self.generate(prompt="a 1", response_format="url")
        with self.assertRaises(openai.BadRequestError):
            self.generate(prompt="a 1", n=11)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--plexus", default=".build/debug/plexus")
    parser.add_argument("--plugins", default=None)
    parser.add_argument("--models", default=".cache/models")
    ARGS, rest = parser.parse_known_args()
    start_server()
    try:
        result = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2).result
    finally:
        SERVER.send_signal(signal.SIGTERM)
        try:
            SERVER.wait(timeout=20)
        except subprocess.TimeoutExpired:
            SERVER.kill()
            print("plexus serve did not stop within 20 s of SIGTERM")
            sys.exit(1)
    if SERVER.returncode != 0:
        print(f"plexus serve exited with {SERVER.returncode} after SIGTERM")
        sys.exit(1)
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
