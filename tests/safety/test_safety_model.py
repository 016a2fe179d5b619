"""The optional crisis model: a real local text-classification model combined with the rules (either flags)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from redditess_core.safety import CrisisScreen
from redditess_core.safety.model import CrisisModelError, ModelScorer

TEXTS = ["what a lovely day at the park", "been saving up my pills"]


def test_model_flags_are_added_to_the_rules(crisis_models: dict[str, Path]) -> None:
    scorer = ModelScorer.load(str(crisis_models["flags_all"]))
    assert scorer.positive_label == "high_risk"
    scores = scorer.scores(TEXTS)
    assert scores == pytest.approx([1 / (1 + math.exp(-4.0))] * 2, abs=1e-4)
    calm, risky = CrisisScreen(model=scorer).screen_many(TEXTS)
    assert (
        calm.high_risk
        and calm.categories == ("model",)
        and calm.model_score == pytest.approx(0.982, abs=1e-3)
    )
    assert risky.high_risk and risky.categories == ("plan_means", "model")


def test_rules_still_flag_when_the_model_does_not(crisis_models: dict[str, Path]) -> None:
    screen = CrisisScreen(model=ModelScorer.load(str(crisis_models["flags_none"])))
    calm, risky = screen.screen_many(TEXTS)
    assert not calm.high_risk and calm.model_score == pytest.approx(0.018, abs=1e-3)
    assert risky.high_risk and risky.categories == ("plan_means",)
    # a stricter threshold turns the always-high model's 0.98 into "not flagged"
    strict = ModelScorer.load(str(crisis_models["flags_all"]), threshold=0.99)
    assert not CrisisScreen(model=strict).screen(TEXTS[0]).high_risk


def test_positive_label_must_be_known(crisis_models: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(CrisisModelError, match=r"labels \['LABEL_A', 'LABEL_B'\]: name the positive one"):
        ModelScorer.load(str(crisis_models["odd_labels"]))
    assert ModelScorer.load(str(crisis_models["odd_labels"]), positive_label="LABEL_B").scores(["x"])[0] > 0.9
    with pytest.raises(CrisisModelError, match="has no label 'crisis'"):
        ModelScorer.load(str(crisis_models["flags_all"]), positive_label="crisis")
    with pytest.raises(CrisisModelError, match="cannot load crisis model"):
        ModelScorer.load(str(tmp_path / "missing-model"))
