"""FastVader must give VADER's own scores, to the last digit."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import zstandard
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from dataset_builder.sentiment import FastVader, load_scorer, vader

CRAFTED = [
    "Thank you so much, this really helps!",
    "That is not helpful at all. You clearly did not read my post.",
    "I was never so happy, without doubt the best advice. Kind of sad it took so long though.",
    "It isn't bad but it isn't great either... sort of okay I guess?!",
    "NO. This is NOT good, the worst advice ever!!! :(",
    "the shit was the bomb, yeah right, cut the mustard, kiss of death",
    "",
    "ok",
]


def test_fast_vader_equals_vader_on_crafted_texts() -> None:
    reference, fast = SentimentIntensityAnalyzer(), FastVader()
    for text in CRAFTED:
        assert fast.polarity_scores(text) == reference.polarity_scores(text), text


def test_batch_scorer_and_plugin_hook() -> None:
    reference = SentimentIntensityAnalyzer()
    texts = CRAFTED * 600  # large enough to use the process pool
    assert vader(texts) == [reference.polarity_scores(t)["compound"] for t in texts]
    assert load_scorer("dataset_builder.sentiment:vader") is vader
    with pytest.raises(ValueError, match="use `vader` or `package.module:function`"):
        load_scorer("textblob")


@pytest.mark.slow
def test_fast_vader_equals_vader_on_real_comments(shared_data: Path) -> None:
    texts = []
    dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
    with open(shared_data / "reddit-college" / "GradSchool_comments.zst", "rb") as handle:
        for i, line in enumerate(io.TextIOWrapper(dctx.stream_reader(handle), encoding="utf-8")):
            if i >= 5000:
                break
            texts.append(json.loads(line)["body"])
    reference, fast = SentimentIntensityAnalyzer(), FastVader()
    assert [fast.polarity_scores(t) for t in texts] == [reference.polarity_scores(t) for t in texts]
