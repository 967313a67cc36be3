#!/usr/bin/env python3
"""Golden renderings for Plexus' template interpreter, made by an independent reference: the `jinja2` package,
configured exactly as Hugging Face transformers configures it for chat templates
(transformers/utils/chat_template_utils.py, `_compile_jinja_template`):

    ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, loopcontrols])
    filters["tojson"] = json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)
    globals["raise_exception"] raises TemplateError(message); globals["strftime_now"] = datetime.now().strftime

and called as `apply_chat_template` calls it: render(messages=..., tools=<list or None>, documents=None,
add_generation_prompt=..., **special_tokens, **extra). (The AssistantTracker extension only adds the
`{% generation %}` tag, which none of these templates use.) strftime_now uses a fixed clock here so the output is
reproducible.

Messages are given in OpenAI wire form and turned into template dicts by `to_template`, the same rule Plexus'
ChatMessage applies (tool-call arguments parsed from their JSON string, as vLLM does; content parts kept as a list for
templates that iterate over content, joined with "\\n" otherwise).

Run:  python3 make_template_golden.py   (writes template_golden.json next to this file; needs jinja2 >= 3.1)
"""
import json
import pathlib
import time

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = pathlib.Path(__file__).parent
# 2024-07-26 12:00:00 UTC: the same calendar date in every time zone from UTC-11 to UTC+11.
FIXED_CLOCK = 1721995200


def environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return time.strftime(format, time.localtime(FIXED_CLOCK))

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


ENV = environment()

# name: (file, content format, special tokens). Sources: SmolLM2 from the GGUF's tokenizer.chat_template; the others
# are the tokenizer_config.json chat templates of the named Hugging Face models as found in public repositories
# (llama.cpp's models/templates and tests, huggingface swift-jinja tests, vendored tokenizer configs).
TEMPLATES = {
    "smollm2": ("smollm2.jinja", "string", {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"}),  # HuggingFaceTB/SmolLM2-135M-Instruct
    "llama3": ("llama3.jinja", "string", {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}),  # meta-llama/Meta-Llama-3-8B-Instruct
    "llama3.1": ("llama3.1.jinja", "string", {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}),  # meta-llama/Llama-3.1-8B-Instruct
    "qwen2.5": ("qwen2.5.jinja", "string", {"eos_token": "<|im_end|>"}),  # Qwen/Qwen2.5-0.5B-Instruct (no bos_token)
    "qwen3": ("qwen3.jinja", "string", {"eos_token": "<|im_end|>"}),  # Qwen/Qwen3-0.6B
    "gemma3": ("gemma3.jinja", "openai", {"bos_token": "<bos>", "eos_token": "<eos>"}),  # google/gemma-3-1b-it
    "mistral-v0.2": ("mistral-v0.2.jinja", "string", {"bos_token": "<s>", "eos_token": "</s>"}),  # mistralai/Mistral-7B-Instruct-v0.2
    "mistral-v0.3": ("mistral-v0.3.jinja", "string", {"bos_token": "<s>", "eos_token": "</s>"}),  # mistralai/Mistral-7B-Instruct-v0.3
    "zephyr": ("zephyr.jinja", "string", {"bos_token": "<s>", "eos_token": "</s>"}),  # TinyLlama/TinyLlama-1.1B-Chat-v1.0, HuggingFaceH4/zephyr-7b-beta
    # Extra stress: strftime_now in a real template; recursive macros over JSON schemas.
    "llama3.2": ("llama3.2.jinja", "string", {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}),  # meta-llama/Llama-3.2-3B-Instruct
    "hermes3": ("hermes3-tool-use.jinja", "string", {"bos_token": "<|begin_of_text|>", "eos_token": "<|im_end|>"}),  # NousResearch/Hermes-3-Llama-3.1-8B (tool_use)
}

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a city.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name, e.g. Zürich"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}}}
CLOCK = {"type": "function", "function": {
    "name": "get_time", "description": "Current time in a time zone.",
    "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]}}}

SEARCH = {"type": "function", "function": {
    "name": "search", "description": "Search documents.",
    "parameters": {"type": "object", "properties": {
        "query": {"type": "string", "description": "  The query. "},
        "tags": {"type": "array", "items": {"type": "string"}, "description": "Tags to match."},
        "limit": {"type": ["integer", "string"], "description": "Most results."},
        "filters": {"type": "object", "additionalProperties": {"type": "number"}, "description": "Numeric filters."},
        "exact": {"type": "boolean", "description": "Exact match."},
        "misc": {"description": "Anything else."}}, "required": ["query"]},
    "return": {"type": "array", "description": "Matching documents."}}}
NO_ARGS = {"type": "function", "function": {"name": "ping", "description": "Check the service.",
                                            "parameters": {"type": "object", "properties": {}}}}


def call(id, name, arguments):
    return {"id": id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)}}


CONVERSATIONS = {
    "user": [{"role": "user", "content": "Hello! What's 2+2?"}],
    "system_user": [{"role": "system", "content": "You are a terse pirate."},
                    {"role": "user", "content": "Who are you?"}],
    "multi_turn": [{"role": "user", "content": "Hi there"},
                   {"role": "assistant", "content": "   I am an assistant   "},
                   {"role": "user", "content": "Say \"ünïcødé\" — and 'quotes' \\ backslashes 🙂\nnew line"}],
    "system_multi_turn": [{"role": "system", "content": "  Be brief.\n"},
                          {"role": "user", "content": "Name a color."},
                          {"role": "assistant", "content": "Blue."},
                          {"role": "user", "content": "Another?"}],
    "ends_with_assistant": [{"role": "user", "content": "Count to three."},
                            {"role": "assistant", "content": "1, 2, 3."}],
    "tool_call": [{"role": "user", "content": "What's the weather in Zürich?"},
                  {"role": "assistant", "content": "", "tool_calls": [call("call12345", "get_weather", {"city": "Zürich", "unit": "celsius"})]},
                  {"role": "tool", "tool_call_id": "call12345", "content": "{\"temperature\": 21.5, \"sky\": \"clear\"}"}],
    "tool_call_null_content": [{"role": "user", "content": "Weather in Oslo?"},
                               {"role": "assistant", "content": None, "tool_calls": [call("callABCDE", "get_weather", {"city": "Oslo"})]},
                               {"role": "tool", "tool_call_id": "callABCDE", "content": "Rain, 9 °C"},
                               {"role": "assistant", "content": "It rains in Oslo (9 °C)."},
                               {"role": "user", "content": "Thanks!"}],
    "two_tool_calls": [{"role": "system", "content": "Use tools."},
                       {"role": "user", "content": "Weather in Paris and time in Tokyo?"},
                       {"role": "assistant", "content": "Checking both.", "tool_calls": [
                           call("call00001", "get_weather", {"city": "Paris"}),
                           call("call00002", "get_time", {"tz": "Asia/Tokyo"})]},
                       {"role": "tool", "tool_call_id": "call00001", "content": "Sunny"},
                       {"role": "tool", "tool_call_id": "call00002", "content": "21:04"}],
    "parts": [{"role": "system", "content": [{"type": "text", "text": "Describe images briefly."}]},
              {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                           {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                                           {"type": "text", "text": "  Be concise.  "}]}],
    "text_parts": [{"role": "user", "content": [{"type": "text", "text": "First part."}, {"type": "text", "text": "Second part."}]}],
    "thinking_history": [{"role": "user", "content": "What is 2+2?"},
                         {"role": "assistant", "content": "<think>\nSimple arithmetic.\n</think>\n\nIt is 4."},
                         {"role": "user", "content": "And 3+3?"}],
    "thinking_last": [{"role": "user", "content": "What is 2+2?"},
                      {"role": "assistant", "content": "<think>\nSimple arithmetic.\n</think>\n\nIt is 4."}],
    "reasoning_field": [{"role": "user", "content": "Pick a number."},
                        {"role": "assistant", "content": "Seven.", "reasoning_content": "Any number works; seven is popular."}],
    "two_users": [{"role": "user", "content": "One"}, {"role": "user", "content": "Two"}],
}

# template -> list of (conversation, tools, extra variables); each runs with add_generation_prompt true and false.
PLAN = {
    "smollm2": [("user", None, {}), ("system_user", None, {}), ("multi_turn", None, {}), ("ends_with_assistant", None, {})],
    "llama3": [("user", None, {}), ("system_multi_turn", None, {}), ("multi_turn", None, {})],
    "llama3.1": [("user", None, {}), ("system_multi_turn", None, {}), ("multi_turn", None, {}),
                 ("tool_call", [WEATHER], {}), ("tool_call", [WEATHER, CLOCK], {"tools_in_user_message": False}),
                 ("two_tool_calls", [WEATHER, CLOCK], {}), ("text_parts", None, {})],
    "qwen2.5": [("user", None, {}), ("system_user", None, {}), ("multi_turn", None, {}), ("tool_call", [WEATHER], {}),
                ("tool_call_null_content", [WEATHER], {}), ("two_tool_calls", [WEATHER, CLOCK], {}), ("text_parts", None, {})],
    "qwen3": [("user", None, {}), ("system_user", None, {}), ("user", None, {"enable_thinking": False}),
              ("thinking_history", None, {}), ("thinking_last", None, {}), ("reasoning_field", None, {}),
              ("tool_call", [WEATHER], {}), ("two_tool_calls", [WEATHER, CLOCK], {"enable_thinking": True}),
              ("tool_call_null_content", [WEATHER], {})],
    "gemma3": [("user", None, {}), ("system_user", None, {}), ("system_multi_turn", None, {}), ("parts", None, {}),
               ("text_parts", None, {}), ("two_users", None, {})],
    "mistral-v0.2": [("user", None, {}), ("multi_turn", None, {}), ("system_user", None, {})],
    "mistral-v0.3": [("user", None, {}), ("system_multi_turn", None, {}), ("tool_call", [WEATHER, CLOCK], {}),
                     ("two_users", None, {})],
    "zephyr": [("user", None, {}), ("system_multi_turn", None, {}), ("ends_with_assistant", None, {})],
    "llama3.2": [("user", None, {}), ("system_multi_turn", None, {}), ("tool_call", [WEATHER], {}),
                 ("tool_call", [SEARCH], {"tools_in_user_message": False}), ("user", None, {"date_string": "01 Jan 2025"})],
    "hermes3": [("user", [SEARCH, NO_ARGS], {}), ("tool_call", [WEATHER, CLOCK], {}), ("two_tool_calls", [WEATHER, CLOCK, SEARCH], {}),
                ("tool_call_null_content", [WEATHER], {}), ("user", None, {})],
}


def to_template(message, content_format):
    """The template dict of an OpenAI wire message: Plexus' ChatMessage.templateValue rule."""
    out = {"role": message["role"]}
    content = message.get("content")
    if isinstance(content, list):
        parts = [{"type": "text", "text": p["text"]} if p["type"] == "text" else {"type": "image"} for p in content]
        if content_format == "openai":
            content = parts
        else:
            content = "\n".join(p["text"] for p in parts if p["type"] == "text")
    out["content"] = content
    if "name" in message:
        out["name"] = message["name"]
    if "tool_calls" in message:
        calls = []
        for c in message["tool_calls"]:
            try:
                arguments = json.loads(c["function"]["arguments"])
            except ValueError:
                arguments = c["function"]["arguments"]
            calls.append({"id": c["id"], "type": "function", "function": {"name": c["function"]["name"], "arguments": arguments}})
        out["tool_calls"] = calls
    if "tool_call_id" in message:
        out["tool_call_id"] = message["tool_call_id"]
    if "reasoning_content" in message:
        out["reasoning_content"] = message["reasoning_content"]
    return out


def render(source, **variables):
    try:
        return {"expected": ENV.from_string(source).render(**variables)}
    except jinja2.exceptions.TemplateSyntaxError as error:
        return {"error": {"type": type(error).__name__, "message": error.message, "line": error.lineno}}
    except Exception as error:  # noqa: BLE001 - the golden records whatever jinja2 raises
        return {"error": {"type": type(error).__name__, "message": str(error)}}


def chat_cases():
    cases = []
    for name, plan in PLAN.items():
        file, content_format, tokens = TEMPLATES[name]
        source = (HERE / "templates" / file).read_text()
        for conversation, tools, extra in plan:
            wire = CONVERSATIONS[conversation]
            messages = [to_template(m, content_format) for m in wire]
            for generation_prompt in (True, False):
                result = render(source, messages=messages, tools=tools, documents=None,
                                add_generation_prompt=generation_prompt, **tokens, **extra)
                cases.append({"template": name, "conversation": conversation, "messages": wire, "tools": tools,
                              "add_generation_prompt": generation_prompt, "extra": extra, **result})
    return cases


SNIPPET_CONTEXT = {
    "xs": [1, 2, 3], "e": [], "s": "  Héllo, Wörld!  ", "n": None, "t": True, "f": 2.5, "i": 7, "neg": -7,
    "d": {"a": 1, "b": [1, 2], "c": {"x": "y"}, "items": "shadow"},
    "users": [{"name": "ann", "age": 31, "admin": True}, {"name": "Bob", "age": 25}, {"name": "cy", "age": 40, "admin": False}],
    "text": "a,b,,c", "emoji": "🙂é", "nested": [[1, 2], [3, 4]], "html": "<a href='x'>&</a>",
    "big": 12345678901234, "floats": [0.1, 1e-05, 1e16, 1.5, 100.0, 123456789.125],
}

SNIPPETS = [
    # literals and output
    "{{ 1 }}|{{ -3 }}|{{ 1.5 }}|{{ 1e3 }}|{{ 0x1F }}|{{ 0o17 }}|{{ 0b101 }}|{{ 1_000 }}|{{ 'a' 'b' \"c\" }}",
    "{{ true }}|{{ false }}|{{ none }}|{{ True }}|{{ None }}|{{ [1, 'a', none, true] }}|{{ {'k': 'v', 'n': [1]} }}",
    "{{ floats }}|{% for x in floats %}{{ x }},{% endfor %}",
    "{{ 'it\\'s' }}|{{ \"say \\\"hi\\\"\" }}|{{ 'tab\\there' }}|{{ '\\u00e9\\x41\\101' }}|{{ '\\d' }}",
    "{{ ['it\\'s', \"q\\\"\", 'both\\'\"', '\\n\\t\\x01', 'é🙂'] }}",
    "{{ d }}|{{ nested }}|{{ n }}|{{ undefined_name }}|[{{ d.missing }}]",
    # arithmetic
    "{{ 7 / 2 }}|{{ 4 / 2 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % 3 }}|{{ -7 % 3 }}|{{ 7 % -3 }}|{{ 2 ** 10 }}|{{ 2 ** 3 ** 2 }}|{{ 2 ** -1 }}",
    "{{ 1 + 2 * 3 }}|{{ (1 + 2) * 3 }}|{{ 1 + 2.5 }}|{{ 5.5 // 2 }}|{{ -5.5 % 2 }}|{{ true + 1 }}|{{ 10 - 2 - 3 }}|{{ 0.1 + 0.2 }}",
    "{{ 'ab' * 3 }}|{{ 3 * 'x' }}|{{ [1] * 3 }}|{{ 'a' + 'b' }}|{{ [1] + [2, 3] }}|{{ 'n' ~ 1 ~ none ~ true ~ 1.5 }}|{{ 'a' ~ undefined_name ~ 'b' }}",
    "{{ 1 + 'a' }}", "{{ undefined_name + 1 }}", "{{ 1 / 0 }}", "{{ 'a' < 1 }}",
    "{{ -xs[0] }}|{{ +f }}|{{ -f|abs }}|{{ not true }}|{{ not none }}|{{ not '' }}|{{ not xs }}",
    # comparisons and logic
    "{{ 1 == 1.0 }}|{{ true == 1 }}|{{ 'a' != 'b' }}|{{ 1 < 2 < 3 }}|{{ 3 > 2 > 2 }}|{{ [1, 2] < [1, 3] }}|{{ 'abc' < 'abd' }}|{{ 'B' < 'a' }}",
    "{{ 'b' in 'abc' }}|{{ 2 in xs }}|{{ 'a' in d }}|{{ 'z' not in d }}|{{ 5 not in xs }}|{{ '' in 'x' }}|{{ 'x' in undefined_name }}",
    "{{ 1 and 'x' }}|{{ 0 and 'x' }}|{{ 0 or 'y' }}|{{ none or [] }}|{{ 'a' if t else 'b' }}|{{ 'a' if not t else 'b' }}|[{{ 'a' if false }}]",
    "{{ d == {'items': 'shadow', 'c': {'x': 'y'}, 'b': [1, 2], 'a': 1} }}|{{ users[0] == users[0] }}|{{ xs == [1, 2, 3.0] }}",
    # attributes, items, slices
    "{{ d.a }}|{{ d['b'][1] }}|{{ d.c.x }}|{{ d['c']['x'] }}|{{ xs[-1] }}|{{ xs.1 }}|[{{ xs[5] }}]|{{ nested[1][0] }}|{{ s[2] }}|{{ emoji[0] }}",
    "{{ xs[::-1] }}|{{ xs[1:] }}|{{ xs[:-1] }}|{{ xs[::2] }}|{{ s[2:7] }}|{{ s[::-1] }}|{{ xs[5:] }}|{{ xs[-10:2] }}|{{ emoji[::-1] }}|{{ xs[2:0:-1] }}",
    "{{ d.items is defined }}|{{ d['items'] }}|{{ d.get('a') }}|{{ d.get('zz', 'dflt') }}|{{ d.get('zz') }}|[{{ n.x }}]|[{{ 5.x }}]",
    "{{ undefined_name.attr }}", "{{ d.missing.attr }}", "{{ n[0] }}|{{ xs['a'] }}",
    # strings and methods
    "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ '--x--'.strip('-') }}|{{ 'xxhixx'.lstrip('x') }}|{{ s.upper() }}|{{ s.lower() }}",
    "{{ 'hello world'.title() }}|{{ \"they're bill's\".title() }}|{{ 'hELLO'.capitalize() }}|{{ 'a-b c'.title() }}",
    "{{ text.split(',') }}|{{ '  a  b c '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}|{{ ' a  b '.split(none, 1) }}",
    "{{ 'l1\\nl2\\r\\nl3'.splitlines() }}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'bc')) }}|{{ 'abc'.startswith('c', 2) }}",
    "{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'ab'.replace('', '-') }}|{{ 'banana'.find('an') }}|{{ 'banana'.rfind('an') }}|{{ 'banana'.count('an') }}|{{ 'x'.find('z') }}",
    "{{ ', '.join(['a', 'b']) }}|{{ '123'.isdigit() }}|{{ 'abc'.isalpha() }}|{{ '  '.isspace() }}|{{ 'ABC'.isupper() }}|{{ 'abc'.islower() }}",
    "{{ ', '.join([1, 2]) }}",
    "{% for k, v in d.items() %}{{ k }}:{{ v }},{% endfor %}|{{ d.keys() | list }}|{{ d.values() | list | length }}|{{ xs.index(2) }}|{{ xs.count(3) }}",
    # filters
    "{{ s | trim }}|{{ '..x..' | trim('.') }}|{{ s | upper }}|{{ s | lower }}|{{ 'hello WORLD' | capitalize }}|{{ 'hello-world (big) wOrld' | title }}",
    "{{ xs | length }}|{{ s | length }}|{{ d | length }}|{{ undefined_name | length }}|{{ emoji | count }}|{{ xs | first }}|{{ xs | last }}|{{ 'abc' | first }}|[{{ e | first }}]",
    "{{ xs | join }}|{{ xs | join(', ') }}|{{ users | join('/', attribute='name') }}|{{ undefined_name | join }}",
    "{{ undefined_name | default('dflt') }}|{{ n | default('dflt') }}|{{ '' | default('dflt', true) }}|{{ 0 | d('zero', boolean=true) }}|{{ 'x' | default('dflt') }}",
    "{% for k, v in d | items %}{{ k }}={{ v }};{% endfor %}|{{ undefined_name | items | list }}|{{ 'ab' | list }}|{{ d | list }}",
    "{{ 5 | string }}|{{ none | string }}|{{ xs | string }}|{{ 'x' | safe }}|{{ html | e }}|{{ html | escape }}",
    "{{ d | tojson }}|{{ users[0] | tojson }}|{{ 'é\"\\\\/<>&\\'' | tojson }}|{{ floats | tojson }}|{{ none | tojson }}|{{ [] | tojson }}|{{ {} | tojson }}",
    "{{ d | tojson(indent=2) }}|{{ users | tojson(indent='\\t') }}|{{ d | tojson(sort_keys=true) }}|{{ d | tojson(separators=(',', ':')) }}|{{ 'é' | tojson(ensure_ascii=true) }}|{{ xs | tojson(indent=0) }}",
    "{{ undefined_name | tojson }}",
    "{{ users | selectattr('admin') | list }}|{{ users | rejectattr('admin') | map(attribute='name') | list }}|{{ users | selectattr('age', 'gt', 30) | map(attribute='name') | join(',') }}",
    "{{ users | selectattr('admin', 'defined') | list | length }}|{{ users | selectattr('admin', 'undefined') | map(attribute='name') | list }}|{{ users | selectattr('name', 'equalto', 'Bob') | list }}",
    "{{ xs | select('odd') | list }}|{{ xs | reject('odd') | list }}|{{ [0, 1, '', 'a', none] | select | list }}|{{ xs | map('string') | join('-') }}|{{ ['a', 'B'] | map('upper') | list }}",
    "{{ users | map(attribute='admin', default='?') | list }}|{{ nested | map('first') | list }}|{{ users | map(attribute='name') | map('capitalize') | list }}",
    "{{ ['b', 'A', 'a', 'c'] | unique | list }}|{{ ['b', 'A', 'a', 'c'] | sort }}|{{ [3, 1, 2] | sort(reverse=true) }}|{{ users | sort(attribute='age') | map(attribute='name') | list }}|{{ ['b', 'A'] | sort(case_sensitive=true) }}",
    "{{ xs | reverse | list }}|{{ 'abc' | reverse }}|{{ 'a-b-c' | replace('-', '+') }}|{{ 'a-b-c' | replace('-', '', 1) }}",
    "{{ '42' | int }}|{{ '4.7' | int }}|{{ 'x' | int }}|{{ 'x' | int(5) }}|{{ 3.9 | int }}|{{ '2.5' | float }}|{{ 'x' | float }}|{{ -3 | abs }}|{{ 2.5 | round }}|{{ 3.14159 | round(2) }}|{{ 2.1 | round(0, 'ceil') }}|{{ 0x10 | string }}",
    "{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent('>', blank=true) }}",
    "{{ xs | sum }}|{{ users | sum(attribute='age') }}|{{ xs | min }}|{{ xs | max }}|{{ ['b', 'A', 'c'] | max }}|{{ users | max(attribute='age') }}|{{ e | max }}",
    "{{ 'one two  three' | wordcount }}|{{ users[0] | attr('name') }}|{{ d | attr('items') is defined }}",
    # tests
    "{{ xs is defined }}|{{ zz is defined }}|{{ zz is undefined }}|{{ n is none }}|{{ 0 is none }}|{{ t is boolean }}|{{ 1 is boolean }}|{{ t is true }}|{{ 1 is true }}|{{ false is false }}",
    "{{ 1 is integer }}|{{ t is integer }}|{{ 1.0 is float }}|{{ t is number }}|{{ 1.5 is number }}|{{ 'x' is number }}|{{ 'x' is string }}|{{ d is mapping }}|{{ xs is mapping }}",
    "{{ 'x' is iterable }}|{{ xs is iterable }}|{{ d is iterable }}|{{ 5 is iterable }}|{{ zz is iterable }}|{{ n is iterable }}|{{ 'x' is sequence }}|{{ d is sequence }}|{{ 5 is sequence }}",
    "{{ 3 is odd }}|{{ 3 is even }}|{{ 9 is divisibleby 3 }}|{{ 9 is divisibleby(2) }}|{{ 1 is eq 1 }}|{{ 1 is equalto(2) }}|{{ 2 is gt 1 }}|{{ 2 is lessthan 1 }}|{{ 2 is ne 3 }}|{{ 2 is in xs }}|{{ 2 is ge 2 }}",
    "{{ 'abc' is lower }}|{{ 'aBc' is upper }}|{{ 'ABC' is upper }}|{{ n is sameas none }}|{{ false is sameas false }}|{{ 0 is sameas false }}|{{ 'upper' is filter }}|{{ 'nope' is filter }}|{{ 'odd' is test }}",
    "{{ raise_exception is callable }}|{{ 'x'.upper is callable }}|{{ xs is callable }}|{{ xs is not none }}|{{ not xs is none }}|{{ zz is not defined and true }}",
    # statements
    "{% if false %}a{% elif n %}b{% elif xs %}c{% else %}d{% endif %}|{% if zz %}x{% else %}y{% endif %}",
    "{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}",
    "{% for x in xs %}{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }}|{% endfor %}{% for x in xs %}{{ loop.cycle('a', 'b') }}{% endfor %}",
    "{% for x in e %}never{% else %}empty{% endfor %}|{% for x in zz %}never{% else %}undefined is empty{% endfor %}|{% for x in xs if x > 1 %}{{ x }}{{ loop.length }}{% else %}none{% endfor %}",
    "{% for row in nested %}{% for v in row %}{{ loop.depth }}{{ v }}{% endfor %}{{ loop.depth }}/{% endfor %}",
    "{% for a, b in nested %}{{ a }}-{{ b }};{% endfor %}|{% for k in d %}{{ k }},{% endfor %}|{% for c in 'hé' %}[{{ c }}]{% endfor %}",
    "{% for x in xs %}{% if x == 2 %}{% continue %}{% endif %}{{ x }}{% endfor %}|{% for x in xs %}{% if x == 2 %}{% break %}{% endif %}{{ x }}{% endfor %}",
    "{% set a = 1 %}{% set b, c = [2, 3] %}{{ a }}{{ b }}{{ c }}|{% set l = [a, b] %}{{ l }}|{% set s2 %}cap {{ a }}{% endset %}[{{ s2 }}]|{% set s3 | upper %}up{% endset %}{{ s3 }}",
    "{% set x = 0 %}{% for i in xs %}{{ x }}{% set x = i %}{{ x }},{% endfor %}{{ x }}",
    "{% for i in xs %}{% if i == 2 %}{% set y = i %}{% endif %}[{{ y }}]{% endfor %}[{{ y }}]",
    "{% set ns = namespace(total=0, names=[]) %}{% for u in users %}{% set ns.total = ns.total + u.age %}{% set ns.names = ns.names + [u.name] %}{% endfor %}{{ ns.total }} {{ ns.names }}",
    "{% set ns = namespace() %}{% set ns.a = 1 %}{{ ns.a }}{{ ns.b is defined }}|{% set ns2 = namespace(d) %}{{ ns2.c.x }}",
    "{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', greeting='Hi') }} {{ greet('Cy', 'Yo') }}",
    "{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(4) }}|{% macro g(a, b=a ~ '!') %}{{ a }}{{ b }}{{ varargs | list }}{{ kwargs }}{% endmacro %}{{ g(1) }}{{ g(1, 2, 3) }}",
    "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% for u in users %}{% call wrap('b') %}{{ u.name }}{% endcall %}{% endfor %}",
    "{% macro m() %}[{{ late }}]{% endmacro %}{% set late = 1 %}{{ m() }}{% set late = 2 %}{{ m() }}",
    "{% filter upper %}shout {{ 'this' }}{% endfilter %}|{% raw %}{{ not rendered }} {% if %}{% endraw %}",
    "{{ range(3) | list }}|{{ range(1, 10, 3) | list }}|{{ range(5, 0, -2) | list }}|{% for i in range(2) %}{{ i }}{% endfor %}|{{ dict(a=1, b='x') }}|{{ namespace(a=1).a }}",
    "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d') }}",
    "{{ raise_exception('Custom failure: ' ~ xs | length) }}",
    "{% for x in xs %}{{ raise_exception('boom at ' ~ x) if x == 2 }}{% endfor %}",
    # whitespace control (trim_blocks / lstrip_blocks / - / +)
    "a\n{% if true %}\nb\n{% endif %}\nc",
    "a\n    {% if true %}\n    b\n    {% endif %}\nc",
    "  {%- if true %} x {% endif -%}  \n  y",
    "a {{- ' b ' -}} c\n{{ 'd' }}\n  {{ 'e' }}",
    "x\n  {%+ if true %}y{% endif %}\n  {# comment #}\n  z {#- c -#} w",
    "{% for x in xs %}\n  {{ x }}\n{% endfor %}\n",
    "{% for x in xs -%}\n  {{ x }}\n{%- endfor %}",
    "line\r\nbreaks\r{% if true %}\r\nok{% endif %}\n",
    "  {% raw %}  kept {{ x }}  {% endraw %}  \nnext",
    "\t{% if true %}\ttab-indented\n\t{% endif %}\nend\n\n",
    "{# only a comment #}\n{{ 'after' }}",
    "{% if true %}{% endif %}   \n",
    # errors with locations
    "{% if true %}\n  unclosed", "{{ 1 + }}", "line1\n{% for x in %}{% endfor %}", "{% endif %}",
    "{{ xs | no_such_filter }}", "{% foo %}", "{{ 'unterminated }}", "{% for x in xs %}{% else %}{% else %}{% endfor %}",
    "{{ (1, 2 }}", "{% break %}",
]


def snippet_cases():
    return [{"source": source, **render(source, **SNIPPET_CONTEXT)} for source in SNIPPETS]


def main():
    templates = {}
    for name, (file, content_format, tokens) in TEMPLATES.items():
        templates[name] = {"source": (HERE / "templates" / file).read_text(), "content_format": content_format,
                           "bos_token": tokens.get("bos_token"), "eos_token": tokens.get("eos_token")}
    golden = {
        "generator": "Tests/HostCoreTests/Golden/make_template_golden.py",
        "jinja2_version": jinja2.__version__,
        "fixed_clock": FIXED_CLOCK,
        "templates": templates,
        "chat_cases": chat_cases(),
        "snippet_context": SNIPPET_CONTEXT,
        "snippets": snippet_cases(),
    }
    out = HERE / "template_golden.json"
    out.write_text(json.dumps(golden, ensure_ascii=False, indent=1) + "\n")
    chats = golden["chat_cases"]
    print(f"wrote {out.name}: {len(chats)} chat cases ({sum('error' in c for c in chats)} errors), "
          f"{len(golden['snippets'])} snippets ({sum('error' in c for c in golden['snippets'])} errors)")


if __name__ == "__main__":
    main()
