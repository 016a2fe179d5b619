"""Score (post, reply) pairs with a sequence classifier or reward model, with length-sorted batching."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from eval.models import Classifier
from redditess_core.batching import run_batched, tokenize_texts


def encode_pairs(
    clf: Classifier,
    posts: Sequence[str],
    replies: Sequence[str],
    *,
    reward: bool = False,
    max_length: int = 512,
) -> list[dict[str, list[int]]]:
    """Classifier: the (post, reply) text pair as `redditess_core.classifier.pair_texts` builds it. Reward model: the conversation in
    the tokenizer's chat template when it has one (reward models are trained on chat-formatted text)."""
    tok = clf.tokenizer
    if reward and getattr(tok, "chat_template", None):
        texts = [
            tok.apply_chat_template(
                [{"role": "user", "content": p}, {"role": "assistant", "content": r}], tokenize=False
            )
            for p, r in zip(posts, replies, strict=True)
        ]
        tok.truncation_side = "left"
        return tokenize_texts(tok, texts, max_length=max_length)
    return tokenize_texts(tok, list(posts), list(replies), max_length=max_length)


def score_features(
    clf: Classifier,
    feats: list[dict[str, list[int]]],
    *,
    reward: bool = False,
    batch_size: int = 32,
    dynamic: bool = True,
    max_length: int = 512,
) -> np.ndarray:
    """P(positive label) per example for a classifier, the raw score for a reward model (num_labels=1)."""

    def forward(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        logits = clf.model(**batch).logits
        if reward or clf.num_labels == 1:
            return logits[:, 0]
        return torch.softmax(logits, dim=-1)[:, clf.positive_index]

    clf.tokenizer.padding_side = "right"
    return run_batched(
        forward, clf.tokenizer, feats, batch_size=batch_size, dynamic=dynamic, max_length=max_length
    )


def score_pairs(
    clf: Classifier,
    posts: Sequence[str],
    replies: Sequence[str],
    *,
    reward: bool = False,
    batch_size: int = 32,
    max_length: int = 512,
    dynamic: bool = True,
) -> np.ndarray:
    """Encode and score (post, reply) pairs."""
    feats = encode_pairs(clf, posts, replies, reward=reward, max_length=max_length)
    return score_features(
        clf, feats, reward=reward, batch_size=batch_size, dynamic=dynamic, max_length=max_length
    )
