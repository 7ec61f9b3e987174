import pytest

from services.scorer.integrity import changed_items, ladder, probing_match, round_to, teacher_independent


def test_ladder_moves_only_by_a_full_step_and_rounds():
    assert ladder(None, 0.6234, 0.01) == (0.62, True)
    assert ladder(0.62, 0.6251, 0.01) == (0.62, False)  # less than a step better: old score again
    assert ladder(0.62, 0.6312, 0.01) == (0.63, True)
    assert ladder(0.62, 0.40, 0.01) == (0.62, False)  # worse never lowers what was reported
    assert ladder(0.62, None, 0.01) == (0.62, False)


def test_round_to_step():
    assert round_to(0.12345, 0.05) == pytest.approx(0.10)
    assert round_to(None, 0.01) is None


def test_probing_match_finds_near_duplicates_only():
    base = {str(i): 0.9 if i % 2 else 0.1 for i in range(100)}
    one_flip = dict(base, **{"0": 0.9})
    assert changed_items(one_flip, base) == 1
    assert probing_match(one_flip, [("s1", base)], max_changed=5) == {"like": "s1", "changed_items": 1}
    assert probing_match(base, [("s1", base)], max_changed=5) is None  # identical: nothing learned
    far = {k: 1 - v for k, v in base.items()}
    assert probing_match(far, [("s1", base)], max_changed=5) is None


def test_teacher_independence():
    assert teacher_independent(0.50, 0.505, 0.01)
    assert not teacher_independent(0.73, 0.52, 0.01)
