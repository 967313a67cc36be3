#!/usr/bin/env python3
"""Golden listings of GGUF files from an independent reader (the `gguf` PyPI package, GGUFReader).

For each model file, writes <file stem>.txt next to this script: header facts, every key-value pair and every tensor,
one per line. test_gguf_models.c renders the same text from Plugins/common/gguf.c and compares line by line, so the two
renderings below must stay identical:

  file_size N / version N / alignment N / data_offset N / kv_count N / tensor_count N
  kv KEY TYPE VALUE                       scalars: integers in decimal, FLOAT32 as %.9g, FLOAT64 as %.17g, BOOL 0/1
  kv KEY STRING len=N fnv=H "TEXT"        TEXT: the first 80 bytes, escaped
  kv KEY ARRAY[T] count=N fnv=H first=V last=V
  tensor NAME TYPE dims=ne0,ne1,.. offset=O nbytes=N head=H

Escaping: bytes 0x21..0x7e except backslash and double quote as themselves, every other byte as \\xNN. fnv: FNV-1a
64 in hex, over a string's bytes, over a numeric array's little-endian element bytes, over a string array's elements
each as u64 length + bytes, and (head) over the first 256 bytes of a tensor's data. Offsets are relative to the data
section, as in the file.

Usage: pip install gguf==0.17.1; python3 gguf_tensors.py [model.gguf ...]
(default: the two models scripts/fetch-models puts in $PLEXUS_MODEL_CACHE, default <repo>/.cache/models).
"""
import os
import sys
from importlib.metadata import version

from gguf import GGUFReader, GGUFValueType

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
MODELS = ["SmolLM2-135M-Instruct.Q4_1.gguf", "gemma3-270m-Q4_K_M.gguf"]
FLOAT32_FORMAT, FLOAT64_FORMAT = "%.9g", "%.17g"
TEXT_BYTES, HEAD_BYTES = 80, 256


def fnv(data: bytes, h: int = 0xCBF29CE484222325) -> int:
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def escape(data: bytes) -> str:
    return "".join(chr(b) if 0x21 <= b <= 0x7E and b not in (0x5C, 0x22) else "\\x%02x" % b for b in data)


def scalar(vtype: GGUFValueType, part) -> str:
    value = part.tolist()[0]
    if vtype == GGUFValueType.FLOAT32:
        return FLOAT32_FORMAT % value
    if vtype == GGUFValueType.FLOAT64:
        return FLOAT64_FORMAT % value
    return str(int(value))


def render_kv(field) -> str:
    vtype = field.types[0]
    key = escape(bytes(field.parts[1]))
    if vtype == GGUFValueType.STRING:
        data = bytes(field.parts[-1])
        return 'kv %s STRING len=%d fnv=%016x "%s"' % (key, len(data), fnv(data), escape(data[:TEXT_BYTES]))
    if vtype != GGUFValueType.ARRAY:
        return "kv %s %s %s" % (key, vtype.name, scalar(vtype, field.parts[-1]))
    count = int(field.parts[4][0])
    etype = GGUFValueType(int(field.parts[3][0]))
    elems = [field.parts[i] for i in field.data] if count else []
    line = "kv %s ARRAY[%s] count=%d" % (key, etype.name, count)
    if etype == GGUFValueType.STRING:
        h = 0xCBF29CE484222325
        for e in elems:
            data = bytes(e)
            h = fnv(len(data).to_bytes(8, "little") + data, h)
        shown = ['"%s"' % escape(bytes(e)[:TEXT_BYTES]) for e in elems[:1] + elems[-1:]]
    else:
        h = fnv(b"".join(e.astype(e.dtype.newbyteorder("<")).tobytes() for e in elems))
        shown = [scalar(etype, e) for e in elems[:1] + elems[-1:]]
    line += " fnv=%016x" % h
    if count:
        line += " first=%s last=%s" % (shown[0], shown[1])
    return line


def render(path: str) -> list:
    r = GGUFReader(path)
    lines = [
        "# gguf_tensors.py with gguf %s (GGUFReader) from %s" % (version("gguf"), os.path.basename(path)),
        "file_size %d" % os.path.getsize(path),
        "version %d" % int(r.fields["GGUF.version"].parts[0][0]),
        "alignment %d" % r.alignment,
        "data_offset %d" % r.data_offset,
    ]
    fields = [f for name, f in r.fields.items() if not name.startswith("GGUF.")]
    lines.append("kv_count %d" % len(fields))
    lines.append("tensor_count %d" % len(r.tensors))
    lines += [render_kv(f) for f in fields]
    for t in r.tensors:
        head = bytes(r.data[t.data_offset:t.data_offset + min(HEAD_BYTES, t.n_bytes)])
        lines.append("tensor %s %s dims=%s offset=%d nbytes=%d head=%016x" % (
            escape(t.name.encode("utf-8")), t.tensor_type.name, ",".join(str(int(d)) for d in t.shape),
            t.data_offset - r.data_offset, t.n_bytes, fnv(head)))
    return lines


def main() -> None:
    cache = os.environ.get("PLEXUS_MODEL_CACHE", os.path.join(REPO, ".cache", "models"))
    paths = sys.argv[1:] or [os.path.join(cache, m) for m in MODELS]
    for path in paths:
        out = os.path.join(HERE, os.path.splitext(os.path.basename(path))[0] + ".txt")
        with open(out, "w") as f:
            f.write("\n".join(render(path)) + "\n")
        print(out)


if __name__ == "__main__":
    main()
