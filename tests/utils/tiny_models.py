"""Tiny, randomly initialised transformers models with a word-level tokenizer, built without a hub."""

from pathlib import Path

import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
from transformers import BertConfig, BertModel, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _tokenizer(texts: list[str], path: Path) -> PreTrainedTokenizerFast:
    words = sorted({w for t in texts for w in t.lower().split()})[:3000]
    vocab = {tok: i for i, tok in enumerate(SPECIAL + words)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    fast.save_pretrained(path)
    return fast


def tiny_model(path: Path, texts: list[str], causal: bool = False) -> Path:
    """Save a 2-layer, 32-wide random model (BERT encoder, or a Llama causal LM) and its tokenizer. Its
    weights are seeded, so a test does not depend on what earlier tests drew from torch's generator."""
    path.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    tokenizer = _tokenizer(texts, path)
    size = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    if causal:
        config = LlamaConfig(
            vocab_size=len(tokenizer),
            pad_token_id=tokenizer.pad_token_id,
            max_position_embeddings=256,
            num_key_value_heads=2,
            **size,
        )
        model = LlamaForCausalLM(config)
    else:
        config = BertConfig(
            vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, max_position_embeddings=256, **size
        )
        model = BertModel(config)
    model.save_pretrained(path)
    return path
