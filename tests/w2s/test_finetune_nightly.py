"""The optional full fine-tune of the MiniLM student on the real task (minutes on CPU: nightly)."""

import pytest

from w2s.scoring import score_method
from w2s.tasks import get_task


@pytest.mark.nightly
def test_full_finetune_student_scores_rt_polarity():
    task = get_task("rt-polarity:finetune")
    assert task.strong.kind == "transformer"
    view = score_method(task.name, "vanilla", 1).view()
    assert view["ceiling_acc"]["mean"] > view["weak_acc"]["mean"]
    assert view["pgr"]["mean"] is not None
