#!/usr/bin/env python3
"""Cross-checks the reference's DDIM sampler (reference_digits.ddim) against diffusers' DDIMScheduler.

    PYTHONPATH=.cache/pydeps:DIR python3 Tests/Plugins/image/check_ddim_diffusers.py MODEL.gguf
    (DIR holds torch and diffusers: pip install --target DIR torch diffusers; torch's CPU wheel is large, so this
    is run by hand, not by CI; the result is recorded in Specs/image-plugin.md "Measured")

For every golden case: the same initial noise, and at every timestep the same guided eps (the reference's numpy
network at the timestep diffusers asks for), but the timesteps and the update are diffusers' own
(DDIMScheduler(beta_schedule="linear", clip_sample=True, set_alpha_to_one=False, timestep_spacing="leading"),
step(eta=0) on float64 tensors). Prints the largest |x - x_ref| of each case; exits 1 above 1e-4, or when the
timesteps differ. (diffusers builds its betas and alphas_cumprod in float32, the reference in float64: the two
agree to a few 1e-6, which is that rounding, not a different update.)
"""
import os
import sys

import numpy as np
import torch
from diffusers import DDIMScheduler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_digits as ref  # noqa: E402


def main():
    p = ref.load_model(sys.argv[1])
    worst_all = 0.0
    for seed, cls, width, height, n_images, n_steps, guidance in ref.CASES:
        noise = ref.initial_noise(seed, n_images, height, width)
        expected = ref.ddim(p, noise, cls, n_steps, guidance)
        scheduler = DDIMScheduler(num_train_timesteps=ref.TRAIN_T, beta_start=1e-4, beta_end=0.02, beta_schedule="linear",
                                  clip_sample=True, clip_sample_range=1.0, set_alpha_to_one=False, steps_offset=0,
                                  timestep_spacing="leading", prediction_type="epsilon")
        scheduler.set_timesteps(n_steps)
        ours, _ = ref.timesteps(n_steps)
        if [int(t) for t in scheduler.timesteps] != [int(t) for t in ours]:
            print(f"seed {seed}: timesteps differ: diffusers {list(scheduler.timesteps)[:5]}..., reference {list(ours)[:5]}...")
            return 1
        x = torch.from_numpy(np.array(noise, dtype=np.float64))
        for t in scheduler.timesteps:
            eps = ref.guided_eps(p, x.numpy(), int(t), cls, guidance)
            x = scheduler.step(torch.from_numpy(np.asarray(eps, dtype=np.float64)), t, x, eta=0.0).prev_sample
        worst = float(np.max(np.abs(x.numpy() - expected)))
        worst_all = max(worst_all, worst)
        print(f"seed {seed} class {cls} {width}x{height} x{n_images}, {n_steps} steps, guidance {guidance}: max |x - x_ref| {worst:.3e}")
    print(f"worst {worst_all:.3e}")
    return 0 if worst_all <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
