"""The training loop, separate from model construction: minibatches, a pluggable loss, step fractions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from w2s.losses import Loss
from w2s.tasks import TrainConfig


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
    n = len(targets)
    rng = np.random.default_rng(seed)
    target_t = torch.as_tensor(targets, dtype=torch.float32, device=device)
    p = None if sample_weight is None else sample_weight / sample_weight.sum()
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
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
            optimizer.zero_grad(set_to_none=True)
            value.backward()
            optimizer.step()
            losses.append(float(value.detach()))
            step += 1
        history.append(float(np.mean(losses)))
    return history
