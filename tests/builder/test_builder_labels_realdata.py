"""Label rule 2.0 and the paper preset on real reddit-college dumps (skipped without ../shared/data). Slow.

The label is scored against the committed label-audit judgments (benchmarks/label_audit/: one careful reader,
a stratified sample of 600 kept top-level comments): the targets of issue 8 are precision(effective) >= 0.90
and precision(not_effective) >= 0.85, weighted back to the population of kept top-level comments.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest

from dataset_builder.config import BuildConfig
from dataset_builder.pipeline import build

pytestmark = pytest.mark.slow
KEY = b"real-data-label-test-key"
AUDIT = Path(__file__).resolve().parents[2] / "benchmarks" / "label_audit"
# The audit matches items by raw Reddit id; where the builder hashes ids by default, keep them for this test.
RAW_IDS = (
    {"keep_reddit_ids": True}
    if "keep_reddit_ids" in {f.name for f in dataclasses.fields(BuildConfig)}
    else {}
)


def _score_module():
    spec = importlib.util.spec_from_file_location("label_audit_score", AUDIT / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("college-labels") / "redditess"
    # Labels do not depend on the improvement pairs' similarity: the lexical one keeps this build fast.
    build(
        BuildConfig(inputs=[shared_data / "reddit-college"], out=out, similarity="lexical", **RAW_IDS),
        key=KEY,
    )
    return out


@pytest.fixture(scope="module")
def audited(built: Path) -> dict:
    score = _score_module()
    judgments = score.load_judgments(AUDIT / "judgments.csv")
    strata = json.loads((AUDIT / "strata.json").read_text())
    return score.score(score.load_build(built), judgments, strata, n_boot=200, seed=0)


def test_audit_precision_meets_the_targets(audited: dict) -> None:
    effective, not_effective = audited["precision_effective"], audited["precision_not_effective"]
    assert effective["n"] >= 60 and not_effective["n"] >= 40  # enough judged labels to mean something
    assert effective["weighted"] >= 0.90, effective
    assert not_effective["weighted"] >= 0.85, not_effective


def test_audit_share_labeled_and_balance(audited: dict) -> None:
    figures = audited["build"]
    # Measured 7.2% with rule 2.0 (issue 8 targets 10%; README "How comments are labeled" explains the
    # gap): this guards against precision bought by labeling ever less.
    assert figures["share_labeled"] >= 0.065, figures
    assert 0.6 <= figures["share_effective_of_labeled"] <= 0.85, figures  # no longer 89% one class
    assert audited["labeled_on_non_support_posts"] <= 25


@pytest.mark.parametrize("kind", ["agreement", "courtesy", "question", "other"])
def test_op_engagement_without_acknowledgement_stays_unlabeled(built: Path, kind: str) -> None:
    """The coverage frontier (issue 8b): an OP reply of these kinds is engagement, not evidence of benefit.

    Counted as `effective` they would fall far short of the 0.90 target on the audit sample (measured with
    rule 2.0: agreement 0.33 n=6, courtesy 0.00 n=3, question 0.35 n=43, other 0.31 n=151), and as
    `not_effective` short of 0.85 (question 0.65 n=43, other 0.69 n=151; courtesy 1.00 on only n=3, too few to
    trust, and only +305 labels): so the rule abstains on them."""
    import pandas as pd

    score = _score_module()
    judgments = score.load_judgments(AUDIT / "judgments.csv")
    population = json.loads((AUDIT / "strata.json").read_text())["population"]
    judged_n = judgments["stratum"].value_counts().to_dict()
    weights = {s: population[s] / judged_n[s] for s in judged_n}
    files = sorted((built / "data" / "comments").glob("*.parquet"))
    cols = ["comment_id", "op_evidence", "label", "seeks_support"]
    comments = pd.concat([pd.read_parquet(f, columns=cols) for f in files], ignore_index=True)
    assert comments.loc[comments["op_evidence"] == kind, "label"].isna().mean() > 0.95  # abstains
    comments["item"] = [score.audit_key(c) for c in comments["comment_id"]]
    judged = judgments.merge(comments, on="item")
    judged = judged[(judged["op_evidence"] == kind) & judged["seeks_support_y"].astype(bool)]
    judged["effective_ok"] = judged["rating"] >= 3
    judged["not_effective_ok"] = judged["rating"] <= 2
    as_effective = score.precision_with_ci(judged, weights, "effective_ok", n_boot=50, seed=0)
    as_not_effective = score.precision_with_ci(judged, weights, "not_effective_ok", n_boot=50, seed=0)
    # courtesy: 3 judged replies on support-seeking posts under issue 8's support rule, 2 since issue 16's
    # stricter rule calls one of those posts an `impersonal_question` (both rated 1-2: precision 0.00).
    assert as_effective["n"] >= 2, as_effective
    assert as_effective["weighted"] < 0.90, as_effective
    if as_not_effective["n"] >= 20:  # courtesy (n=3, all rated 1-2) and agreement are too few to judge
        assert as_not_effective["weighted"] < 0.85, as_not_effective


def test_paper_preset_builds_on_a_praw_dump(shared_data: Path, tmp_path: Path) -> None:
    cfg = BuildConfig(inputs=[shared_data / "reddit-college"], out=tmp_path / "paper", preset="paper")
    manifest = build(cfg.with_preset(), key=KEY)
    counts = manifest["counts"]
    assert counts["edited_by_flag"] == 0  # PRAW-scraped: `edited` is false everywhere
    assert counts["edited_by_marker"] == counts["posts_kept"] > 300  # 412 measured
    assert manifest["drops"]["submission"]["not_edited"] > 25_000
