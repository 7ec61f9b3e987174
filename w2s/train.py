"""The training loop, separate from model construction: minibatches, a pluggable loss, step fractions."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch

from w2s.config import limit_threads
from w2s.losses import Loss
from w2s.tasks import TrainConfig


class AdamW:
    """AdamW with decoupled weight decay: the arithmetic of ``torch.optim.AdamW`` on CPU (its single-tensor
    path), op for op, so results are bitwise the same (``tests/w2s/test_train.py``), without ``torch.optim``.
    Its first ``zero_grad`` imports ``torch._dynamo`` (about 1.8 s in every fresh process), and each of its
    steps passes through profiler, hook and dispatch wrappers that cost more than updating a linear head."""

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float,
        weight_decay: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        self.params = list(params)
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self.exp_avg = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.steps = [0] * len(self.params)  # per parameter, counted when it has a gradient

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        beta1, beta2 = self.betas
        for i, (param, exp_avg, exp_avg_sq) in enumerate(zip(self.params, self.exp_avg, self.exp_avg_sq, strict=True)):
            grad = param.grad
            if grad is None:
                continue
            self.steps[i] += 1
            step = float(self.steps[i])
            step_size = self.lr / (1 - beta1**step)
            bias_correction2_sqrt = (1 - beta2**step) ** 0.5
            if self.weight_decay != 0:
                param.mul_(1 - self.lr * self.weight_decay)
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(self.eps)
            param.addcdiv_(exp_avg, denom, value=-step_size)


def train_loop(
    params: list[torch.nn.Parameter],
    batch_logits: Callable[[np.ndarray], torch.Tensor],
    targets: np.ndarray,
    loss: Loss,
    config: TrainConfig,
    seed: int,
    device: str,
    sample_weight: np.ndarray | None = None,
) -> list[float]:
    """Minimise ``loss`` over ``len(targets)`` items; ``batch_logits(index)`` gives logits for a minibatch.

    Each epoch visits ``len(targets)`` items in minibatches: a random permutation, or with ``sample_weight``
    that many items drawn with replacement in proportion to their weight (the loss itself is not rescaled).
    ``loss`` also gets the training progress in [0, 1). Returns the per-epoch mean loss.
    """
    limit_threads()
    n = len(targets)
    rng = np.random.default_rng(seed)
    target_t = torch.as_tensor(targets, dtype=torch.float32, device=device)
    p = None if sample_weight is None else sample_weight / sample_weight.sum()
    optimizer = AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = max(1, -(-n // config.batch_size))
    total = steps_per_epoch * config.epochs
    history: list[float] = []
    step = 0
    for _ in range(config.epochs):
        order = rng.permutation(n) if p is None else rng.choice(n, size=n, replace=True, p=p)
        losses = []
        for start in range(0, n, config.batch_size):
            index = order[start : start + config.batch_size]
            value = loss(batch_logits(index), target_t[index], step / total)
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
            losses.append(float(value.detach()))
            step += 1
        history.append(float(np.mean(losses)))
    return history
