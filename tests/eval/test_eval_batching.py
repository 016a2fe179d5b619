"""Length-sorted dynamic batching: batch formation, and scores identical to fixed-length padding."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from eval.models import load_classifier
from eval.scoring import encode_pairs, score_features
from redditess_core.batching import length_batches

REPO = Path(__file__).resolve().parents[2]


def test_length_batches_sorted_capped_and_complete() -> None:
    lengths = [50, 3, 7, 400, 8, 9, 2, 120]
    batches = length_batches(lengths, batch_size=3)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(lengths) and all(len(b) <= 3 for b in batches)
    budget = length_batches(lengths, batch_size=8, max_tokens=100)
    assert all(max(lengths[i] for i in b) * len(b) <= 100 or len(b) == 1 for b in budget)


def test_dynamic_scores_equal_fixed_padding(classifier_run: Path) -> None:
    clf = load_classifier(classifier_run)
    posts = ["I feel alone. " * k for k in (1, 9, 3, 20, 2)]
    replies = [
        "You are not alone, I am here.",
        "ok",
        "Try a short walk " * 5,
        "Sending care.",
        "Breathe in for four.",
    ]
    feats = encode_pairs(clf, posts, replies, max_length=128)
    dynamic = score_features(clf, feats, batch_size=2, dynamic=True, max_length=128)
    fixed = score_features(clf, feats, batch_size=2, dynamic=False, max_length=128)
    single = np.concatenate([score_features(clf, [f], batch_size=1) for f in feats])
    assert np.allclose(dynamic, fixed, atol=1e-5) and np.allclose(dynamic, single, atol=1e-5)
    assert ((dynamic > 0) & (dynamic < 1)).all()


def test_bench_reads_real_dumps(shared_data: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_scoring", REPO / "benchmarks" / "bench_scoring.py")
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_scoring"] = bench  # dataclasses look their module up there
    spec.loader.exec_module(bench)
    folder = shared_data / "reddit-college"
    if not folder.is_dir():
        pytest.skip("reddit-college dumps not present")
    pairs = bench.real_pairs(folder, 12)
    assert len(pairs) == 12 and all(
        post and comment not in ("[deleted]", "[removed]") for post, comment in pairs
    )
