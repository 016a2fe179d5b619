"""Fixtures for eval tests: tiny real models (training.tiny), a classifier run, two systems' generations.

Tests that read a RedditESS folder use the shared `demo_dataset` (tests/conftest.py: the real builder on the
synthetic sample); only generation files with crafted posts and replies are written here (eval_helpers.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_helpers import POSTS, REPLIES, write_generations


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """tiny-llama and tiny-encoder built by the training kit's own builder."""
    from training.tiny import build_all

    return build_all(tmp_path_factory.mktemp("tiny"))


@pytest.fixture()
def two_systems(tmp_path: Path) -> tuple[Path, Path]:
    """System 'good' answers warmly (and gives resources on crisis posts); 'bad' gives terse replies."""
    good, bad = {}, {}
    for pid, sub, _ in POSTS:
        good[pid] = REPLIES[0] + (
            " Please call or text 988 if you are in the US." if sub == "SuicideWatch" else ""
        )
        bad[pid] = "ok."
    return write_generations(tmp_path / "good.jsonl", "good", good), write_generations(
        tmp_path / "bad.jsonl", "bad", bad
    )


@pytest.fixture(scope="session")
def classifier_run(tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A classifier run folder as training writes one for full fine-tuning: a sequence classifier (tiny
    encoder with a seeded head, labels not_effective/effective) with its tokenizer and threshold.json."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    out = tmp_path_factory.mktemp("clf") / "classifier"
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(tiny_models["tiny-encoder"]),
        num_labels=2,
        id2label={0: "not_effective", 1: "effective"},
        label2id={"not_effective": 0, "effective": 1},
    )
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(str(tiny_models["tiny-encoder"])).save_pretrained(out)
    (out / "threshold.json").write_text(
        json.dumps(
            {"threshold": 0.5, "positive_label": "effective", "labels": ["not_effective", "effective"]}
        )
    )
    return out
