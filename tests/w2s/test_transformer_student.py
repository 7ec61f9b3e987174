"""The transformers student path, on tiny random models built here (no hub, no GPU)."""

import numpy as np
import pytest
import torch

from tests.utils.tasks import SMALL_SIZES, fresh_task
from tests.utils.tiny_models import tiny_model
from w2s.datasets import load_dataset
from w2s.models import TransformerClassifier
from w2s.scoring import score_method
from w2s.splits import Inputs
from w2s.tasks import ModelSpec, TrainConfig

TRAIN = TrainConfig(epochs=1, batch_size=32, lr=1e-3, max_length=48)


@pytest.fixture(scope="module")
def texts():
    return [e.text for e in load_dataset("rt-polarity").examples]


@pytest.mark.parametrize("causal,lora", [(False, False), (True, False), (True, True)])
def test_transformer_student_scores_end_to_end(tmp_path, texts, causal, lora):
    path = tiny_model(tmp_path / "student", texts, causal=causal)
    task = fresh_task(
        sizes=SMALL_SIZES,
        strong=ModelSpec(kind="transformer", path=str(path), lora=lora),
        strong_train=TRAIN,
    )
    report = score_method(task.name, "vanilla", 1, device="cpu")
    public = report.splits["test_public"]
    assert 0.0 <= public.student_acc.mean <= 1.0
    assert public.ceiling_acc.per_seed[0] is not None
    assert report.method == "vanilla"


def test_training_moves_the_transformer_towards_its_targets(tmp_path, texts):
    path = tiny_model(tmp_path / "m", texts)
    model = TransformerClassifier(
        ModelSpec(kind="transformer", path=str(path)),
        TrainConfig(epochs=20, batch_size=8, lr=3e-3, max_length=16),
        seed=0,
    )
    inputs = Inputs(tuple(str(i) for i in range(32)), tuple(texts[:32]))
    targets = np.array([1.0, 0.0] * 16)
    before = model.predict_proba(inputs)
    model.fit(inputs, targets)
    after = model.predict_proba(inputs)
    assert np.allclose(before, 0.5)  # zero-initialised head
    assert np.mean((after > 0.5) == (targets > 0.5)) > 0.8
    assert model.history[-1] < model.history[0]
    assert model.embed(inputs.take([0, 1])).shape == (2, 32)


def test_lora_trains_only_adapters_and_head(tmp_path, texts):
    path = tiny_model(tmp_path / "lora", texts, causal=True)
    model = TransformerClassifier(ModelSpec(kind="transformer", path=str(path), lora=True), TRAIN, seed=0)
    trainable = [n for n, p in model.body.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_transformer_student_on_cuda(tmp_path, texts):
    path = tiny_model(tmp_path / "cuda", texts, causal=True)
    task = fresh_task(
        sizes=SMALL_SIZES, strong=ModelSpec(kind="transformer", path=str(path), lora=True), strong_train=TRAIN
    )
    report = score_method(task.name, "vanilla", 1, device="cuda")
    assert report.splits["test_public"].student_acc.mean is not None
