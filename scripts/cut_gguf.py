#!/usr/bin/env python3
"""Cut a GGUF model down to a small but otherwise faithful fixture, for GPU kernel tests.

    PYTHONPATH=.cache/pydeps python3 scripts/cut_gguf.py IN.gguf OUT.gguf --layers 2 --vocab 4096

What the output keeps and what it changes:
  - every metadata key, copied with its original type (strings as raw bytes, so nothing is re-encoded);
  - `<arch>.block_count` = L, and `<arch>.vocab_size` = V where the file has that key;
  - tokenizer.ggml.tokens / scores / token_type: the first V entries;
  - tokenizer.ggml.merges (BPE files): only the merges whose two parts and whose result are all among the first V
    tokens, in their original order (a merge that would produce a missing token is dropped, not kept dangling);
  - tensors blk.0 .. blk.L-1: byte for byte, original quantized types (no requantization);
  - token_embd.weight and output.weight (if present): the first V rows, byte for byte (a quantized row is a whole
    number of blocks, so row truncation never splits a block);
  - every other tensor not in a dropped block (output_norm, rope_freqs, ...): copied as is.
Special token ids (bos/eos/...) at or past V are reported: the fixture is then unusable for text, only for kernels.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np
import gguf
from gguf import GGUFReader, GGUFValueType, GGUFWriter

VOCAB_ARRAYS = ("tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type")
ROW_CUT_TENSORS = ("token_embd.weight", "output.weight")
BLOCK = re.compile(r"^blk\.(\d+)\.")


def field_value(field: gguf.ReaderField):
    """The field's value as GGUFWriter.add_key_value takes it; strings stay raw bytes."""
    kind = field.types[0]
    if kind == GGUFValueType.STRING:
        return bytes(field.parts[field.data[0]])
    if kind == GGUFValueType.ARRAY:
        sub = field.types[-1]
        if sub == GGUFValueType.STRING:
            return [bytes(field.parts[i]) for i in field.data]
        if sub == GGUFValueType.ARRAY:
            raise ValueError(f"{field.name}: nested arrays are not supported")
        return [field.parts[i][0] for i in field.data]
    return field.parts[field.data[0]][0]


def cut_merges(merges: list[bytes], vocab: set[bytes]) -> list[bytes]:
    """Keep the merges whose parts and result are all in the cut vocabulary."""
    kept = []
    for merge in merges:
        left, sep, right = merge.partition(b" ")
        if sep and left in vocab and right in vocab and left + right in vocab:
            kept.append(merge)
    return kept


def copy_metadata(reader: GGUFReader, writer: GGUFWriter, arch: str, layers: int, vocab: int) -> None:
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    vocab_set = set(field_value(tokens)[:vocab]) if tokens is not None else set()
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue  # written by GGUFWriter itself
        if name == "general.alignment":
            writer.add_custom_alignment(int(field_value(field)))
            continue
        kind = field.types[0]
        sub = field.types[-1] if kind == GGUFValueType.ARRAY else None
        value = field_value(field)
        if name == f"{arch}.block_count":
            value = layers
        elif name == f"{arch}.vocab_size":
            value = vocab
        elif name in VOCAB_ARRAYS:
            value = value[:vocab]
        elif name == "tokenizer.ggml.merges":
            before = len(value)
            value = cut_merges(value, vocab_set)
            print(f"  merges: kept {len(value)} of {before} (parts and result within the first {vocab} tokens)")
            if not value:
                continue
        elif name.startswith("tokenizer.ggml.") and name.endswith("_token_id") and int(value) >= vocab:
            print(f"  warning: {name} = {value} is past the cut vocabulary ({vocab})")
        writer.add_key_value(name, value, kind, sub_type=sub)


def copy_tensors(reader: GGUFReader, writer: GGUFWriter, layers: int, vocab: int) -> None:
    for tensor in reader.tensors:
        block = BLOCK.match(tensor.name)
        if block and int(block.group(1)) >= layers:
            continue
        data = tensor.data  # quantized: uint8 [rows, row_bytes]; float: [rows, cols] in numpy order
        if tensor.name in ROW_CUT_TENSORS:
            if data.shape[0] < vocab:
                raise ValueError(f"{tensor.name} has {data.shape[0]} rows, fewer than --vocab {vocab}")
            data = data[:vocab]
        writer.add_tensor(tensor.name, np.ascontiguousarray(data), raw_dtype=tensor.tensor_type)


def cut(src: Path, dst: Path, layers: int, vocab: int) -> None:
    reader = GGUFReader(src)
    arch = bytes(reader.fields["general.architecture"].parts[-1]).decode()
    total = int(field_value(reader.fields[f"{arch}.block_count"]))
    if not 0 < layers <= total:
        raise ValueError(f"--layers {layers}: the model has {total} blocks")
    dst.parent.mkdir(parents=True, exist_ok=True)
    writer = GGUFWriter(dst, arch)
    copy_metadata(reader, writer, arch, layers, vocab)
    copy_tensors(reader, writer, layers, vocab)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def verify(src: Path, dst: Path, layers: int, vocab: int) -> None:
    """Re-read both files: every kept tensor has its type, its shape (rows cut for the embedding) and its bytes."""
    a, b = GGUFReader(src), GGUFReader(dst)
    arch = bytes(b.fields["general.architecture"].parts[-1]).decode()
    assert int(field_value(b.fields[f"{arch}.block_count"])) == layers
    assert len(b.fields["tokenizer.ggml.tokens"].data) == vocab
    originals = {t.name: t for t in a.tensors}
    for t in b.tensors:
        o = originals[t.name]
        assert t.tensor_type == o.tensor_type, t.name
        want = o.data[:vocab] if t.name in ROW_CUT_TENSORS else o.data
        shape = list(o.shape)
        if t.name in ROW_CUT_TENSORS:
            shape[-1] = vocab
        assert list(t.shape) == shape, (t.name, list(t.shape), shape)
        assert np.array_equal(np.asarray(t.data).view(np.uint8), np.ascontiguousarray(want).view(np.uint8)), t.name
    names = {t.name for t in b.tensors}
    missing = [n for n in originals if n not in names and not ((m := BLOCK.match(n)) and int(m.group(1)) >= layers)]
    assert not missing, missing
    types = sorted({t.tensor_type.name for t in b.tensors})
    print(f"  verified: {len(b.tensors)} tensors ({', '.join(types)}), {len(b.fields)} fields, "
          f"{dst.stat().st_size / 2**20:.2f} MiB (from {src.stat().st_size / 2**20:.1f} MiB)")
    for name in ROW_CUT_TENSORS:
        if name in names:
            t = next(t for t in b.tensors if t.name == name)
            print(f"  {name}: {t.tensor_type.name} {[int(d) for d in t.shape]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", type=Path, metavar="IN")
    parser.add_argument("dst", type=Path, metavar="OUT")
    parser.add_argument("--layers", type=int, required=True, help="blocks to keep (blk.0 .. blk.L-1)")
    parser.add_argument("--vocab", type=int, required=True, help="tokens / embedding rows to keep")
    parser.add_argument("--no-verify", action="store_true", help="skip re-reading and comparing the output")
    args = parser.parse_args()
    print(f"{args.src} -> {args.dst} (layers {args.layers}, vocab {args.vocab})")
    cut(args.src, args.dst, args.layers, args.vocab)
    if not args.no_verify:
        verify(args.src, args.dst, args.layers, args.vocab)
    return 0


if __name__ == "__main__":
    sys.exit(main())
