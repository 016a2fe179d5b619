"""Pairwise judging: the position-swap rule, real tiny judges, and mismatched files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from eval_helpers import write_generations

from eval.io import read_jsonl
from eval.judge import JudgeArguments, decide, run_judge


def test_decide_requires_both_orders_to_agree() -> None:
    # pref_a_first > 0: a (shown first) preferred; pref_b_first > 0: b (shown first) preferred.
    a_first = np.array([0.9, -0.9, 0.9, 0.9, 0.05])
    b_first = np.array([-0.8, 0.8, 0.9, -0.8, -0.05])
    # 1: both orders favour a; 2: both favour b; 3: "first" always wins = position bias -> tie;
    # 4: like 1; 5: both favour a but within the margin -> tie.
    assert decide(a_first, b_first, margin=0.1) == ["a", "b", "tie", "a", "tie"]
    assert decide(a_first, b_first, margin=0.0)[4] == "a"


def test_classifier_judge_both_directions(
    classifier_run: Path, two_systems: tuple[Path, Path], tmp_path: Path
) -> None:
    good, bad = two_systems
    ab = run_judge(
        JudgeArguments(
            a=str(good),
            b=str(bad),
            judge="classifier",
            judge_model=str(classifier_run),
            output_dir=str(tmp_path / "ab"),
        )
    )
    ba = run_judge(
        JudgeArguments(
            a=str(bad),
            b=str(good),
            judge="classifier",
            judge_model=str(classifier_run),
            output_dir=str(tmp_path / "ba"),
        )
    )
    assert ab["n"] == 8 and (ab["wins"], ab["losses"], ab["ties"]) == (ba["losses"], ba["wins"], ba["ties"])
    assert ab["win_rate"] + ba["win_rate"] == pytest.approx(1.0)
    assert ab["position_consistency"] == 1.0  # a pointwise judge cannot depend on the order
    verdicts = read_jsonl(tmp_path / "ab" / "verdicts.jsonl")
    for v in verdicts:  # the swapped order is the exact negation for a pointwise judge
        assert v["pref_a_shown_first"][0] == pytest.approx(-v["pref_b_shown_first"][0])
        assert v["winner"] in ("good", "bad", "tie")
    summary = json.loads((tmp_path / "ab" / "judge.json").read_text())
    assert summary["provenance"]["judge"]["model"]["fingerprint"]
    assert summary["provenance"]["system_a"]["generation"]["dataset"]["version"] == "0.1.0-evaltest"


def test_llm_judge_rubric_per_dimension(
    tiny_models: dict[str, Path], two_systems: tuple[Path, Path], tmp_path: Path
) -> None:
    good, bad = two_systems
    out = run_judge(
        JudgeArguments(
            a=str(good),
            b=str(bad),
            judge="llm",
            judge_model=str(tiny_models["tiny-llama"]),
            output_dir=str(tmp_path / "llm"),
            batch_size=8,
        )
    )
    assert set(out["per_dimension"]) == {"readability", "empathy", "connection", "actionability", "safety"}
    assert 0.0 <= out["position_consistency"] <= 1.0
    v = read_jsonl(tmp_path / "llm" / "verdicts.jsonl")[0]
    assert len(v["pref_a_shown_first"]) == 5 and len(v["pref_b_shown_first"]) == 5
    # The verdicts follow the swap rule applied to the recorded preferences.
    for dim_i, dim in enumerate(out["dimensions"]):
        assert (
            v["dimensions"][dim]
            == decide([v["pref_a_shown_first"][dim_i]], [v["pref_b_shown_first"][dim_i]], 0.0)[0]
        )


def test_reward_judge_and_mismatched_ids(
    tiny_models: dict[str, Path], two_systems: tuple[Path, Path], tmp_path: Path
) -> None:
    good, bad = two_systems
    out = run_judge(
        JudgeArguments(
            a=str(good),
            b=str(bad),
            judge="reward",
            judge_model=str(tiny_models["tiny-encoder"]),
            output_dir=str(tmp_path / "rm"),
        )
    )
    assert out["n"] == 8
    short = write_generations(tmp_path / "short.jsonl", "short", {"p01": "hi", "p02": "hello"})
    with pytest.raises(ValueError, match=r"lacks 6 id\(s\): p03, p04"):
        run_judge(
            JudgeArguments(
                a=str(good),
                b=str(short),
                judge="classifier",
                judge_model=str(tiny_models["tiny-encoder"]),
                output_dir=str(tmp_path / "x"),
            )
        )
    assert not (tmp_path / "x").exists()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        run_judge(
            JudgeArguments(
                a=str(good),
                b=str(empty),
                judge="classifier",
                judge_model=str(tiny_models["tiny-encoder"]),
                output_dir=str(tmp_path / "x"),
            )
        )
