import json

import pytest

from w2s.datasets import load_dataset, load_jsonl, text_id
from w2s.errors import W2SError
from w2s.splits import SPLIT_NAMES, make_splits
from w2s.tasks import TASKS, get_task


@pytest.mark.parametrize("name", ["rt-polarity", "tweet-sentiment"])
def test_builtin_datasets_are_balanced_deduplicated_and_hash_identified(name):
    data = load_dataset(name)
    labels = [e.label for e in data.examples]
    assert labels.count(0) == labels.count(1) > 3000
    assert len({e.text.lower() for e in data.examples}) == len(data)
    assert all(e.id == text_id(e.text) for e in data.examples[:100])


@pytest.mark.parametrize("name", ["rt-polarity", "tweet-sentiment"])
def test_no_item_appears_in_two_splits(name):
    splits = TASKS[name].splits
    assert tuple(splits) == SPLIT_NAMES
    seen: set[str] = set()
    for name_, split in splits.items():
        ids = {e.id for e in split.examples}
        assert len(ids) == len(split) == TASKS[name].sizes[name_]
        assert not ids & seen
        seen |= ids
        assert sum(split.labels) * 2 == len(split)


def test_splits_reject_odd_or_oversized_requests():
    data = load_dataset("rt-polarity")
    with pytest.raises(W2SError, match="even"):
        make_splits(data, {"a": 3})
    with pytest.raises(W2SError, match="the splits need"):
        make_splits(data, {"a": 2 * len(data)})


def test_jsonl_loader_reads_the_published_binary_formats(tmp_path):
    rows = [{"prompt": f"Which reply is better? {i}", "answer": "A" if i % 2 else "B"} for i in range(10)]
    rows += [{"question": f"Is 2+{i} even?", "label": i % 2 == 0} for i in range(10)]
    rows += [{"text": f"def f(): return {i}", "label": "True" if i % 3 else "False"} for i in range(9)]
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    data = load_jsonl(tmp_path)
    assert sum(e.label for e in data.examples) * 2 == len(data) > 0
    task = get_task(f"jsonl:{tmp_path}")
    assert task.strong.kind == "transformer" and task.strong.lora


def test_jsonl_loader_names_the_bad_line(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"text": "ok", "label": "A"}\n{"text": "x", "label": "maybe"}\n')
    with pytest.raises(W2SError, match=r"bad.jsonl:2: .*unreadable label 'maybe'"):
        load_jsonl(tmp_path)
