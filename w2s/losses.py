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


def _soft_or_hard(targets: torch.Tensor, hard: bool) -> torch.Tensor:
    return (targets > 0.5).float() if hard else targets


def _ramp(coef: float, step_frac: float, warmup_frac: float) -> float:
    """``coef`` reached linearly over the first ``warmup_frac`` of training."""
    return coef if warmup_frac <= 0 else coef * min(1.0, step_frac / warmup_frac)


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Per-item binary entropy (nats) of ``sigmoid(logits)``, differentiable."""
    p = torch.sigmoid(logits)
    return -(p * F.logsigmoid(logits) + (1 - p) * F.logsigmoid(-logits))


def kl_to_targets(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-item KL(targets || sigmoid(logits)): cross-entropy minus the targets' own entropy, zero at agreement."""
    xent = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return xent + torch.xlogy(targets, targets) + torch.xlogy(1 - targets, 1 - targets)


class GCE:
    """Generalized cross-entropy (Zhang & Sabuncu 2018): ``(1 - p_y**q) / q`` per class, weighted by the target.

    It tends to cross-entropy as ``q -> 0`` and is the mean absolute error ``|y - p|`` at ``q = 1``, which
    is robust to label noise but slow to fit. ``hard`` rounds the targets first.
    """

    def __init__(self, q: float = 0.7, hard: bool = False):
        self.q, self.hard = q, hard

    def per_item(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The loss of each item (``q = 0`` is cross-entropy exactly)."""
        y = _soft_or_hard(targets, self.hard)
        log_p1, log_p0 = F.logsigmoid(logits), F.logsigmoid(-logits)
        if self.q == 0:
            return -(y * log_p1 + (1 - y) * log_p0)
        return -(y * torch.expm1(self.q * log_p1) + (1 - y) * torch.expm1(self.q * log_p0)) / self.q

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor, step_frac: float) -> torch.Tensor:
        return self.per_item(logits, targets).mean()


class SCE:
    """Symmetric cross-entropy (Wang et al. 2019): ``alpha * CE + beta * RCE``.

    The reverse cross-entropy swaps prediction and target, ``-sum_k p_k log y_k``, with ``log 0`` clipped to
    ``log_floor`` (the paper's ``A = -4``); for a hard label it is ``-A * (1 - p_y)``, a bounded MAE-like term.
    """

    def __init__(self, alpha: float = 1.0, beta: float = 1.0, hard: bool = False, log_floor: float = -4.0):
        self.alpha, self.beta, self.hard, self.log_floor = alpha, beta, hard, log_floor

    def reverse(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Per-item reverse cross-entropy."""
        y = _soft_or_hard(targets, self.hard)
        p = torch.sigmoid(logits)
        return -(p * torch.log(y).clamp(min=self.log_floor) + (1 - p) * torch.log(1 - y).clamp(min=self.log_floor))

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor, step_frac: float) -> torch.Tensor:
        y = _soft_or_hard(targets, self.hard)
        xent = F.binary_cross_entropy_with_logits(logits, y)
        return self.alpha * xent + self.beta * self.reverse(logits, targets).mean()


class EntropyMin:
    """Cross-entropy to temperature-sharpened teacher targets plus the student's own entropy (entropy
    minimisation, Grandvalet & Bengio 2005).

    Targets become ``sigmoid(logit(t) / temperature)`` (``temperature < 1`` sharpens, 1 keeps them); the
    entropy term's weight ramps linearly to ``coef`` over ``warmup_frac`` of training. Unlike ``LogConf`` it
    never turns the student's predictions into targets: it lowers the entropy of every prediction directly.
    """

    def __init__(self, coef: float = 0.5, temperature: float = 1.0, warmup_frac: float = 0.2):
        self.coef, self.temperature, self.warmup_frac = coef, temperature, warmup_frac

    def sharpen(self, targets: torch.Tensor) -> torch.Tensor:
        """The targets at the loss's temperature (their sides unchanged)."""
        t = targets.clamp(1e-6, 1 - 1e-6)
        return torch.sigmoid(torch.logit(t) / self.temperature)

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor, step_frac: float) -> torch.Tensor:
        xent = F.binary_cross_entropy_with_logits(logits, self.sharpen(targets))
        return xent + _ramp(self.coef, step_frac, self.warmup_frac) * entropy(logits).mean()


class SmallLoss:
    """Small-loss selection (the sample selection of co-teaching, Han et al. 2018, with one student).

    In each minibatch only the ``1 - rate`` fraction of items with the smallest loss train the student, where
    ``rate`` ramps linearly from 0 to ``forget_rate`` over ``warmup_frac`` of training (the paper's schedule:
    networks fit clean labels before noisy ones). The loss ranked is the KL divergence to the soft target, so
    an item's rank measures disagreement with its label, not the label's own uncertainty.
    """

    def __init__(self, forget_rate: float = 0.2, warmup_frac: float = 0.5):
        self.forget_rate, self.warmup_frac = forget_rate, warmup_frac

    def keep_mask(self, logits: torch.Tensor, targets: torch.Tensor, step_frac: float) -> torch.Tensor:
        """True for the items of this minibatch that train the student."""
        rate = _ramp(self.forget_rate, step_frac, self.warmup_frac)
        n = len(logits)
        keep = max(1, round((1 - rate) * n))
        order = torch.argsort(kl_to_targets(logits.detach(), targets), stable=True)
        mask = torch.zeros(n, dtype=torch.bool, device=logits.device)
        mask[order[:keep]] = True
        return mask

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor, step_frac: float) -> torch.Tensor:
        mask = self.keep_mask(logits, targets, step_frac)
        return F.binary_cross_entropy_with_logits(logits[mask], targets[mask])


LOSSES: dict[str, type[Loss]] = {"xent": SoftXent, "hard": HardXent, "logconf": LogConf}


def get_loss(loss: str | Loss) -> Loss:
    """A loss instance from a name in ``LOSSES`` or a ready-made callable."""
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; known: {', '.join(LOSSES)}")
        return LOSSES[loss]()
    return loss
