"""Auxiliary log-confidence loss (Burns et al. 2023), with a warm-up that ramps to the full weight."""

from w2s.losses import LogConf


def run(ctx):
    return ctx.train_student(loss=LogConf(aux_coef=0.5, warmup_frac=0.2)).predict_proba(ctx.targets)
