"""Where one training step of the default FKD model spends its time on a GPU, outside Lightning.

    python benchmarks/train_step_time.py --data fkd/training.zip --out runs/step_time

For each batch size: milliseconds per step (synchronised) of augmentation alone and of the
whole step (augment, forward, loss, backward, AdamW), eager and compiled, with the batch already
on the GPU; the GPU's own busy time per step (profiler kernel time); and how many times one
eager step made the host wait for the GPU (CUDA sync debug mode). Compare with `gpu_throughput.py`, which times
the same step inside Lightning's loop with data loading.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from facepoints.data.fkd import read_fkd_training
from facepoints.training.config import recipe
from facepoints.training.fit import build_module


def ms_per_call(fn, repeats: int = 50, warm_up: int = 10) -> float:
    for _ in range(warm_up):
        fn()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    torch.cuda.synchronize()
    return round((time.perf_counter() - start) / repeats * 1000, 2)


def gpu_ms_per_call(fn, repeats: int = 10) -> float:
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(repeats):
            fn()
        torch.cuda.synchronize()
    return round(sum(e.self_device_time_total for e in prof.key_averages()) / repeats / 1000, 2)


def host_waits(fn) -> int:
    torch.cuda.set_sync_debug_mode("warn")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256])
    args = parser.parse_args()
    torch.backends.cudnn.benchmark = True
    ks = read_fkd_training(args.data)
    module = build_module(recipe("default"), ks).cuda().train()
    optimizer = torch.optim.AdamW([p for p in module.parameters() if p.requires_grad], lr=1e-4, fused=True)
    compiled_loss = torch.compile(module.augmented_loss, dynamic=False)
    results = []
    for batch_size in args.batch_sizes:
        batch = tuple(torch.from_numpy(a[:batch_size]).cuda() for a in (ks.images, ks.points, ks.mask))

        def augment():
            module.augmented(*batch)

        def step(loss_fn):
            def run():
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    loss = loss_fn(*batch)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            return run

        eager, compiled = step(module.augmented_loss), step(compiled_loss)
        results.append({
            "batch_size": batch_size,
            "augment_ms": ms_per_call(augment),
            "eager_step_ms": ms_per_call(eager),
            "compiled_step_ms": ms_per_call(compiled),
            "eager_step_gpu_busy_ms": gpu_ms_per_call(eager),
            "compiled_step_gpu_busy_ms": gpu_ms_per_call(compiled),
            "eager_step_host_waits": host_waits(eager),
        })
        print(json.dumps(results[-1]), flush=True)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "step_time.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
