"""Train the student on the teacher's labels rounded to 0/1."""

import numpy as np

from w2s.methods.context import MethodContext


def run(ctx: MethodContext) -> np.ndarray:
    return ctx.train_student(loss="hard").predict_proba(ctx.targets)
