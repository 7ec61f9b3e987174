"""Auxiliary log-confidence loss (Burns et al. 2023), with a warm-up that ramps to the full weight.

``aux`` is the auxiliary loss's weight, ``warmup`` the fraction of training over which it ramps up.
"""

from w2s.losses import LogConf

AUX = 0.5
WARMUP = 0.2


def run(ctx, labels=None, aux=AUX, warmup=WARMUP):
    loss = LogConf(aux_coef=aux, warmup_frac=warmup)
    return ctx.train_student(targets=labels, loss=loss).predict_proba(ctx.targets)
