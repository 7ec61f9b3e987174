"""Train the student on the teacher's labels rounded to 0/1."""


def run(ctx):
    return ctx.train_student(loss="hard").predict_proba(ctx.targets)
