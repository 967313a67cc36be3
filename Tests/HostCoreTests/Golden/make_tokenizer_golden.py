#!/usr/bin/env python3
"""Golden tokenizer data from an independent reference: llama.cpp itself, through llama-cpp-python.

    python3 -m pip install llama-cpp-python==0.3.36 gguf==0.19.0   # builds llama.cpp from source (minutes)
    python3 Tests/HostCoreTests/Golden/make_tokenizer_golden.py [MODEL_CACHE]

MODEL_CACHE defaults to $PLEXUS_MODEL_CACHE or <package root>/.cache/models (scripts/fetch-models fills it).
Writes one tokenizer-<name>.json per vocabulary next to this script:
  - smollm2, gemma3: the two real models;
  - smollm2-pre-<pre>: SmolLM2's vocabulary and merges with tokenizer.ggml.pre replaced by <pre>
    (gpt-2, llama3, qwen2, default), so the other pre-tokenizers are proven on a real vocabulary;
  - gemma3-space-prefix: Gemma 3 with tokenizer.ggml.add_space_prefix = true (SentencePiece's other mode).
  The Swift tests make the same substitutions in memory; these variants carry no piece table (same vocabulary).

Each case holds the text, the ids for every (add_special, parse_special) pair, and what llama.cpp decodes them to
(llama_detokenize with remove_special=false, unparse_special false/true), bytes as hex. A piece table samples
token_to_piece over the vocabulary (every special token, the first 300 ids, then every 251st id).
"""

import ctypes
import json
import os
import sys
import tempfile

import gguf
import llama_cpp
from llama_cpp import Llama

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
LLAMA_CPP_PYTHON = "0.3.36"

LONG_TEXT = " ".join(
    f"Paragraph {i}: The quick brown fox (no. {i * 37}) jumps over the lazy dog; it's 100% sure, isn't it? "
    f"Ünïcödé naïve café — 東京 {i}."
    for i in range(60)
)[:5000]

COMMON = [
    "",
    " ",
    "  ",
    "   ",
    "\t",
    "\n",
    "\n\n",
    "\n\n\n\n",
    " \n",
    "\r\n",
    "Hello",
    "Hello world",
    " Hello world",
    "Hello world ",
    "Hello  world",
    "Hello   world   ",
    "hello\tworld\n",
    "The quick brown fox jumps over the lazy dog.",
    "I'm they'll we've she'd it's don't YOU'RE I'M",
    "'s 't 're 've 'm 'll 'd",
    "1",
    "12",
    "123",
    "1234",
    "12345678901234567890",
    "3.14159 and 2,718 and -42 and 1e10",
    "Pi is 3.14159265358979323846264338327950288419716939937510",
    "!!!???...,,,;;;",
    "Hello, world! How are you? I'm fine... really!!!",
    "a+b=c; x<=y || z>=w && !q",
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "int main(void) {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}\n",
    "    indented four\n        indented eight",
    "https://example.com/path/to/page?query=1&other=two#frag",
    "user@example.com sent $100.00 (≈ €92) on 2024-01-15T10:30:00Z",
    "emoji 😀👍🏽🚀 and 👨‍👩‍👧‍👦 family",
    "🤖",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math 𝐀𝐁𝐂 and 𓀀 hieroglyph",
    "日本語のテキストです。東京タワー",
    "中文测试：你好，世界！",
    "한국어 텍스트 안녕하세요",
    "Ünïcödé façade naïve café résumé Ångström",
    "Ελληνικά και Русский текст",
    "العربية: مرحبا بالعالم",
    "עברית שלום",
    "हिन्दी नमस्ते दुनिया",
    "ไทย สวัสดีครับ",
    "mixed: English, 日本語, Русский, العربية, 😀 and 123",
    "\u00a0non-breaking\u00a0spaces\u2009thin\u3000ideographic",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "ﬁ ligature and Ⅻ roman and ½ fraction and ² superscript",
    "combining e\u0301 a\u0308 o\u0302",
    "<|im_start|>user\nhi<|im_end|>",
    "<start_of_turn>user\nhi<end_of_turn>",
    "<s>html</s> <table><tr><td>cell</td></tr></table>",
    "<bos>text<eos> <pad> <unk>",
    "<|endoftext|>",
    "a<|im_end|>b<end_of_turn>c",
    "tabs\t\t\tand  spaces   mixed \t \n end",
    "trailing newline\n",
    "\n\nleading newlines",
    "CamelCaseIdentifier snake_case_identifier kebab-case-id",
    "ALL CAPS SENTENCE WITH NUMBERS 2024",
    "repeated aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "_____---=====++++",
    "`code` **bold** _italic_ ~strike~ [link](url)",
    "{\"key\": [1, 2, {\"nested\": null}], \"b\": true}",
    "line1\nline2\r\nline3\rline4",
    LONG_TEXT,
]

SMOLLM_CHAT = [
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
    "<|im_start|>assistant\n",
    "<|im_start|><|im_end|><|endoftext|>",
    "text with <|im_start and im_end|> fragments",
]

GEMMA_CHAT = [
    "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n",
    "<bos><start_of_turn>user\nhi<end_of_turn>",
    "<start_of_turn><end_of_turn><eos>",
    "text with <start_of_turn fragments end_of_turn>",
    "<unused0><unused99> <mask> [multimodal]",
]


def hexbytes(data: bytes) -> str:
    return data.hex()


def piece(vocab, token: int, special: bool) -> bytes:
    buffer = ctypes.create_string_buffer(256)
    n = llama_cpp.llama_token_to_piece(vocab, token, buffer, len(buffer), 0, special)
    assert 0 <= n <= len(buffer), n
    return buffer.raw[:n]


def detokenize(vocab, tokens, unparse_special: bool) -> bytes:
    array = (llama_cpp.llama_token * max(1, len(tokens)))(*tokens)
    size = 64 + 64 * len(tokens)
    buffer = ctypes.create_string_buffer(size)
    n = llama_cpp.llama_detokenize(vocab, array, len(tokens), buffer, size, False, unparse_special)
    assert 0 <= n <= size, n
    return buffer.raw[:n]


def describe(llm: Llama, name: str, source: str, texts, with_pieces: bool) -> dict:
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    n_tokens = llama_cpp.llama_vocab_n_tokens(vocab)
    cases = []
    for text in texts:
        data = text.encode("utf-8")
        case = {"text": text}
        for add_special in (False, True):
            for parse_special in (False, True):
                ids = llm.tokenize(data, add_bos=add_special, special=parse_special)
                key = f"add{int(add_special)}_parse{int(parse_special)}"
                case[key] = ids
        plain = case["add0_parse1"]
        case["decoded"] = hexbytes(detokenize(vocab, plain, False))
        case["decoded_special"] = hexbytes(detokenize(vocab, plain, True))
        case["detokenize"] = hexbytes(llm.detokenize(case["add1_parse1"], special=True)) if len(
            case["add1_parse1"]) < 400 else None
        cases.append(case)

    special_ids = [i for i in range(n_tokens)
                   if llama_cpp.llama_vocab_get_attr(vocab, i) & (1 << 0 | 1 << 3 | 1 << 4)
                   and b"unused" not in llama_cpp.llama_vocab_get_text(vocab, i)]
    sampled = sorted(set(range(min(300, n_tokens))) | set(range(0, n_tokens, 251)) | set(special_ids)) \
        if with_pieces else []
    pieces = [{"id": i, "attr": int(llama_cpp.llama_vocab_get_attr(vocab, i)),
               "piece": hexbytes(piece(vocab, i, False)), "piece_special": hexbytes(piece(vocab, i, True))}
              for i in sampled]

    def nullable(value):
        return None if value < 0 else value

    return {
        "name": name,
        "source": source,
        "reference": f"llama-cpp-python=={LLAMA_CPP_PYTHON} (llama.cpp built from source)",
        "n_tokens": n_tokens,
        "bos": nullable(llama_cpp.llama_vocab_bos(vocab)),
        "eos": nullable(llama_cpp.llama_vocab_eos(vocab)),
        "eot": nullable(llama_cpp.llama_vocab_eot(vocab)),
        "add_bos": bool(llama_cpp.llama_vocab_get_add_bos(vocab)),
        "add_eos": bool(llama_cpp.llama_vocab_get_add_eos(vocab)),
        "eog": [i for i in range(n_tokens) if llama_cpp.llama_vocab_is_eog(vocab, i)],
        "cases": cases,
        "pieces": pieces,
    }


def variant(source_path: str, name: str, key: str, replacement, directory: str) -> str:
    """A model's metadata (no tensors) with one key replaced: llama.cpp loads it with vocab_only."""
    reader = gguf.GGUFReader(source_path)
    path = os.path.join(directory, f"{name}.gguf")
    writer = gguf.GGUFWriter(path, arch=str(reader.fields["general.architecture"].contents()))
    for field_key, field in reader.fields.items():
        if field_key.startswith("GGUF.") or field_key == "general.architecture":
            continue
        value = replacement if field_key == key else field.contents()
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field_key, value, value_type, sub_type=sub_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def write(document: dict) -> None:
    path = os.path.join(HERE, f"tokenizer-{document['name']}.json")
    with open(path, "w", encoding="utf-8") as out:
        json.dump(document, out, ensure_ascii=False, separators=(",", ":"))
        out.write("\n")
    cases = len(document["cases"])
    print(f"{path}: {cases} texts x 4 modes, {len(document['pieces'])} pieces")


def main() -> None:
    cache = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "PLEXUS_MODEL_CACHE", os.path.join(ROOT, ".cache", "models"))
    smollm = os.path.join(cache, "SmolLM2-135M-Instruct.Q4_1.gguf")
    gemma = os.path.join(cache, "gemma3-270m-Q4_K_M.gguf")
    for path in (smollm, gemma):
        if not os.path.exists(path):
            sys.exit(f"missing {path}: run scripts/fetch-models")

    models = [("smollm2", smollm, os.path.basename(smollm), COMMON + SMOLLM_CHAT, True),
              ("gemma3", gemma, os.path.basename(gemma), COMMON + GEMMA_CHAT, True)]
    with tempfile.TemporaryDirectory() as directory:
        for pre in ("gpt-2", "llama3", "qwen2", "default"):
            name = f"smollm2-pre-{pre}"
            models.append((name, variant(smollm, name, "tokenizer.ggml.pre", pre, directory),
                           f"{os.path.basename(smollm)} with tokenizer.ggml.pre = {pre}", COMMON + SMOLLM_CHAT, False))
        name = "gemma3-space-prefix"
        models.append((name, variant(gemma, name, "tokenizer.ggml.add_space_prefix", True, directory),
                       f"{os.path.basename(gemma)} with tokenizer.ggml.add_space_prefix = true",
                       COMMON + GEMMA_CHAT, False))
        for name, path, source, texts, with_pieces in models:
            llm = Llama(model_path=path, vocab_only=True, verbose=False)
            write(describe(llm, name, source, texts, with_pieces))
            del llm

if __name__ == "__main__":
    main()
