"""Pairwise judging: the position-swap rule, real tiny judges, and mismatched files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from eval_helpers import write_generations

from eval.io import read_jsonl
from eval.judge import (
    CANNED_REPLY,
    DEFAULT_TIE_MARGIN,
    JudgeArguments,
    decide,
    decide_pointwise,
    human_pairs,
    run_judge,
    validity_check,
)


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
    # A pointwise judge is compared once (order cannot matter), with the documented default tie margin.
    assert ab["position_consistency"] is None and "pointwise" in ab["rule"]
    assert ab["tie_margin"] == DEFAULT_TIE_MARGIN["classifier"] == 0.02 and ab["tie_margin_default"]
    assert ab["wins"] + ab["losses"] + ab["ties"] == 8 and "win_rate_excluding_ties" in ab
    verdicts = read_jsonl(tmp_path / "ab" / "verdicts.jsonl")
    for v in verdicts:
        assert "pref_b_shown_first" not in v
        assert v["verdict"] == decide_pointwise(v["pref_a_shown_first"], 0.02)[0]
        assert v["winner"] in ("good", "bad", "tie")
    summary = json.loads((tmp_path / "ab" / "judge.json").read_text())
    # No --dataset: the judge is not validated, and says so.
    assert summary["valid"] is False and summary["validity"]["checked"] is False
    assert "--dataset" in summary["validity"]["reasons"][0]
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
            tie_margin=0.0,
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


def test_decide_pointwise_margin_and_ties() -> None:
    assert decide_pointwise(np.array([0.5, -0.5, 0.01, -0.02, 0.03]), 0.02) == ["a", "b", "tie", "tie", "a"]


class _ToyJudge:
    """A pointwise judge over raw text: `score(post, reply) -> float`."""

    dims = ("overall",)
    pointwise = True

    def __init__(self, score) -> None:
        self.score = score

    def compare(self, posts, firsts, seconds) -> np.ndarray:
        diff = [self.score(p, f) - self.score(p, s) for p, f, s in zip(posts, firsts, seconds, strict=True)]
        return np.asarray(diff, dtype=float)[:, None]


def _toy_triples(n: int = 60, seed: int = 0) -> list[dict[str, str]]:
    """Effective comments engage with the post (name its topic); length is unrelated to the label."""
    rng = np.random.default_rng(seed)
    topics = ["exam", "job", "sleep", "family", "friend", "panic"]
    out = []
    for i in range(n):
        topic = topics[i % len(topics)]
        long_good = rng.random() < 0.5
        good = f"The {topic} sounds hard; what helped me with my {topic} was a plan." + (
            " Take it one small step at a time and ask someone you trust." if long_good else ""
        )
        bad = (
            "lol same"
            if long_good
            else "Honestly nobody cares, everybody has problems, just deal with it and move on."
        )
        out.append(
            {
                "post_id": f"t{i:03d}",
                "post": f"My {topic} is overwhelming me.",
                "effective": good,
                "not_effective": bad,
                "effective_id": f"t{i:03d}g",
                "not_effective_id": f"t{i:03d}b",
            }
        )
    return out


def test_length_judge_is_marked_invalid_and_a_grounded_judge_valid() -> None:
    triples = _toy_triples()
    length_judge = _ToyJudge(lambda post, reply: len(reply) / 100)
    summary, rows = validity_check(length_judge, triples, margin=0.0)
    assert summary["checked"] and summary["valid"] is False and len(summary["reasons"]) == 2
    pairs, canned = summary["human_pairs"], summary["canned_reply"]
    assert pairs["ci_low"] <= 0.5 <= pairs["ci_high"]  # length says nothing about the label here
    assert canned["win_rate"] > 0.5 and len(CANNED_REPLY) > 100  # the long canned reply beats real comments
    assert "bootstrap" in pairs["ci_method"] and f"over {len(triples)} clusters" in pairs["ci_method"]
    assert len(rows) == len(triples) and set(rows[0]) == {
        "post_id",
        "effective_id",
        "not_effective_id",
        "human_pair_verdict",
        "canned_verdict",
    }  # ids and verdicts only: no texts

    def grounded(post: str, reply: str) -> float:  # rewards engaging with the post's own topic
        topic = post.split()[1]
        return float(topic in reply) + 0.1 * ("nobody cares" not in reply)

    summary, _ = validity_check(_ToyJudge(grounded), triples, margin=0.0)
    assert summary["valid"] is True and summary["reasons"] == []
    assert summary["human_pairs"]["ci_low"] > 0.5 and summary["canned_reply"]["win_rate"] <= 0.5
    # Too few posts cannot validate anything.
    few, _ = validity_check(_ToyJudge(grounded), triples[:1], margin=0.0)
    assert few["valid"] is False and few["checked"] is False


def test_judge_runs_the_validity_check_on_the_dataset(
    classifier_run: Path, two_systems: tuple[Path, Path], demo_dataset: Path, tmp_path: Path
) -> None:
    good, bad = two_systems
    args = JudgeArguments(
        a=str(good),
        b=str(bad),
        judge="classifier",
        judge_model=str(classifier_run),
        output_dir=str(tmp_path / "j"),
        dataset=str(demo_dataset),
        validity_split="train",  # the demo build's test split has too few posts with both labels
        validity_max_posts=8,
    )
    triples = human_pairs(str(demo_dataset), "train", 8, args.seed)
    assert len(triples) == 8 and all(t["effective"] != t["not_effective"] for t in triples)
    out = run_judge(args)
    v = out["validity"]
    assert v["checked"] and v["n_posts"] == 8 and v["dataset"]["split"] == "train"
    assert out["valid"] is v["valid"] and (v["valid"] or v["reasons"])
    assert v["human_pairs"]["n"] == 8 and v["canned_reply"]["n"] == 8
    rows = read_jsonl(tmp_path / "j" / "validity.jsonl")
    assert [r["post_id"] for r in rows] == [t["post_id"] for t in triples]
    assert json.loads((tmp_path / "j" / "judge.json").read_text())["validity"] == json.loads(json.dumps(v))
