#!/usr/bin/env python3
"""Independent numpy reference of the DDIM digit generator of Specs/image-plugin.md, and its golden cases.

    PYTHONPATH=.cache/pydeps python3 Tests/Plugins/image/reference_digits.py MODEL.gguf --out FILE
        writes the golden cases (format below) computed from the trained file
    PYTHONPATH=.cache/pydeps python3 Tests/Plugins/image/reference_digits.py --dump-noise SEED N
        prints the first N normals of the request noise stream of SEED (one per line, %.17g)

Needs numpy and gguf (PyPI). It shares no code with the C plugin; scripts/train_digits_ddim.py imports it (the
tensor shapes, metadata, schedule, time embedding, noise, sampler and file reader: one implementation of each) and
checks its own channels-last training forward against `eps_forward` here (--gradcheck).

What is computed, and in which precision (the spec's "network in float32, sampler in float64"):

- noise: splitmix64 (state = seed, uint64 wrap-around), Box-Muller in float64, both values of a pair used in
  order; the n_images initial images take consecutive H*W values of one stream, row-major.
- network: every tensor float32, x fed as float32. The time embedding is computed in float64
  (f_i = exp(-ln(10000) i / 16), sin(t f_i), cos(t f_i)) and rounded once to float32 (the spec does not say;
  float32 arguments of sin could be off by ~1e-4 at t ~ 1000). 3x3 convolutions are cross-correlations with
  zero padding = dilation, accumulated tap by tap in float32 (summation order differs from any C loop; the
  differences are ~1e-6, far below the tests' 1e-3).
- sampler: float64 (x, the guidance combination eps_none + g (eps_c - eps_none) of the float32 network
  outputs, x0, its clip to [-1, 1], the update). Timesteps t_i = (n - 1 - i) * (1000 // n), a_prev =
  alphas_cumprod[t - ratio] or alphas_cumprod[0] when t - ratio < 0 (diffusers' DDIMScheduler with leading
  spacing, steps_offset 0, set_alpha_to_one False, clip_sample True, eta 0). One network evaluation per step
  when the class is none (10) or g == 1, else two (class and none).
- pixels: round((clip(x, -1, 1) + 1) * 127.5) rounding half AWAY from zero, i.e. floor(v + 0.5) since v >= 0
  (numpy's round() rounds half to even; this file does not use it).

Golden file (little-endian): magic b"PXDG", u32 version = 1, u32 n_cases, then per case
    u64 seed, u32 class (0..9, 10 = none), u32 width, u32 height, u32 n_images, u32 n_steps, f32 guidance,
    f32 noise[n_images*height*width]    initial x of every image, row-major, image after image
    f32 first_eps[height*width]         the guided eps of image 0 at the first timestep (before any update)
    f32 final_x[n_images*height*width]  x after the last DDIM step, not clipped
    u8  pixels[n_images*height*width]   the gray value above of final_x (one channel)
"""

import argparse
import math
import struct
import sys

import numpy as np

ARCH = "px-digits-ddim"
C, B, N_CLASSES, NONE = 32, 4, 10, 10
DILATIONS = (1, 2, 1, 2)
TRAIN_T = 1000
BETA_START, BETA_END = 1e-4, 0.02
MASK64 = (1 << 64) - 1


def tensor_shapes(channels=C, blocks=B):
    """The numpy (row-major) shape of every tensor of the spec, by its name in the file."""
    s = {
        "time1.weight": (64, 32), "time1.bias": (64,),
        "time2.weight": (64, 64), "time2.bias": (64,),
        "class_embed.weight": (N_CLASSES + 1, 64),
        "conv_in.weight": (channels, 1, 3, 3), "conv_in.bias": (channels,),
        "conv_out.weight": (1, channels, 3, 3), "conv_out.bias": (1,),
    }
    for k in range(blocks):
        s[f"block.{k}.cond.weight"] = (channels, 64)
        s[f"block.{k}.cond.bias"] = (channels,)
        s[f"block.{k}.conv.weight"] = (channels, channels, 3, 3)
        s[f"block.{k}.conv.bias"] = (channels,)
    return s


# The metadata the spec fixes (key under the architecture prefix -> value).
METADATA = {
    "channels": C, "blocks": B, "classes": N_CLASSES, "train_timesteps": TRAIN_T,
    "beta_start": BETA_START, "beta_end": BETA_END, "default_steps": 25, "default_guidance": 3.0,
    "image_size": 8,
}


def load_model(path):
    """Reads the GGUF: checks the architecture, metadata and every tensor's shape; returns {name: float32 array}."""
    from gguf import GGUFReader, GGMLQuantizationType

    r = GGUFReader(path)

    def field(key):
        f = r.fields.get(key)
        if f is None:
            raise ValueError(f"{path}: missing metadata key {key}")
        return f.contents()

    arch = field("general.architecture")
    if arch != ARCH:
        raise ValueError(f"{path}: general.architecture is {arch!r}, expected {ARCH!r}")
    for key, want in METADATA.items():
        got = field(f"{ARCH}.{key}")
        ok = abs(got - want) <= 1e-6 * abs(want) if isinstance(want, float) else got == want
        if not ok:
            raise ValueError(f"{path}: {ARCH}.{key} = {got}, expected {want}")

    want = tensor_shapes()
    params = {}
    for t in r.tensors:
        if t.name not in want:
            raise ValueError(f"{path}: unexpected tensor {t.name}")
        if t.tensor_type != GGMLQuantizationType.F32:
            raise ValueError(f"{path}: tensor {t.name} is {t.tensor_type.name}, expected F32")
        # The reader reports GGUF's ne (fastest dimension first); the numpy shape is its reverse.
        shape = tuple(int(v) for v in reversed(t.shape.tolist()))
        if shape != want[t.name]:
            raise ValueError(f"{path}: tensor {t.name} has numpy shape {shape}, expected {want[t.name]}")
        params[t.name] = np.array(t.data, dtype=np.float32).reshape(shape)
    missing = sorted(set(want) - set(params))
    if missing:
        raise ValueError(f"{path}: missing tensors {', '.join(missing)}")
    return params


# ---------------------------------------------------------------- network (float32)

def silu(v):
    with np.errstate(over="ignore"):  # exp(-v) = inf for v < -88: v / inf = -0, the limit
        return v / (np.float32(1) + np.exp(-v))


def time_embedding(t):
    """[N] integer timesteps -> [N, 32] float32 (computed in float64, rounded once)."""
    f = np.exp(-math.log(10000.0) * np.arange(16, dtype=np.float64) / 16.0)
    arg = np.asarray(t, dtype=np.float64)[:, None] * f[None, :]
    return np.concatenate([np.sin(arg), np.cos(arg)], axis=1).astype(np.float32)


def conv3x3(x, w, b, d):
    """x [N, I, H, W], w [O, I, 3, 3], b [O]: cross-correlation, dilation d, zero padding d -> [N, O, H, W]."""
    n, i, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (d, d), (d, d)))
    out = np.zeros((n, w.shape[0], h * wd), dtype=np.float32)
    for ky in range(3):
        for kx in range(3):
            tap = xp[:, :, ky * d:ky * d + h, kx * d:kx * d + wd].reshape(n, i, h * wd)
            out += np.matmul(w[:, :, ky, kx], tap)
    return (out + b[None, :, None]).reshape(n, w.shape[0], h, wd)


def eps_forward(p, x, t, c):
    """The spec's network. x [N, H, W] (cast to float32), t [N] or a scalar timestep, c [N] or a scalar class
    (10 = none) -> eps [N, H, W] float32."""
    x = np.asarray(x, dtype=np.float32)
    n = x.shape[0]
    t = np.broadcast_to(np.asarray(t), (n,))
    c = np.broadcast_to(np.asarray(c, dtype=np.int64), (n,))
    temb = time_embedding(t)
    e = silu(temb @ p["time1.weight"].T + p["time1.bias"]) @ p["time2.weight"].T + p["time2.bias"]
    cond = silu(e + p["class_embed.weight"][c])                                        # [N, 64]
    h = conv3x3(x[:, None], p["conv_in.weight"], p["conv_in.bias"], 1)                # [N, C, H, W]
    for k, d in enumerate(DILATIONS):
        shift = cond @ p[f"block.{k}.cond.weight"].T + p[f"block.{k}.cond.bias"]      # [N, C]
        u = silu(h + shift[:, :, None, None])
        h = h + conv3x3(u, p[f"block.{k}.conv.weight"], p[f"block.{k}.conv.bias"], d)
    return conv3x3(silu(h), p["conv_out.weight"], p["conv_out.bias"], 1)[:, 0]


# ---------------------------------------------------------------- noise

class SplitMix64:
    def __init__(self, seed):
        self.state = int(seed) & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)


def normals(seed, count):
    """The first `count` normals of the stream of `seed` (float64)."""
    g = SplitMix64(seed)
    out = np.empty(count, dtype=np.float64)
    i = 0
    while i < count:
        u1 = ((g.next() >> 11) + 0.5) * 2.0 ** -53
        u2 = (g.next() >> 11) * 2.0 ** -53
        r = math.sqrt(-2.0 * math.log(u1))
        out[i] = r * math.cos(2.0 * math.pi * u2)
        if i + 1 < count:
            out[i + 1] = r * math.sin(2.0 * math.pi * u2)
        i += 2
    return out


def initial_noise(seed, n_images, height, width):
    return normals(seed, n_images * height * width).reshape(n_images, height, width)


# ---------------------------------------------------------------- sampler (float64)

def alphas_cumprod():
    betas = np.linspace(BETA_START, BETA_END, TRAIN_T, dtype=np.float64)
    return np.cumprod(1.0 - betas)


def timesteps(n_steps):
    ratio = TRAIN_T // n_steps
    return [(n_steps - 1 - i) * ratio for i in range(n_steps)], ratio


def guided_eps(p, x, t, cls, guidance):
    """x [N, H, W] float64, one class for all images -> float64 guided eps."""
    n = x.shape[0]
    if cls == NONE or guidance == 1.0:
        return eps_forward(p, x, t, np.full(n, cls)).astype(np.float64)
    both = eps_forward(p, np.concatenate([x, x]), t, np.concatenate([np.full(n, cls), np.full(n, NONE)]))
    eps_c, eps_none = both[:n].astype(np.float64), both[n:].astype(np.float64)
    return eps_none + guidance * (eps_c - eps_none)


def ddim(p, x, cls, n_steps, guidance, on_eps=None):
    """Runs the n_steps DDIM steps from x (float64 [N, H, W]); returns the final x (not clipped)."""
    ac = alphas_cumprod()
    ts, ratio = timesteps(n_steps)
    x = np.array(x, dtype=np.float64)
    for t in ts:
        eps = guided_eps(p, x, t, cls, guidance)
        if on_eps is not None:
            on_eps(t, eps)
        a = ac[t]
        a_prev = ac[t - ratio] if t - ratio >= 0 else ac[0]
        x0 = np.clip((x - math.sqrt(1.0 - a) * eps) / math.sqrt(a), -1.0, 1.0)
        x = math.sqrt(a_prev) * x0 + math.sqrt(1.0 - a_prev) * eps
    return x


def to_pixels(x):
    """Gray u8 of x: round half away from zero of (clip(x, -1, 1) + 1) * 127.5 (a value >= 0, so floor(v + .5))."""
    v = (np.clip(x, -1.0, 1.0) + 1.0) * 127.5
    return np.floor(v + 0.5).astype(np.uint8)


def sample(p, seed, cls, width, height, n_images, n_steps, guidance):
    """One request: returns (noise, first_eps of image 0, final_x, pixels)."""
    noise = initial_noise(seed, n_images, height, width)
    firsts = []
    final = ddim(p, noise, cls, n_steps, guidance, on_eps=lambda t, eps: firsts.append(eps[0].copy()))
    return noise, firsts[0], final, to_pixels(final)


# ---------------------------------------------------------------- golden cases

CASES = [  # seed, class, width, height, n_images, n_steps, guidance
    (1, 3, 8, 8, 2, 25, 3.0),
    (42, 7, 16, 16, 1, 25, 3.0),
    (7, NONE, 8, 8, 1, 10, 3.0),
    (9, 0, 16, 8, 1, 25, 1.0),
    (5, 5, 8, 8, 3, 1, 3.0),
    (123456789012345, 9, 8, 8, 1, 50, 4.0),  # 7.5 diverges on the trained model (x grows past 1e11): CFG this high is unstable here
]


def write_golden(p, out):
    with open(out, "wb") as f:
        f.write(b"PXDG" + struct.pack("<II", 1, len(CASES)))
        for seed, cls, w, h, n, steps, g in CASES:
            noise, first_eps, final, pixels = sample(p, seed, cls, w, h, n, steps, g)
            if not np.all(np.abs(final) < 1.5):  # a trained model's x stays in about [-1.05, 1.05]
                raise ValueError(f"case seed {seed} class {cls} {w}x{h}: the sample diverged (max |x| "
                                 f"{np.max(np.abs(final)):.3g}); a tolerance test on it would be meaningless")
            f.write(struct.pack("<QIIIIIf", seed, cls, w, h, n, steps, g))
            for a in (noise, first_eps, final):
                f.write(np.ascontiguousarray(a, dtype="<f4").tobytes())
            f.write(np.ascontiguousarray(pixels, dtype=np.uint8).tobytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", nargs="?", help="the trained GGUF")
    ap.add_argument("--out", help="golden file to write")
    ap.add_argument("--dump-noise", nargs=2, type=int, metavar=("SEED", "N"))
    a = ap.parse_args()
    if a.dump_noise:
        for v in normals(a.dump_noise[0], a.dump_noise[1]):
            print(f"{v:.17g}")
        return 0
    if not a.model or not a.out:
        ap.error("MODEL and --out are required (or --dump-noise SEED N)")
    write_golden(load_model(a.model), a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
