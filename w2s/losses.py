"""Transfer losses. Each takes logits (one per item, for class 1), soft targets in [0, 1] and the
fraction of training done, and returns a scalar; hyper-parameters go in the constructor."""

from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F


class Loss(Protocol):
    def __call__(self, logits: torch.Tensor, targets: torch.Tensor, step_frac: float) -> torch.Tensor: ...


class SoftXent:
    """Cross-entropy against the soft targets (naive W2S)."""

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor, step_frac: float) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(logits, targets)


class HardXent:
    """Cross-entropy against the targets rounded to 0/1."""

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor, step_frac: float) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(logits, (targets > 0.5).float())


class LogConf:
    """Auxiliary log-confidence loss (Burns et al. 2023).

    The target mixes the weak label with the student's own hardened prediction:
    ``(1 - a) * weak + a * hard(student)``, where ``a = aux_coef * min(1, step_frac / warmup_frac)``.
    The ramp reaches ``aux_coef`` exactly at the end of warm-up (the reference code ramped to
    ``warmup_frac * aux_coef`` and then jumped). The student's predictions are hardened at the batch
    quantile that matches the weak labels' positive rate, so the aux term does not collapse to one class.
    """

    def __init__(self, aux_coef: float = 0.5, warmup_frac: float = 0.2):
        self.aux_coef = aux_coef
        self.warmup_frac = warmup_frac

    def coef(self, step_frac: float) -> float:
        if self.warmup_frac <= 0:
            return self.aux_coef
        return self.aux_coef * min(1.0, step_frac / self.warmup_frac)

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor, step_frac: float) -> torch.Tensor:
        coef = self.coef(step_frac)
        probs = torch.sigmoid(logits).detach()
        positive_rate = targets.mean().clamp(0.0, 1.0)
        threshold = torch.quantile(probs, 1.0 - positive_rate)
        strong = (probs >= threshold).float()
        return F.binary_cross_entropy_with_logits(logits, (1 - coef) * targets + coef * strong)


LOSSES: dict[str, type[Loss]] = {"xent": SoftXent, "hard": HardXent, "logconf": LogConf}


def get_loss(loss: str | Loss) -> Loss:
    """A loss instance from a name in ``LOSSES`` or a ready-made callable."""
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; known: {', '.join(LOSSES)}")
        return LOSSES[loss]()
    return loss
