"""Backbone throughput: ``aigoms`` at 720x1440 on CPU, and ``demo`` training steps per second.

Prints, for ``aigoms`` (batch 1, float32, no grad): parameter count, FLOPs
per step (``torch.utils.flop_counter``; the FFTs are not counted by it and
are listed separately as an estimate), CPU forward time per step, peak RSS,
the GEMM rate measured in the same run, achieved GFLOP/s as a share of it,
and the implied 30-day rollout time against the 15-minute goal. For
``demo``: training steps per second at the demo config's batch size.

    python benchmarks/backbone_throughput.py --threads 2            # everything
    python benchmarks/backbone_throughput.py --skip-aigoms          # demo only
    python benchmarks/backbone_throughput.py --device cuda --bf16 --train-step --compile   # GPU figures
    python benchmarks/backbone_throughput.py --preset demo --skip-demo  # another preset's forward
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time

import torch


def gemm_gflops(n: int = 2048, repeats: int = 5, device: str = "cpu", dtype=torch.float32) -> float:
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(2):
        a @ b
    _sync(device)
    t = time.perf_counter()
    for _ in range(repeats):
        a @ b
    _sync(device)
    return 2 * n**3 * repeats / (time.perf_counter() - t) / 1e9


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux


def fft_flops_estimate(model) -> float:
    """5 N log2 N real FLOPs per complex FFT, forward + inverse, over every AFNO mixer."""
    from backbone.layers import AFNOMixer

    h, w = model.config.token_grid
    total = 0.0
    for m in model.modules():
        if isinstance(m, AFNOMixer):
            hf = 2 * h if m.lat_padding else h
            n = hf * w
            width = m.num_blocks * m.block
            total += 2 * 2.5 * n * math.log2(n) * width  # real FFT ~ half a complex one
    return total


def bench_preset(name: str, device: str, bf16: bool, rollout_days: int, *, train_step: bool = False,
                 compile_: bool = False) -> dict:
    """Forward (and optionally training-step) figures of preset ``name`` at batch 1 on ``device``."""
    from torch.utils.flop_counter import FlopCounterMode

    from backbone.config import get_preset
    from backbone.model import FourierMAE

    cfg = get_preset(name)
    h, w = cfg.io.grid_shape
    with torch.device("meta"):
        meta_model = FourierMAE(cfg)
        s = torch.empty(1, cfg.io.state_channels, h, w)
        f = torch.empty(1, cfg.io.forcing_channels, h, w)
        counter = FlopCounterMode(display=False)
        with counter:
            meta_model(s, f)
    flops = counter.get_total_flops()
    fft = fft_flops_estimate(meta_model)
    params = meta_model.parameter_count()
    del meta_model
    cuda = device.startswith("cuda")
    model = FourierMAE(cfg).to(device).eval()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    weights_gib = sum(p.numel() * p.element_size() for p in model.parameters()) / 2**30
    state = torch.randn(1, cfg.io.state_channels, h, w, device=device)
    forcing = torch.randn(1, cfg.io.forcing_channels, h, w, device=device)
    out = {"preset": name, "grid": [h, w], "params": params, "weights_gib": weights_gib,
           "gflop_per_step_counted": flops / 1e9, "gflop_per_step_fft_estimate": fft / 1e9,
           "precision": "bf16-autocast" if bf16 else "fp32"}

    def autocast():
        return torch.autocast(device_type="cuda" if cuda else "cpu", dtype=torch.bfloat16) if bf16 else _null()

    def time_steps(step, label: str) -> None:
        with torch.no_grad(), autocast():
            t = time.perf_counter()
            x = step(state, forcing)  # first call: allocations, FFT plans (and compilation)
            _sync(device)
            out[f"{label}first_step_s"] = time.perf_counter() - t
            times = []
            for _ in range(2 if device == "cpu" else 5):
                t = time.perf_counter()
                x = step(x, forcing)
                _sync(device)
                times.append(time.perf_counter() - t)
            out[f"{label}step_s"] = min(times)
            if cuda and rollout_days:
                t = time.perf_counter()
                x = state
                for _ in range(rollout_days):
                    x = step(x, forcing)
                _sync(device)
                out[f"{label}rollout_{rollout_days}d_s"] = time.perf_counter() - t

    time_steps(model.step, "")
    if cuda:
        out["inference_peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    out["achieved_gflops"] = (flops + fft) / 1e9 / out["step_s"]
    out["rollout_30d_min_implied"] = 30 * out["step_s"] / 60
    if compile_:
        compiled = torch.compile(model)  # compiles ``forward`` (= ``step`` at inference)
        time_steps(compiled, "compiled_")
        with torch.no_grad(), autocast():  # the compiled model's output against eager's
            a, b = model(state, forcing).float(), compiled(state, forcing).float()
        out["compiled_rel_l2_vs_eager"] = float((a - b).norm() / b.norm())
    if train_step:
        out.update(_train_step(model, state, forcing, device, autocast))
    return out


def _train_step(model, state, forcing, device: str, autocast) -> dict:
    """Forward + backward + AdamW at batch 1: seconds per step and peak device memory."""
    from backbone.loss import relative_l2

    cuda = device.startswith("cuda")
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=cuda)
    target = state + 0.01 * torch.randn_like(state)
    weights = torch.ones(state.shape[1:], device=device)
    if cuda:
        torch.cuda.reset_peak_memory_stats()

    def one() -> None:
        opt.zero_grad(set_to_none=True)
        with autocast():
            pred = model(state, forcing)
        loss = relative_l2(pred.float(), target, weights, reference=state)
        loss.backward()
        opt.step()

    one()
    _sync(device)
    times = []
    for _ in range(2 if device == "cpu" else 5):
        t = time.perf_counter()
        one()
        _sync(device)
        times.append(time.perf_counter() - t)
    res = {"train_step_s": min(times)}
    if cuda:
        res["train_peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    model.eval()
    return res


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def bench_demo_training(steps: int, batch: int) -> dict:
    from backbone.config import get_preset
    from backbone.loss import relative_l2
    from backbone.model import FourierMAE

    cfg = get_preset("demo")
    model = FourierMAE(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    h, w = cfg.io.grid_shape
    state = torch.randn(batch, 2, 61, h, w)
    forcing = torch.randn(batch, 1, 5, h, w)
    weights = torch.ones(61, h, w)

    def one():
        opt.zero_grad()
        pred = model(state[:, 0], forcing[:, 0])
        loss = relative_l2(pred, state[:, 1], weights, reference=state[:, 0])
        loss.backward()
        opt.step()

    for _ in range(3):
        one()
    t = time.perf_counter()
    for _ in range(steps):
        one()
    dt = time.perf_counter() - t
    return {"params": model.parameter_count(), "batch": batch, "steps_per_s": steps / dt,
            "samples_per_s": steps * batch / dt}


def main() -> None:
    p = argparse.ArgumentParser(description="backbone throughput figures")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (GPU)")
    p.add_argument("--rollout-days", type=int, default=30, help="GPU: time a rollout of this many days")
    p.add_argument("--preset", default="aigoms", help="backbone preset for the forward figures (default aigoms)")
    p.add_argument("--train-step", action="store_true", help="also time forward + backward + AdamW at batch 1")
    p.add_argument("--compile", action="store_true", help="also time torch.compile of the model against eager")
    p.add_argument("--skip-aigoms", action="store_true", help="skip the --preset figures")
    p.add_argument("--skip-demo", action="store_true")
    p.add_argument("--demo-steps", type=int, default=20)
    p.add_argument("--demo-batch", type=int, default=8)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    res = {"threads": torch.get_num_threads(), "device": a.device, "torch": torch.__version__}
    res["gemm_gflops"] = gemm_gflops(device=a.device, dtype=torch.bfloat16 if a.bf16 else torch.float32)
    print(f"GEMM ({'bf16' if a.bf16 else 'fp32'}, 2048^3, {res['threads']} threads): {res['gemm_gflops']:.1f} GFLOP/s",
          flush=True)
    if not a.skip_demo:
        d = bench_demo_training(a.demo_steps, a.demo_batch)
        res["demo"] = d
        print(f"demo: {d['params']:,} parameters; training {d['steps_per_s']:.2f} steps/s at batch {d['batch']} "
              f"({d['samples_per_s']:.1f} samples/s, 1-step windows, fp32)", flush=True)
    if not a.skip_aigoms:
        g = bench_preset(a.preset, a.device, a.bf16, a.rollout_days, train_step=a.train_step, compile_=a.compile)
        g["share_of_gemm"] = g["achieved_gflops"] / res["gemm_gflops"]
        g["peak_rss_gib"] = peak_rss_gib()
        res[a.preset] = g
        name, (h, w) = a.preset, g["grid"]
        print(f"{name} {h}x{w}: {g['params']:,} parameters ({g['weights_gib']:.2f} GiB of fp32 weights); "
              f"{g['gflop_per_step_counted']:.0f} GFLOP/step counted "
              f"(+ ~{g['gflop_per_step_fft_estimate']:.0f} GFLOP of FFTs, estimated)")
        print(f"{name} forward (batch 1, no grad, {g['precision']}): {g['step_s']:.3f} s/step "
              f"(first call {g['first_step_s']:.2f} s); peak RSS {g['peak_rss_gib']:.2f} GiB"
              + (f"; peak device memory {g['inference_peak_gib']:.2f} GiB" if "inference_peak_gib" in g else ""))
        print(f"{name} achieved {g['achieved_gflops']:.1f} GFLOP/s = {g['share_of_gemm']:.2f} of the GEMM rate")
        print(f"{name} implied 30-day rollout: {g['rollout_30d_min_implied']:.2f} min")
        if f"rollout_{a.rollout_days}d_s" in g:
            print(f"{name} measured {a.rollout_days}-day rollout: {g[f'rollout_{a.rollout_days}d_s']:.2f} s")
        if "compiled_step_s" in g:
            print(f"{name} torch.compile: {g['compiled_step_s']:.3f} s/step vs eager {g['step_s']:.3f} "
                  f"(first call {g['compiled_first_step_s']:.1f} s, output rel. L2 vs eager "
                  f"{g['compiled_rel_l2_vs_eager']:.1e})"
                  + (f"; {a.rollout_days}-day rollout {g[f'compiled_rollout_{a.rollout_days}d_s']:.2f} s"
                     if f"compiled_rollout_{a.rollout_days}d_s" in g else ""))
        if "train_step_s" in g:
            print(f"{name} training step (forward + backward + AdamW, batch 1, {g['precision']}): "
                  f"{g['train_step_s']:.3f} s" + (f"; peak device memory {g['train_peak_gib']:.2f} GiB"
                                                   if "train_peak_gib" in g else ""))
    print(json.dumps(res, default=float))


if __name__ == "__main__":
    main()
