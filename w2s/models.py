"""Classifiers the engine trains: a logistic teacher and a linear head on frozen embeddings (CPU),
and a transformers model with a classification head, fine-tuned in full or with LoRA (GPU or CPU).

Every classifier has ``fit(inputs, targets, loss, sample_weight)`` and ``predict_proba(inputs)``;
``targets`` are probabilities of class 1 (hard labels are 0/1).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol, Self

import numpy as np
import torch

from w2s.config import limit_threads
from w2s.embeddings import FeatureTable
from w2s.losses import Loss, get_loss
from w2s.splits import Inputs
from w2s.tasks import ModelSpec, TrainConfig
from w2s.train import train_loop


class Classifier(Protocol):
    def fit(
        self, inputs: Inputs, targets: np.ndarray, loss: str | Loss = "xent", sample_weight: np.ndarray | None = None
    ) -> Classifier: ...

    def predict_proba(self, inputs: Inputs) -> np.ndarray: ...


def _seed_everything(seed: int) -> torch.Generator:
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


class LogRegClassifier:
    """Logistic regression on frozen embeddings; soft targets are rounded (the teacher sees hard labels)."""

    def __init__(self, features: FeatureTable, config: TrainConfig, seed: int):
        from sklearn.linear_model import LogisticRegression

        self.features = features
        self.model = LogisticRegression(C=config.logreg_c, max_iter=2000, random_state=seed)

    def fit(
        self, inputs: Inputs, targets: np.ndarray, loss: str | Loss = "xent", sample_weight: np.ndarray | None = None
    ) -> Self:
        limit_threads()
        self.model.fit(self.features.rows(inputs), (np.asarray(targets) > 0.5).astype(int), sample_weight=sample_weight)
        return self

    def predict_proba(self, inputs: Inputs) -> np.ndarray:
        probs: np.ndarray = self.model.predict_proba(self.features.rows(inputs))[:, 1]
        return probs


class HeadClassifier:
    """A zero-initialised linear head on frozen embeddings, trained with a transfer loss."""

    def __init__(self, features: FeatureTable, config: TrainConfig, seed: int, device: str = "cpu"):
        self.features, self.config, self.seed, self.device = features, config, seed, device
        _seed_everything(seed)
        self.head = torch.nn.Linear(features.dim, 1).to(device)
        torch.nn.init.zeros_(self.head.weight)
        torch.nn.init.zeros_(self.head.bias)
        self.history: list[float] = []

    def fit(
        self, inputs: Inputs, targets: np.ndarray, loss: str | Loss = "xent", sample_weight: np.ndarray | None = None
    ) -> Self:
        x = torch.as_tensor(self.features.rows(inputs), device=self.device)
        self.history = train_loop(
            list(self.head.parameters()),
            lambda index: self.head(x[index]).squeeze(-1),
            np.asarray(targets, dtype=np.float32),
            get_loss(loss),
            self.config,
            self.seed,
            self.device,
            sample_weight,
        )
        return self

    @torch.no_grad()
    def predict_proba(self, inputs: Inputs) -> np.ndarray:
        x = torch.as_tensor(self.features.rows(inputs), device=self.device)
        return torch.sigmoid(self.head(x).squeeze(-1)).cpu().numpy().astype(np.float64)


class TransformerClassifier:
    """A transformers model from a local folder with a zero-initialised linear head.

    Encoders are mean-pooled; decoder (causal LM) models are read at the last non-pad token, as in
    weak-to-strong. With ``lora=True`` only LoRA adapters and the head train (needs ``peft``).
    """

    def __init__(self, spec: ModelSpec, config: TrainConfig, seed: int, device: str = "cpu"):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        self.config, self.seed, self.device = config, seed, device
        _seed_everything(seed)
        path = spec.path
        if path is None:
            raise ValueError("a transformer model needs a local path")
        hf_config = AutoConfig.from_pretrained(path, local_files_only=True)
        self.last_token = any(a.endswith("ForCausalLM") for a in (hf_config.architectures or []))
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        body = AutoModel.from_pretrained(path, local_files_only=True, dtype=dtype)
        if spec.lora:
            from peft import LoraConfig, get_peft_model

            body = get_peft_model(body, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear"))
        self.body = body.to(device)
        self.head = torch.nn.Linear(hf_config.hidden_size, 1, dtype=torch.float32).to(device)
        torch.nn.init.zeros_(self.head.weight)
        torch.nn.init.zeros_(self.head.bias)
        self.history: list[float] = []

    def _pooled(self, texts: list[str]) -> torch.Tensor:
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.config.max_length, return_tensors="pt"
        ).to(self.device)
        hidden: torch.Tensor = self.body(**batch).last_hidden_state.float()
        mask = batch["attention_mask"]
        if self.last_token:
            last = mask.sum(dim=1) - 1
            pooled = hidden[torch.arange(hidden.shape[0], device=self.device), last]
        else:
            m = mask.unsqueeze(-1).float()
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        return pooled

    def _logits(self, texts: list[str]) -> torch.Tensor:
        logits: torch.Tensor = self.head(self._pooled(texts)).squeeze(-1)
        return logits

    def fit(
        self, inputs: Inputs, targets: np.ndarray, loss: str | Loss = "xent", sample_weight: np.ndarray | None = None
    ) -> Self:
        self.body.train()
        params = [p for p in self.body.parameters() if p.requires_grad] + list(self.head.parameters())
        self.history = train_loop(
            params,
            lambda index: self._logits([inputs.texts[i] for i in index]),
            np.asarray(targets, dtype=np.float32),
            get_loss(loss),
            self.config,
            self.seed,
            self.device,
            sample_weight,
        )
        return self

    @torch.no_grad()
    def _batched(self, inputs: Inputs, fn: Callable[[list[str]], torch.Tensor]) -> np.ndarray:
        self.body.eval()
        step = max(1, self.config.batch_size * 2)
        out = [fn(list(inputs.texts[start : start + step])).float().cpu() for start in range(0, len(inputs), step)]
        return torch.cat(out).numpy().astype(np.float64)

    def predict_proba(self, inputs: Inputs) -> np.ndarray:
        return self._batched(inputs, lambda texts: torch.sigmoid(self._logits(texts)))

    def embed(self, inputs: Inputs) -> np.ndarray:
        """The pooled hidden states of ``inputs`` (the student's own representation)."""
        return self._batched(inputs, self._pooled)


def build_classifier(
    spec: ModelSpec, config: TrainConfig, seed: int, device: str, features: FeatureTable | None
) -> Classifier:
    """Construct an untrained classifier for ``spec``; embedding models need their ``features``."""
    if spec.kind == "transformer":
        return TransformerClassifier(spec, config, seed, device)
    if features is None:
        raise ValueError(f"model kind {spec.kind!r} needs embedding features")
    if spec.kind == "logreg":
        return LogRegClassifier(features, config, seed)
    return HeadClassifier(features, config, seed, device)
