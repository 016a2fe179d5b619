"""benchmarks/pair_audit/threshold.py: the intent threshold chosen from invented judgments of an invented build."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

AUDIT = Path(__file__).resolve().parents[2] / "benchmarks" / "pair_audit"
sys.path.insert(0, str(AUDIT))  # threshold.py imports score.py as a sibling, like the script
_spec = importlib.util.spec_from_file_location("pair_audit_threshold", AUDIT / "threshold.py")
threshold = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(threshold)
K = threshold.audit_key


def _msgs(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _write_build(root: Path, pairs: list[tuple[str, str, str, float]]) -> Path:
    """Improvement pairs (post, draft, revision, similarity) with raw ids; revision twice the draft's length."""
    rows = [
        {
            "prompt": [{"role": "user", "content": f"post {p}"}],
            "chosen": _msgs("r" * 40),
            "rejected": _msgs("d" * 20),
            "similarity": sim,
            "post_id": p,
            "draft_id": a,
            "revision_id": b,
            "draft_score": 2,
            "revision_score": 6,
            "pair_source": "similar_reply",
        }
        for p, a, b, sim in pairs
    ]
    (root / "data" / "improvement").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), root / "data" / "improvement" / "train-00000-of-00001.parquet")
    return root


def _judgment(post: str, draft: str, revision: str, intent: bool, better: bool, sample: str = "s") -> dict:
    return {
        "sample": sample,
        "kind": "improvement",
        "post": K(post),
        "comment_1": K(draft),
        "comment_2": K(revision),
        "better": K(revision) if better else "not_better",
        "same_intent": "yes" if intent else "no",
        "reason": "",
    }


@pytest.fixture
def invented(tmp_path: Path) -> dict:
    # 40 pairs: below 0.7 every judged pair is other advice; from 0.7 every judged pair is a better revision.
    pairs = [(f"p{i}", f"d{i}", f"r{i}", 0.601 + 0.005 * i) for i in range(40)]  # off the grid
    build = _write_build(tmp_path / "build", pairs)
    judged = [_judgment(p, a, b, intent=sim > 0.7, better=sim > 0.7) for p, a, b, sim in pairs[::2]]
    judged.append(_judgment("p1", "r1", "d1", intent=True, better=True))  # other direction: not joined
    judged.append(_judgment("p0", "d0", "r0", intent=True, better=True, sample="t"))  # a second reading
    judged.append(_judgment("px", "dx", "rx", intent=True, better=True))  # a pair the build does not hold
    path = tmp_path / "judgments.csv"
    pd.DataFrame(judged).to_csv(path, index=False)
    return {"build": build, "judgments": path, "pairs": pairs}


def test_join_keeps_judged_direction_and_every_reading(invented: dict) -> None:
    build = threshold.load_improvement(invented["build"])
    assert len(build) == 40 and set(build["draft_chars"]) == {20} and set(build["revision_chars"]) == {40}
    rows, missing = threshold.join(build, threshold.load_pair_judgments(invented["judgments"]))
    assert len(rows) == 21  # 20 judged pairs + the second reading of p0; not the reversed pair nor px
    assert missing == 2
    assert rows.loc[rows["draft"] == K("d0"), "revision_like_and_better"].tolist() == [False, True]


def test_tables_and_rule_choose_the_lowest_threshold_meeting_the_rate(invented: dict, tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    result = threshold.main(
        ["--dataset", str(invented["build"]), "--judgments", str(invented["judgments"]), "--target_rate", "0.55",
         "--min_judged", "5", "--n_boot", "200", "--output", str(out)]
    )  # fmt: skip
    by_t = {row["threshold"]: row for row in result["thresholds"]}
    assert by_t[0.6]["build_pairs"] == 40 and by_t[0.7]["build_pairs"] == 20
    # readings at or above 0.6: 21, of which 11 (the 10 pairs from 0.7 and p0's second reading) are good
    assert by_t[0.6]["revision_like_and_better"]["n"] == 21
    assert by_t[0.6]["revision_like_and_better"]["share"] == pytest.approx(11 / 21)
    assert by_t[0.7]["revision_like_and_better"]["share"] == 1.0
    # 0.62: readings of pairs 4, 6, ..., 38 = 18, of which 10 good = 56% >= 55%: the lowest one meeting the rule
    assert result["chosen"]["threshold"] == 0.62
    assert result["chosen"]["revision_like_and_better"]["share"] == pytest.approx(10 / 18)
    bins = {(b["low"], round(b["high"], 2)): b for b in result["bins"]}
    assert bins[(0.7, 0.75)]["revision_like"]["share"] == 1.0 and bins[(0.6, 0.65)]["build_pairs"] == 10
    assert json.loads(out.read_text())["chosen"]["threshold"] == 0.62
    # a stricter rule moves the choice up; an unreachable one chooses nothing
    assert threshold.choose(result["thresholds"], 0.9, 5)["threshold"] == 0.69
    assert threshold.choose(result["thresholds"], 0.55, 100) is None


def test_no_judged_pair_or_no_similarity_is_an_error(invented: dict, tmp_path: Path) -> None:
    other = _write_build(tmp_path / "other", [("q1", "e1", "f1", 0.7)])
    with pytest.raises(ValueError, match="none of its improvement pairs is judged"):
        threshold.main(["--dataset", str(other), "--judgments", str(invented["judgments"])])
    with pytest.raises(FileNotFoundError, match="similarity"):
        threshold.load_improvement(tmp_path / "nothing")
