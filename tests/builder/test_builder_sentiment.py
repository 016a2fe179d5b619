"""FastVader must give VADER's own scores, to the last digit, on real and invented texts."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest
import zstandard
from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentimentIntensityAnalyzer

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
    "   ",
    "I'm not sure but it's GREAT 😀 and kind of sad 😢😢",
    "Not bad. not BAD at all!! At least it's not the least helpful, very least.",
    "no no good, no or nor bad, NO GOOD, never so good, never this bad, without doubt good",
    "but but good bad but",
    "good good good but bad bad bad",
    "I didnt like it, I don't hate it, it ain't great, uh-uh nope, it's kinda sorta good",
    ":) :( :D <3 :-) (: lol LOL haha 🙂🙃✨",
    "This is the shit, the bomb, bad ass! to die for, a beating heart, yeah right, kiss of death.",
    "sort of good, kind of bad, just enough happy",
    # VADER's `but` rule finds each value's first equal element: the halved 1.0 equals the 0.5 after `but`
    "abilities but adorns",
]


def invented_texts(n: int, seed: int = 0) -> list[str]:
    """Seeded texts that exercise every VADER rule: lexicon words in any case, boosters, negations
    (with and without n't), "no"/"least"/"but"/"kind of", idioms, emoji, emoticons, punctuation."""
    analyzer = SentimentIntensityAnalyzer()
    rng = random.Random(seed)
    lexicon = sorted(analyzer.lexicon)
    emoji = sorted(analyzer.emojis)
    special = [
        "no", "not", "never", "so", "this", "without", "doubt", "least", "at", "very", "but", "BUT", "kind",
        "of", "or", "nor", "isn't", "wasnt", "can't", "the", "shit", "bomb", "bad", "ass", "yeah", "right",
        "to", "die", "for", "just", "enough", "sort", "kiss", "death", "!", "?", "!!!", "??", "...", ":)",
        ":(", "<3", "'", "'good'", "--great--", "I",
    ]  # fmt: skip
    boosters = sorted(BOOSTER_DICT)
    texts = []
    for _ in range(n):
        words = []
        for _ in range(rng.randint(0, 40)):
            pool = rng.choice((lexicon, special, special, boosters, emoji))
            word = rng.choice(pool)
            case = rng.random()
            word = word.upper() if case < 0.15 else word.capitalize() if case < 0.25 else word
            if rng.random() < 0.1:
                word += rng.choice("!?.,;:")
            words.append(word)
        joiner = rng.choice((" ", " ", "  ", "\n", ""))
        texts.append(joiner.join(words))
    return texts


def test_fast_vader_equals_vader_on_invented_texts() -> None:
    reference, fast = SentimentIntensityAnalyzer(), FastVader()
    for text in invented_texts(4000):
        assert fast.polarity_scores(text) == reference.polarity_scores(text), text


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
            if i >= 20000:
                break
            texts.append(json.loads(line)["body"])
    reference, fast = SentimentIntensityAnalyzer(), FastVader()
    assert [fast.polarity_scores(t) for t in texts] == [reference.polarity_scores(t) for t in texts]
