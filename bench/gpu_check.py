"""The body of ``bench/gpu_check.sh``: score a built-in method with the packaged MiniLM student fully
fine-tuned (``<task>:finetune``) on ``AAR_DEVICE`` (default ``cuda``) and print time and PGR.

Environment: ``AAR_GPU_CHECK_TASK`` (default ``rt-polarity:finetune``), ``AAR_GPU_CHECK_METHOD``
(``vanilla``), ``AAR_GPU_CHECK_SEEDS`` (5); for a quick check, ``AAR_GPU_CHECK_SIZES`` (four
comma-separated split sizes: train_label, train_unlabel, test_public, test_private) and
``AAR_GPU_CHECK_EPOCHS`` score a copy of the task shrunk to those sizes and epochs.
"""

from __future__ import annotations

import os
import sys
import time

from rich.console import Console


def check_task(name: str, sizes: str, epochs: str) -> str:
    """``name``, or a registered copy of it with the given split sizes and student epochs."""
    from w2s.splits import SPLIT_NAMES
    from w2s.tasks import get_task, register_task

    task = get_task(name)
    if not sizes and not epochs:
        return task.name
    update: dict = {"name": f"{task.name}:gpu-check"}
    if sizes:
        update["sizes"] = dict(zip(SPLIT_NAMES, (int(n) for n in sizes.split(",")), strict=True))
    if epochs:
        update["strong_train"] = task.strong_train.model_copy(update={"epochs": int(epochs)})
    return register_task(task.model_validate({**task.model_dump(), **update})).name


def main() -> int:
    os.environ.setdefault("AAR_DEVICE", "cuda")
    from aar.cli.common import quiet_libraries

    quiet_libraries()
    import torch

    from w2s.config import resolve_device
    from w2s.scoring import score_method

    console = Console(soft_wrap=True)
    device = resolve_device()
    if device == "cuda" and not torch.cuda.is_available():
        console.print("[bold red]error:[/] AAR_DEVICE=cuda but torch sees no GPU (set AAR_DEVICE=cpu to check on CPU)")
        return 2
    where = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    env = os.environ.get
    task = check_task(
        env("AAR_GPU_CHECK_TASK", "rt-polarity:finetune"),
        env("AAR_GPU_CHECK_SIZES", ""),
        env("AAR_GPU_CHECK_EPOCHS", ""),
    )
    method = env("AAR_GPU_CHECK_METHOD", "vanilla")
    seeds = int(env("AAR_GPU_CHECK_SEEDS", "5"))
    start = time.perf_counter()
    view = score_method(task, method, seeds, device=device).view()
    seconds = time.perf_counter() - start
    pgr = view["pgr"]
    ci = f" ± {pgr['ci95']:.3f}" if pgr["ci95"] is not None else ""
    console.print(f"task {task} · method {method} · {seeds} seeds · device {device} ({where})")
    console.print(f"time {seconds:.1f} s")
    console.print(
        f"weak acc {view['weak_acc']['mean']:.4f} · ceiling acc {view['ceiling_acc']['mean']:.4f} · "
        f"student acc {view['student_acc']['mean']:.4f}"
    )
    console.print(f"PGR {pgr['mean']:.3f}{ci}" if pgr["mean"] is not None else f"PGR undefined: {pgr['message']}")
    if device == "cuda" and torch.cuda.max_memory_allocated() == 0:
        console.print("[bold red]error:[/] nothing was allocated on the GPU: the student did not train there")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
