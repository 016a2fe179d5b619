"""Length-sorted dynamic batching for scoring many short texts on CPU.

Reddit comments are short and very uneven in length; padding every batch to a fixed maximum length spends
most of the compute on pad tokens. Sorting by token count and padding each batch only to its own longest
member removes that waste (see benchmarks/bench_scoring.py for the measured speed-up).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch


def length_batches(lengths: Sequence[int], batch_size: int, max_tokens: int | None = None) -> list[list[int]]:
    """Index batches in ascending length order; a batch closes at `batch_size` items or when its padded size
    (items x longest) would exceed `max_tokens`."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = max(lengths[i], max((lengths[j] for j in current), default=0))
        too_many = len(current) >= batch_size
        too_big = max_tokens is not None and current and longest * (len(current) + 1) > max_tokens
        if current and (too_many or too_big):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def fixed_batches(n: int, batch_size: int) -> list[list[int]]:
    """Index batches in input order (the naive baseline)."""
    return [list(range(s, min(n, s + batch_size))) for s in range(0, n, batch_size)]


def tokenize_texts(
    tokenizer: Any,
    texts: Sequence[str],
    text_pairs: Sequence[str] | None = None,
    max_length: int = 512,
) -> list[dict[str, list[int]]]:
    """Tokenize without padding; pairs truncate the longer segment first (as the classifier was trained)."""
    kwargs: dict[str, Any] = {
        "truncation": "longest_first" if text_pairs is not None else True,
        "max_length": max_length,
    }
    enc = (
        tokenizer(list(texts), list(text_pairs), **kwargs)
        if text_pairs is not None
        else tokenizer(list(texts), **kwargs)
    )
    keys = [k for k in enc.keys() if k in ("input_ids", "attention_mask", "token_type_ids")]
    return [{k: enc[k][i] for k in keys} for i in range(len(texts))]


@torch.inference_mode()
def run_batched(
    model_fn: Callable[[dict[str, torch.Tensor]], torch.Tensor],
    tokenizer: Any,
    features: list[dict[str, list[int]]],
    batch_size: int = 32,
    dynamic: bool = True,
    max_length: int = 512,
    max_tokens: int | None = None,
    desc: str = "scoring",
) -> np.ndarray:
    """Apply `model_fn` (padded batch -> [batch, ...] tensor) to every feature; results in input order.
    A progress bar (`desc`, in examples) shows on stderr.

    dynamic=True: length-sorted batches padded to their longest member; dynamic=False: input order, every
    sequence padded to `max_length` (the naive baseline the benchmark compares against).
    """
    if not features:
        return np.zeros((0,))
    if dynamic:
        batches = length_batches([len(f["input_ids"]) for f in features], batch_size, max_tokens)
    else:
        batches = fixed_batches(len(features), batch_size)
    from tqdm.auto import tqdm

    out: list[np.ndarray | None] = [None] * len(features)
    progress = tqdm(total=len(features), desc=desc, unit="example", leave=False)
    for idx in batches:
        padding: dict[str, Any] = (
            {"padding": True} if dynamic else {"padding": "max_length", "max_length": max_length}
        )
        batch = tokenizer.pad([features[i] for i in idx], return_tensors="pt", **padding)
        result = model_fn(dict(batch)).float().cpu().numpy()
        for j, i in enumerate(idx):
            out[i] = result[j]
        progress.update(len(idx))
    progress.close()
    return np.stack(out)  # type: ignore[arg-type]
