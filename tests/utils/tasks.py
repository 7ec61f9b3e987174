"""Factories for test tasks: copies of the offline tasks under fresh names (so their caches are cold)."""

import itertools

from w2s.tasks import TASKS, Task, register_task

_counter = itertools.count()


def fresh_task(base: str = "rt-polarity", **update) -> Task:
    """A registered copy of ``base`` with a unique name and the given field overrides."""
    name = f"test-{base}-{next(_counter)}"
    return register_task(TASKS[base].model_copy(update={"name": name, **update}))


SMALL_SIZES = {"train_label": 200, "train_unlabel": 400, "test_public": 100, "test_private": 100}
