"""Ignore the teacher and the inputs: predict the same class for everything."""


def run(ctx):
    return [0.9] * len(ctx.targets)
