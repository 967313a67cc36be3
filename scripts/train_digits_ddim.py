#!/usr/bin/env python3
"""Trains the DDIM digit generator of Specs/image-plugin.md with numpy only, writes it as GGUF, and checks it.

    PYTHONPATH=.cache/pydeps python3 scripts/train_digits_ddim.py [--out .cache/models/digits-ddim.gguf]
    PYTHONPATH=.cache/pydeps python3 scripts/train_digits_ddim.py --gradcheck

Needs numpy, scikit-learn (the 1,797 8x8 digits ship inside it) and gguf (PyPI). Deterministic for a given
numpy/BLAS build (seed --seed); the defaults take about 3 minutes on 2 cores.

Training: the network of the spec (C = 32, B = 4, dilations 1, 2, 1, 2, time MLP, 11-entry class embedding), eps
prediction, DDPM linear betas 1e-4..0.02 over 1000 steps, the class replaced by 10 (none) with probability 0.1.
Each iteration takes one batch of 8x8 digits and one of the same digits upsampled to 16x16 (bilinear 2x, half-pixel
centres as torch's interpolate(align_corners=False)); the loss is the sum of the two batches' mean squared eps
errors. The forward and backward passes are written here by hand (3x3 dilated convolutions as im2col + matmul,
channels-last); --gradcheck compares them with central finite differences in float64. Adam at a constant learning
rate after a short warmup (--lr-floor < 1 gives a cosine decay); the written weights are an exponential moving
average of the iterates. Measured: a decayed learning rate lowers the loss but the guided samples get worse (the
classifier's accuracy at guidance 3 peaked mid-run and fell to ~0.6-0.8 as the rate decayed; constant: ~0.9).

Wide noise (--wide): 10% of the training samples get their noise scaled by U(1, 2.5), the target being that same
scaled noise, i.e. still eps = (x_t - sqrt(a) x0) / sqrt(1 - a). Without it, 1-3% of DDIM samples diverged (x grew
by ~1.2x a step from t ~ 900 to 1e14 or inf/NaN): at high t x_next is about eps(x_t), and the network, which has no
skip from x to eps, extrapolated eps(x) with a gain above 1 for |x| above the ~4 it sees in N(0, 1). With it, 0 of
660 samples (8x8, 16x16, 24x24, every class and none) diverged, and the accuracy did not drop. The loss, the
schedule and the network are those of the spec.

The check at the end samples with the independent numpy reference (Tests/Plugins/image/reference_digits.py, read
back from the written file): --per-class images of every class at 8x8 (and 16x16, downsampled 2x by averaging),
25 DDIM steps, guidance 3, classified by a logistic regression fitted on the real 8x8 digits (scaled to [-1, 1]).
It exits 1 when the 8x8 accuracy is under --min-accuracy (0.6; the defaults measured 0.83-0.93, chance is 0.1).
"""

import argparse
import math
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Plugins", "image"))
import reference_digits as ref  # noqa: E402  (sampler, noise, reading the file: one implementation)

DILATIONS = ref.DILATIONS
NONE = ref.NONE


# ---------------------------------------------------------------- data

def upsample2x(img):
    """[N, H, W] -> [N, 2H, 2W], bilinear with half-pixel centres (torch interpolate, align_corners=False)."""
    n, h, w = img.shape

    def axis(size):
        src = np.clip((np.arange(2 * size) + 0.5) / 2.0 - 0.5, 0.0, size - 1)
        i0 = np.floor(src).astype(int)
        i1 = np.minimum(i0 + 1, size - 1)
        return i0, i1, src - i0

    y0, y1, fy = axis(h)
    x0, x1, fx = axis(w)
    rows = img[:, y0, :] * (1 - fy)[None, :, None] + img[:, y1, :] * fy[None, :, None]
    return rows[:, :, x0] * (1 - fx)[None, None, :] + rows[:, :, x1] * fx[None, None, :]


def load_data():
    from sklearn.datasets import load_digits
    d = load_digits()
    x8 = d.images.astype(np.float64) / 8.0 - 1.0
    x16 = upsample2x(d.images.astype(np.float64)) / 8.0 - 1.0
    return x8.astype(np.float32), x16.astype(np.float32), d.target.astype(np.int64)


# ---------------------------------------------------------------- parameters

def init_params(rng, dtype=np.float32):
    shapes = ref.tensor_shapes()
    p = {}
    for name, shape in shapes.items():
        if name.endswith(".bias"):
            p[name] = np.zeros(shape)
        elif name == "class_embed.weight":
            p[name] = rng.normal(0.0, 1.0, shape)
        else:
            fan_in = int(np.prod(shape[1:]))
            p[name] = rng.normal(0.0, 1.0, shape) * math.sqrt(1.0 / fan_in)
    for k in range(ref.B):  # residual branches start small so that the stack starts near identity
        p[f"block.{k}.conv.weight"] *= 0.3
    return {k: v.astype(dtype) for k, v in p.items()}


# ---------------------------------------------------------------- training forward / backward (channels-last)

def sigmoid(v):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-v))


def conv_mat(w):
    """[O, I, 3, 3] -> [(ky, kx, i), O]."""
    o, i = w.shape[:2]
    return w.transpose(2, 3, 1, 0).reshape(9 * i, o)


_BUFFERS = {}


def _buffer(key, shape, dtype):
    """A buffer kept between iterations (fresh large arrays cost page faults): im2col buffers keep their zero
    borders, since a given key always writes the same interior."""
    b = _BUFFERS.get(key)
    if b is None or b.shape != shape or b.dtype != dtype:
        b = _BUFFERS[key] = np.zeros(shape, dtype=dtype)
    return b


def _tap(k, d, size):
    """Tap k (0..2) at dilation d along an axis of `size`: (output slice, input slice) of the valid positions."""
    s = (k - 1) * d
    lo, hi = max(0, -s), min(size, size - s)
    return slice(lo, hi), slice(lo + s, hi + s)


def im2col(x, d, key):
    """x [N, H, W, I] -> [N*H*W, 9*I], taps in (ky, kx) order, zero padding d (the zeros are never written)."""
    n, h, w, i = x.shape
    cols = _buffer(key, (n, h, w, 9, i), x.dtype)
    for ky in range(3):
        oy, iy = _tap(ky, d, h)
        for kx in range(3):
            ox, ix = _tap(kx, d, w)
            cols[:, oy, ox, 3 * ky + kx, :] = x[:, iy, ix, :]
    return cols.reshape(n * h * w, 9 * i)


def col2im(dcols, shape, d):
    """The adjoint of im2col."""
    n, h, w, i = shape
    dcols = dcols.reshape(n, h, w, 9, i)
    dx = dcols[:, :, :, 4, :].copy()
    for ky in range(3):
        oy, iy = _tap(ky, d, h)
        for kx in range(3):
            if ky != 1 or kx != 1:
                ox, ix = _tap(kx, d, w)
                dx[:, iy, ix, :] += dcols[:, oy, ox, 3 * ky + kx, :]
    return dx


def conv_fwd(x, w, b, d, key):
    n, h, wd, _ = x.shape
    cols = im2col(x, d, key)
    out = cols @ conv_mat(w) + b
    return out.reshape(n, h, wd, w.shape[0]), cols


def conv_bwd(dout, cols, x_shape, w, d, key, need_dx=True):
    o = w.shape[0]
    g = dout.reshape(-1, o)
    dw = (cols.T @ g).reshape(3, 3, w.shape[1], o).transpose(3, 2, 0, 1)
    db = g.sum(axis=0)
    if not need_dx:
        return None, dw, db
    dcols = _buffer(key + ".d", cols.shape, cols.dtype)
    np.matmul(g, conv_mat(w).T, out=dcols)
    return col2im(dcols, x_shape, d), dw, db


def loss_and_grads(p, x0, t, c, noise, a_cum):
    """One batch: x0 [N, H, W] clean images, t [N] timesteps, c [N] classes, noise [N, H, W] the eps target.
    Returns (mse, {name: gradient})."""
    dt = p["conv_in.weight"].dtype
    n, hh, ww = x0.shape
    sa = np.sqrt(a_cum[t]).astype(dt)[:, None, None]
    sb = np.sqrt(1.0 - a_cum[t]).astype(dt)[:, None, None]
    xt = sa * x0 + sb * noise

    # forward
    temb = ref.time_embedding(t).astype(dt)
    a1 = temb @ p["time1.weight"].T + p["time1.bias"]
    s1 = a1 * sigmoid(a1)
    e = s1 @ p["time2.weight"].T + p["time2.bias"]
    a2 = e + p["class_embed.weight"][c]
    sg2 = sigmoid(a2)
    cond = a2 * sg2
    x_in = xt[..., None]
    key = f"{n}x{hh}x{ww}"
    h, cols_in = conv_fwd(x_in, p["conv_in.weight"], p["conv_in.bias"], 1, key + ".in")
    cache = []
    for k, d in enumerate(DILATIONS):
        shift = cond @ p[f"block.{k}.cond.weight"].T + p[f"block.{k}.cond.bias"]
        v = h + shift[:, None, None, :]
        sv = sigmoid(v)
        u = v * sv
        r, cols = conv_fwd(u, p[f"block.{k}.conv.weight"], p[f"block.{k}.conv.bias"], d, f"{key}.{k}")
        cache.append((v, sv, u.shape, cols))
        h = h + r
    sh = sigmoid(h)
    z = h * sh
    out, cols_out = conv_fwd(z, p["conv_out.weight"], p["conv_out.bias"], 1, key + ".out")
    diff = out[..., 0] - noise
    loss = float(np.mean(diff.astype(np.float64) ** 2))

    # backward
    g = {}
    dout = (2.0 / diff.size * diff)[..., None].astype(dt)
    dz, g["conv_out.weight"], g["conv_out.bias"] = conv_bwd(dout, cols_out, z.shape, p["conv_out.weight"], 1,
                                                                key + ".out")
    dh = dz * (sh * (1.0 + h * (1.0 - sh)))
    dcond = np.zeros_like(cond)
    for k in reversed(range(len(DILATIONS))):
        d = DILATIONS[k]
        v, sv, ushape, cols = cache[k]
        du, g[f"block.{k}.conv.weight"], g[f"block.{k}.conv.bias"] = conv_bwd(
            dh, cols, ushape, p[f"block.{k}.conv.weight"], d, f"{key}.{k}")
        dv = du * (sv * (1.0 + v * (1.0 - sv)))
        dshift = dv.sum(axis=(1, 2))                       # [N, C]
        g[f"block.{k}.cond.weight"] = dshift.T @ cond
        g[f"block.{k}.cond.bias"] = dshift.sum(axis=0)
        dcond += dshift @ p[f"block.{k}.cond.weight"]
        dh = dh + dv                                       # residual path + the branch's input
    _, g["conv_in.weight"], g["conv_in.bias"] = conv_bwd(dh, cols_in, x_in.shape, p["conv_in.weight"], 1, key + ".in",
                                                     need_dx=False)
    da2 = dcond * (sg2 * (1.0 + a2 * (1.0 - sg2)))
    g["class_embed.weight"] = np.zeros_like(p["class_embed.weight"])
    np.add.at(g["class_embed.weight"], c, da2)
    g["time2.weight"] = da2.T @ s1
    g["time2.bias"] = da2.sum(axis=0)
    ds1 = da2 @ p["time2.weight"]
    sg1 = sigmoid(a1)
    da1 = ds1 * (sg1 * (1.0 + a1 * (1.0 - sg1)))
    g["time1.weight"] = da1.T @ temb
    g["time1.bias"] = da1.sum(axis=0)
    return loss, out[..., 0], g


# ---------------------------------------------------------------- gradient check

def gradcheck():
    rng = np.random.default_rng(0)
    p = init_params(rng, np.float64)
    for k in p:  # non-zero biases and a stronger residual branch so that every path is exercised
        p[k] = p[k] + rng.normal(0.0, 0.1, p[k].shape)
    a_cum = ref.alphas_cumprod()
    worst = 0.0
    for hh, ww in ((8, 8), (16, 8)):
        n = 3
        x0 = rng.uniform(-1, 1, (n, hh, ww))
        noise = rng.normal(size=(n, hh, ww))
        t = np.array([0, 417, 999])
        c = np.array([3, NONE, 3])
        _, out, g = loss_and_grads(p, x0, t, c, noise, a_cum)
        # the training forward must agree with the reference's
        xt = np.sqrt(a_cum[t])[:, None, None] * x0 + np.sqrt(1 - a_cum[t])[:, None, None] * noise
        ref_out = ref.eps_forward({k: v.astype(np.float32) for k, v in p.items()}, xt, t, c)
        fwd_err = float(np.max(np.abs(ref_out - out)))
        print(f"[{hh}x{ww}] forward vs reference: max |diff| {fwd_err:.2e} (float32 reference)")
        if fwd_err > 1e-4:
            print("FAIL: the training forward disagrees with the reference")
            return 1
        eps = 1e-6
        for name in sorted(p):
            flat = p[name].reshape(-1)
            idx = rng.choice(flat.size, size=min(6, flat.size), replace=False)
            if name == "class_embed.weight":   # rows 3 and 10 are the ones used
                idx = np.array([3 * 64 + 5, 10 * 64 + 17, 3 * 64 + 63])
            for i in idx:
                old = flat[i]
                flat[i] = old + eps
                lp = loss_and_grads(p, x0, t, c, noise, a_cum)[0]
                flat[i] = old - eps
                lm = loss_and_grads(p, x0, t, c, noise, a_cum)[0]
                flat[i] = old
                num = (lp - lm) / (2 * eps)
                ana = g[name].reshape(-1)[i]
                rel = abs(num - ana) / max(1e-8, abs(num) + abs(ana))
                worst = max(worst, rel)
                if rel > 1e-5:
                    print(f"  {name}[{i}]: analytic {ana:.9g} numeric {num:.9g} rel {rel:.2e}")
        print(f"[{hh}x{ww}] gradients checked")
    print(f"gradcheck: worst relative error {worst:.2e} ({'ok' if worst <= 1e-5 else 'FAIL'})")
    return 0 if worst <= 1e-5 else 1


# ---------------------------------------------------------------- training

def train(args):
    rng = np.random.default_rng(args.seed)
    x8, x16, labels = load_data()
    a_cum = ref.alphas_cumprod()
    p = init_params(rng)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    s = {k: np.zeros_like(v) for k, v in p.items()}
    ema = {k: v.copy() for k, v in p.items()}
    b1, b2 = 0.9, 0.999
    n_data = len(labels)
    t0 = time.time()
    avg = None
    for it in range(1, args.iters + 1):
        lr = args.lr * (args.lr_floor + (1 - args.lr_floor) * 0.5 * (1 + math.cos(math.pi * (it - 1) / args.iters)))
        if it <= args.warmup:
            lr *= it / args.warmup
        total = {}
        losses = []
        for data, bs in ((x8, args.batch8), (x16, args.batch16)):
            if bs == 0:
                losses.append(0.0)
                continue
            idx = rng.integers(0, n_data, bs)
            t = rng.integers(0, ref.TRAIN_T, bs)
            c = np.where(rng.random(bs) < args.drop, NONE, labels[idx])
            noise = rng.standard_normal((bs,) + data.shape[1:]).astype(np.float32)
            if args.wide > 0:  # a few samples with wider noise: eps(x) must stay ~x for |x| beyond N(0, 1)
                scale = np.where(rng.random(bs) < args.wide, rng.uniform(1.0, args.wide_max, bs), 1.0)
                noise *= scale.astype(np.float32)[:, None, None]
            loss, _, g = loss_and_grads(p, data[idx], t, c, noise, a_cum)
            losses.append(loss)
            for k, v in g.items():
                total[k] = total[k] + v if k in total else v
        bc1, bc2 = 1 - b1 ** it, 1 - b2 ** it
        for k in p:
            gk = total[k].astype(np.float32)
            m[k] = b1 * m[k] + (1 - b1) * gk
            s[k] = b2 * s[k] + (1 - b2) * gk * gk
            p[k] -= (lr * (m[k] / bc1) / (np.sqrt(s[k] / bc2) + 1e-8)).astype(np.float32)
            decay = min(args.ema, (1 + it) / (10 + it))
            ema[k] = decay * ema[k] + (1 - decay) * p[k]
        cur = np.array(losses)
        avg = cur if avg is None else 0.98 * avg + 0.02 * cur
        if args.probe_every and it % args.probe_every == 0:
            acc = quick_accuracy(ema, args, x8, labels)
            print(f"iter {it:5d} probe 8x8 accuracy {acc:.3f}", flush=True)
        if it % args.log_every == 0 or it == args.iters:
            el = time.time() - t0
            print(f"iter {it:5d}/{args.iters}  loss8 {avg[0]:.4f}  loss16 {avg[1]:.4f}  lr {lr:.2e}  "
                  f"{el:6.1f}s (eta {el / it * (args.iters - it):5.0f}s)", flush=True)
    return ema, avg, time.time() - t0


_CLF = []


def classifier(x8, labels):
    if not _CLF:
        from sklearn.linear_model import LogisticRegression
        _CLF.append(LogisticRegression(max_iter=2000).fit(x8.reshape(len(x8), -1), labels))
    return _CLF[0]


def quick_accuracy(p, args, x8, labels, per_class=10):
    clf = classifier(x8, labels)
    ok = 0
    for cls in range(10):
        x = ref.ddim(p, ref.initial_noise(777 + cls, per_class, 8, 8), cls, args.steps, args.guidance)
        ok += int(np.sum(clf.predict(np.clip(x, -1, 1).reshape(per_class, -1)) == cls))
    return ok / (10 * per_class)


def write_gguf(p, path):
    import gguf
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    w = gguf.GGUFWriter(tmp, ref.ARCH)
    w.add_name("digits-ddim")
    for key, val in ref.METADATA.items():
        if isinstance(val, float):
            w.add_float32(f"{ref.ARCH}.{key}", val)
        else:
            w.add_uint32(f"{ref.ARCH}.{key}", val)
    for name in ref.tensor_shapes():
        w.add_tensor(name, np.ascontiguousarray(p[name], dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, path)


def evaluate(p, per_class, steps, guidance, x8, labels):
    from sklearn.linear_model import LogisticRegression
    clf = LogisticRegression(max_iter=2000)
    clf.fit(x8.reshape(len(x8), -1), labels)
    results = {}
    for size in (8, 16):
        correct = np.zeros(10, dtype=int)
        for cls in range(10):
            seed = 1000 * size + cls
            x = ref.initial_noise(seed, per_class, size, size)
            x = ref.ddim(p, x, cls, steps, guidance)
            img = np.clip(x, -1.0, 1.0)
            if size == 16:
                img = img.reshape(per_class, 8, 2, 8, 2).mean(axis=(2, 4))
            pred = clf.predict(img.reshape(per_class, -1))
            correct[cls] = int(np.sum(pred == cls))
        acc = correct / per_class
        overall = correct.sum() / (10 * per_class)
        results[size] = (acc, overall)
        print(f"{size}x{size} samples ({per_class} per class, {steps} DDIM steps, guidance {guidance}):")
        print("  class    " + " ".join(f"{c:5d}" for c in range(10)) + "   overall")
        print("  accuracy " + " ".join(f"{a:5.2f}" for a in acc) + f"   {overall:.3f}")
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, ".cache", "models", "digits-ddim.gguf"))
    ap.add_argument("--gradcheck", action="store_true", help="check the backward pass and exit")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--iters", type=int, default=3000)
    ap.add_argument("--batch8", type=int, default=64)
    ap.add_argument("--batch16", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1.2e-2)
    ap.add_argument("--lr-floor", type=float, default=1.0, help="the cosine decay's end, a fraction of --lr")
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--wide", type=float, default=0.1,
                    help="fraction of samples whose noise is scaled by U(1, --wide-max) (0: none); see the docstring")
    ap.add_argument("--wide-max", type=float, default=2.5)
    ap.add_argument("--drop", type=float, default=0.1, help="class dropout probability")
    ap.add_argument("--ema", type=float, default=0.998)
    ap.add_argument("--per-class", type=int, default=20)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--guidance", type=float, default=3.0)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--probe-every", type=int, default=0)
    ap.add_argument("--eval-only", action="store_true", help="evaluate the existing --out file")
    # The classifier's accuracy on 20 samples a class moves by about +-8% between runs of one setting (measured
    # 0.83-0.93 with the defaults, Specs/image-plugin.md "Measured"); chance is 0.10. The gate sits well under
    # the measured range so that CI does not flake, and well over chance so that a model that does not draw the
    # digit it is asked for fails.
    ap.add_argument("--min-accuracy", type=float, default=0.6, help="fail when the 8x8 accuracy is under this")
    args = ap.parse_args()
    if args.gradcheck:
        return gradcheck()

    x8, _, labels = load_data()
    if not args.eval_only:
        p, avg, secs = train(args)
        write_gguf(p, args.out)
        print(f"trained {args.iters} iterations in {secs:.0f}s (final smoothed loss 8x8 {avg[0]:.4f}, "
              f"16x16 {avg[1]:.4f}); wrote {args.out}")
    p = ref.load_model(args.out)  # evaluate what the file holds
    t0 = time.time()
    res = evaluate(p, args.per_class, args.steps, args.guidance, x8, labels)
    print(f"evaluation {time.time() - t0:.0f}s")
    if res[8][1] < args.min_accuracy:
        print(f"FAIL: 8x8 accuracy {res[8][1]:.3f} is under {args.min_accuracy:.2f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
