"""benchmarks/pair_audit: sft sampler, sheet recorder and scorer on invented builds and invented judgments."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

AUDIT = Path(__file__).resolve().parents[2] / "benchmarks" / "pair_audit"


def _load(name: str):
    sys.path.insert(
        0, str(AUDIT)
    )  # record.py and sample_sft.py import score.py as a sibling, like the scripts
    spec = importlib.util.spec_from_file_location(f"pair_audit_{name}", AUDIT / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


score = _load("score")
record = _load("record")
sample_sft = _load("sample_sft")
K = score.audit_key


def _msgs(role: str, text: str) -> list[dict[str, str]]:
    return [{"role": role, "content": text}]


def _write_build(root: Path, pref: list[tuple], imp: list[tuple], sft: list[tuple]) -> Path:
    """An invented build: preference (post, chosen, rejected, source), improvement (post, draft, revision, source),
    sft (post, comment). Raw ids, train split only."""
    tables = {
        "preference": [
            {
                "prompt": _msgs("user", f"post {p}"),
                "chosen": _msgs("assistant", f"reply {c}"),
                "rejected": _msgs("assistant", f"reply {r}"),
                "post_id": p,
                "chosen_id": c,
                "rejected_id": r,
                "pair_source": s,
            }
            for p, c, r, s in pref
        ],
        "improvement": [
            {
                "prompt": _msgs("user", f"post {p}"),
                "chosen": _msgs("assistant", f"reply {b}"),
                "rejected": _msgs("assistant", f"reply {a}"),
                "post_id": p,
                "draft_id": a,
                "revision_id": b,
                "pair_source": s,
            }
            for p, a, b, s in imp
        ],
        "sft": [
            {
                "messages": _msgs("user", f"post {p}") + _msgs("assistant", f"reply {c}"),
                "post_id": p,
                "comment_id": c,
            }
            for p, c in sft
        ],
    }
    for config, rows in tables.items():
        (root / "data" / config).mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows), root / "data" / config / "train-00000-of-00001.parquet")
    return root


def _pairs(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=score.PAIR_COLUMNS).fillna("")


def _pref(post: str, x: str, y: str, better: str, sample: str = "s") -> dict:
    c1, c2 = sorted([K(x), K(y)])
    return {
        "sample": sample,
        "kind": "preference",
        "post": K(post),
        "comment_1": c1,
        "comment_2": c2,
        "better": K(better) if better not in ("same", "not_comparable") else better,
        "same_intent": "",
        "reason": "",
    }


def _imp(post: str, draft: str, revision: str, intent: str, better: bool, sample: str = "s") -> dict:
    return {
        "sample": sample,
        "kind": "improvement",
        "post": K(post),
        "comment_1": K(draft),
        "comment_2": K(revision),
        "better": K(revision) if better else "not_better",
        "same_intent": intent,
        "reason": "",
    }


@pytest.fixture
def invented(tmp_path: Path) -> dict:
    pref = [  # (post, chosen, rejected, source)
        ("p1", "a1", "b1", "votes"),
        ("p1", "a2", "b2", "votes"),
        ("p2", "a3", "b3", "votes"),
        ("p3", "a4", "b4", "votes"),
        ("p4", "a5", "b5", "label"),
        ("p5", "a6", "b6", "label"),
        ("p6", "a7", "b7", "votes"),  # not judged
    ]
    imp = [
        ("p1", "d1", "r1", "similarity"),
        ("p2", "d2", "r2", "self_edit"),
        ("p3", "r3", "d3", "similarity"),  # judged only the other way round
    ]
    sft = [("p1", "s1"), ("p1", "s2"), ("p2", "s3"), ("p3", "s4"), ("p4", "s5")]
    build = _write_build(tmp_path / "build", pref, imp, sft)
    pairs = _pairs(
        [
            _pref("p1", "b1", "a1", "a1"),  # chosen better (judged with the sides the other way round)
            _pref("p1", "a2", "b2", "b2"),  # rejected better
            _pref("p2", "a3", "b3", "same"),
            _pref("p3", "a4", "b4", "not_comparable"),
            _pref("p4", "a5", "b5", "a5"),
            _pref("p5", "a6", "b6", "a6"),
            _pref("p9", "zz", "yy", "zz"),  # not in the build
            _imp("p1", "d1", "r1", "yes", True),
            _imp("p2", "d2", "r2", "yes", False),
            _imp("p3", "d3", "r3", "yes", True),
        ]
    )
    sft_j = pd.DataFrame(
        [
            {"sample": "s", "item": K("s1"), "post": K("p1"), "good": "yes", "reason": ""},
            {"sample": "s", "item": K("s2"), "post": K("p1"), "good": "no", "reason": ""},
            {"sample": "s", "item": K("s3"), "post": K("p2"), "good": "yes", "reason": ""},
            {"sample": "s", "item": K("s4"), "post": K("p3"), "good": "partly", "reason": ""},
        ]
    )
    return {"build": build, "pairs": pairs, "sft": sft_j}


def test_audit_key_matches_label_audit() -> None:
    assert K("abc123") == score.hashlib.sha256(b"redditess-audit:abc123").hexdigest()[:16]
    label_score = importlib.util.spec_from_file_location(
        "la_score", AUDIT.parent / "label_audit" / "score.py"
    )
    module = importlib.util.module_from_spec(label_score)
    label_score.loader.exec_module(module)
    assert module.audit_key("abc123") == K("abc123")


def test_score_outcomes_by_source(invented: dict) -> None:
    result = score.score(score.load_build(invented["build"]), invented["pairs"], invented["sft"], n_boot=200)
    votes = result["preference"]["by_source"]["votes"]
    assert votes["chosen_better"]["n"] == 4 and votes["chosen_better"]["n_posts"] == 3
    assert votes["chosen_better"]["share"] == pytest.approx(0.25)
    assert votes["rejected_better"]["share"] == pytest.approx(0.25)
    assert votes["same"]["share"] == pytest.approx(0.25)
    assert votes["not_comparable"]["share"] == pytest.approx(0.25)
    label = result["preference"]["by_source"]["label"]
    assert label["chosen_better"]["share"] == 1.0 and label["chosen_better"]["n"] == 2
    everything = result["preference"]["by_source"]["all sources"]["chosen_better"]
    assert everything["n"] == 6 and everything["share"] == pytest.approx(3 / 6)
    assert result["preference"]["judged_in_build"] == 6 and result["preference"]["build_pairs"]["votes"] == 5
    # improvement: p3's pair is judged d3 -> r3 but built r3 -> d3: counted, not scored
    imp = result["improvement"]
    assert imp["judged_in_build"] == 2 and imp["judged_in_other_direction_only"] == 1
    assert imp["by_source"]["similarity"]["revision_like_and_better"]["share"] == 1.0
    assert imp["by_source"]["self_edit"]["revision_like_and_better"]["share"] == 0.0
    assert imp["by_source"]["self_edit"]["revision_like"]["share"] == 1.0
    assert imp["by_source"]["all sources"]["revision_like_and_better"]["share"] == pytest.approx(0.5)
    sft = result["sft"]["by_source"]["all sources"]
    assert sft["yes"]["share"] == pytest.approx(0.5) and sft["yes"]["n"] == 4 and sft["yes"]["n_posts"] == 3
    assert sft["partly"]["share"] == pytest.approx(0.25) and sft["no"]["share"] == pytest.approx(0.25)
    assert result["meets_target"]["preference/votes/chosen_better"] is False
    assert result["meets_target"]["preference/label/chosen_better"] is True
    assert result["meets_target"]["preference/votes/rejected_better"] is False  # 25% > 15%
    assert result["meets_target"]["improvement/all sources/revision_like_and_better"] is True
    assert result["meets_target"]["sft/all sources/yes"] is False
    table = score.format_table(result)
    assert "| preference | votes | 4 (3) | 25%" in table and "yes >= 70%" in table


def test_intervals_resample_posts(invented: dict) -> None:
    """CIs come from a bootstrap over posts: p1's two vote pairs (one chosen better, one rejected better) move
    together, so the interval is the post-level one, and a one-post source has a zero-width interval."""
    result = score.score(score.load_build(invented["build"]), invented["pairs"], invented["sft"], n_boot=500)
    lo, hi = result["preference"]["by_source"]["votes"]["chosen_better"]["ci"]
    assert 0.0 <= lo <= 0.25 <= hi <= 1.0 and hi - lo > 0
    from eval.stats import bootstrap_over_clusters

    values = np.array([1.0, 0.0, 0.0, 0.0])
    assert [lo, hi] == list(
        bootstrap_over_clusters(values, ["p1", "p1", "p2", "p3"], n_resamples=500, seed=0)
    )
    assert bootstrap_over_clusters(values, ["p1", "p1", "p2", "p3"], n_resamples=500, seed=0) != (
        bootstrap_over_clusters(values, ["p1", "p4", "p2", "p3"], n_resamples=500, seed=0)
    )


def test_samples_filter_and_no_match(invented: dict) -> None:
    build = score.load_build(invented["build"])
    pairs = invented["pairs"].copy()
    pairs.loc[pairs.index[:2], "sample"] = "other"
    result = score.score(build, pairs, invented["sft"], samples=["other"], n_boot=50)
    assert result["preference"]["judged_in_build"] == 2 and result["sft"]["judged_in_build"] == 0
    with pytest.raises(ValueError, match="no judgments from these draws"):
        score.score(build, pairs, invented["sft"], samples=["nope"], n_boot=50)
    unrelated = _pairs([_pref("q", "x1", "x2", "x1")])
    with pytest.raises(ValueError, match="none of the judged rows is in this build"):
        score.score(build, unrelated, invented["sft"].iloc[:0], n_boot=50)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"better": "A"}, "better must be comment_1, comment_2, same or not_comparable"),
        ({"comment_1": "f" * 16}, "preference pairs are unordered: comment_1 must sort first"),
        ({"kind": "sft"}, "kind must be preference or improvement"),
    ],
)
def test_bad_pair_judgments_name_the_line(tmp_path: Path, row: dict, message: str) -> None:
    good = _pref("p1", "a1", "b1", "a1")
    path = tmp_path / "j.csv"
    _pairs([_pref("p0", "a0", "b0", "same"), good | row]).to_csv(path, index=False)
    with pytest.raises(ValueError, match=re.escape(f"{path}:3: {message}")):
        score.load_pair_judgments(path)


def test_duplicate_and_bad_improvement_judgments(tmp_path: Path) -> None:
    path = tmp_path / "j.csv"
    _pairs([_pref("p1", "a1", "b1", "a1"), _pref("p1", "b1", "a1", "same")]).to_csv(path, index=False)
    with pytest.raises(ValueError, match="pair judged twice"):
        score.load_pair_judgments(path)
    _pairs([_imp("p1", "d", "r", "maybe", True)]).to_csv(path, index=False)
    with pytest.raises(ValueError, match=":2: same_intent must be yes/no"):
        score.load_pair_judgments(path)
    _pairs([_imp("p1", "d", "r", "yes", True) | {"better": K("d")}]).to_csv(path, index=False)
    with pytest.raises(ValueError, match="comment_2 \\(the revision\\) or not_better"):
        score.load_pair_judgments(path)
    sft = tmp_path / "s.csv"
    pd.DataFrame([{"sample": "s", "item": "x", "post": "y", "good": "maybe", "reason": ""}]).to_csv(
        sft, index=False
    )
    with pytest.raises(ValueError, match=f"{re.escape(str(sft))}:2: good must be one of"):
        score.load_sft_judgments(sft)


def test_sft_draw_one_per_post_first_and_blind(invented: dict, tmp_path: Path) -> None:
    rows = sample_sft.load_sft(invented["build"])
    drawn = sample_sft.draw(rows, n=4, seed=3)
    assert len(drawn) == 4 and drawn["post_id"].nunique() == 4  # 4 posts before p1 gets a second row
    assert list(drawn["item"]) == list(sample_sft.draw(rows, n=4, seed=3)["item"])  # seeded
    rest = sample_sft.draw(rows, n=10, seed=3, exclude=set(drawn["item"]))
    assert len(rest) == 1 and not set(rest["item"]) & set(drawn["item"])
    out, key, sheet = tmp_path / "read.jsonl", tmp_path / "key.csv", tmp_path / "sheet.csv"
    args = ["--dataset", str(invented["build"]), "--n", "5", "--out", str(out)]
    assert sample_sft.main(args + ["--key_out", str(key), "--sheet_out", str(sheet)]) == 0
    reading = [json.loads(line) for line in out.read_text().splitlines()]
    assert set(reading[0]) == {"item", "post", "post_text", "reply"}  # no label, confidence, score, split
    assert {r["reply"] for r in reading} == {f"reply s{i}" for i in range(1, 6)}
    key_rows = list(csv.DictReader(key.open()))
    assert all(
        re.fullmatch(r"[0-9a-f]{16}", r["item"]) and re.fullmatch(r"[0-9a-f]{16}", r["post"])
        for r in key_rows
    )
    assert "reply" not in key.read_text() and "post s" not in key.read_text()


def test_sft_record_round_trip(invented: dict, tmp_path: Path) -> None:
    out, key, sheet = tmp_path / "read.jsonl", tmp_path / "key.csv", tmp_path / "sheet.csv"
    sample_sft.main(
        ["--dataset", str(invented["build"]), "--n", "5", "--out", str(out), "--key_out", str(key)]
        + ["--sheet_out", str(sheet)]
    )
    reading = [json.loads(line) for line in out.read_text().splitlines()]
    answer = {"reply s1": "yes", "reply s2": "no", "reply s3": "yes", "reply s4": "partly", "reply s5": "yes"}
    filled = tmp_path / "filled.csv"
    with filled.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["item", "good", "reason"])
        w.writeheader()
        w.writerows({"item": r["item"], "good": answer[r["reply"]], "reason": "advice"} for r in reading)
    judgments = tmp_path / "sft_judgments.csv"
    args = ["sft", "--key", str(key), "--sheet", str(filled), "--sample", "t", "--out", str(judgments)]
    assert record.main(args) == 0
    assert record.main(args) == 0  # a second run adds nothing
    loaded = score.load_sft_judgments(judgments)
    assert len(loaded) == 5
    result = score.score(score.load_build(invented["build"]), _pairs([]), loaded, n_boot=50)
    assert result["sft"]["by_source"]["all sources"]["yes"]["share"] == pytest.approx(3 / 5)
    bad = tmp_path / "bad.csv"
    bad.write_text("item,good,reason\n" + f"{reading[0]['item']},great,\n")
    with pytest.raises(ValueError, match=f"{re.escape(str(bad))}:2: good must be one of"):
        record.main(["sft", "--key", str(key), "--sheet", str(bad), "--sample", "t", "--out", str(judgments)])


@pytest.mark.parametrize("config", ["preference", "improvement"])
def test_pair_audit_export_record_score_matches_ingest(
    config: str, demo_dataset: Path, tmp_path: Path
) -> None:
    """A real `pair-audit export` of a real (synthetic) build, filled with invented answers, recorded with hashed
    ids: score.py's shares on that build equal `pair-audit ingest`'s on the same sheet."""
    from eval.__main__ import main as eval_main

    export = tmp_path / "export"
    eval_main(
        ["pair-audit", "export", "--dataset", str(demo_dataset), "--config", config, "--n_per_source", "10"]
        + ["--raters", "r1", "--output_dir", str(export)]
    )
    key = json.loads((export / "key.json").read_text())
    sheet_path = export / "for_raters" / "sheets" / "r1.csv"
    sheet = list(csv.DictReader(sheet_path.open(newline="")))
    pref_answers, imp_answers = (
        ["A", "B", "same", "not_comparable", "A"],
        [("yes", "yes"), ("no", "yes"), ("yes", "no")],
    )
    for i, row in enumerate(sheet):
        if config == "preference":
            row["better"] = pref_answers[i % len(pref_answers)]
        else:
            row["same_intent"], row["better"] = imp_answers[i % len(imp_answers)]
        row["note"] = "advice"
    filled = tmp_path / "filled.csv"
    with filled.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(sheet[0]))
        w.writeheader()
        w.writerows(sheet)
    eval_main(
        ["pair-audit", "ingest", "--key", str(export / "key.json"), "--sheets", str(filled)]
        + ["--output_dir", str(tmp_path / "ingest")]
    )
    metrics = json.loads((tmp_path / "ingest" / "metrics.json").read_text())

    judgments = tmp_path / "judgments.csv"
    record.main(
        ["pairs", "--key", str(export / "key.json"), "--sheet", str(filled), "--sample", "t"]
        + ["--out", str(judgments)]
    )
    text = judgments.read_text()
    for meta in key["items"].values():  # hashed ids only
        for k in ("chosen_id", "rejected_id", "draft_id", "revision_id", "post_id"):
            if k in meta:
                assert meta[k] not in text
    result = score.score(
        score.load_build(demo_dataset), score.load_pair_judgments(judgments), _sft_empty(), n_boot=200
    )
    ours = result[config]["by_source"]
    outcomes = (
        ("chosen_better", "rejected_better", "same", "not_comparable")
        if config == "preference"
        else ("revision_like_and_better", "revision_like", "better")
    )
    theirs = _ingest_shares(metrics)
    assert theirs, metrics.keys()
    for source, per in theirs.items():
        for outcome in outcomes:
            assert ours[source][outcome]["share"] == pytest.approx(per[outcome]), (source, outcome)
            assert ours[source][outcome]["n"] == per["n"]


def _sft_empty() -> pd.DataFrame:
    return pd.DataFrame(columns=score.SFT_COLUMNS)


def _ingest_shares(metrics: dict) -> dict[str, dict[str, float]]:
    """{pair_source (and "all sources"): {outcome: share, "n": n}} from pair-audit ingest's metrics.json."""
    out = {}
    for source, per in metrics["by_pair_source"].items():
        out[source] = {o: v["value"] for o, v in per.items() if isinstance(v, dict) and "value" in v}
        out[source]["n"] = per["n"]
    overall = metrics["overall"]
    out[score.ALL_SOURCES] = {
        o: v["value"] for o, v in overall.items() if isinstance(v, dict) and "value" in v
    }
    out[score.ALL_SOURCES]["n"] = overall["n"]
    return out


def test_committed_judgments_hold_hashed_ids_and_codes_only() -> None:
    """No text and no raw Reddit id in the committed files: every key is 16 hex digits, answers are codes."""
    hexkey = re.compile(r"[0-9a-f]{16}")
    pairs = score.load_pair_judgments(AUDIT / "judgments.csv")
    assert len(pairs) >= 120
    for col in ("post", "comment_1", "comment_2"):
        assert pairs[col].map(lambda v: bool(hexkey.fullmatch(v))).all(), col
    assert pairs["reason"].map(lambda v: bool(re.fullmatch(r"[a-z_]*", v))).all()
    sft = score.load_sft_judgments(AUDIT / "sft_judgments.csv")
    assert len(sft) >= 40
    assert sft["item"].map(lambda v: bool(hexkey.fullmatch(v))).all()
    assert sft["reason"].map(lambda v: bool(re.fullmatch(r"[a-z_]*", v))).all()


def test_pair_judged_again_in_a_later_sample(invented: dict, tmp_path: Path) -> None:
    """A pair drawn again in a later sample is judged again (blind): both rows are kept, the first verdict
    counts, a `--samples` filter keeps the later one, and repeats are reported with their agreement."""
    build = score.load_build(invented["build"])
    first = _pref("p1", "a1", "b1", "a1", sample="one")
    again = _pref("p1", "a1", "b1", "same", sample="two")
    path = tmp_path / "j.csv"
    _pairs([first, again, _pref("p2", "a3", "b3", "same", sample="two")]).to_csv(path, index=False)
    pairs = score.load_pair_judgments(path)
    result = score.score(build, pairs, invented["sft"].iloc[:0], n_boot=50)
    votes = result["preference"]["by_source"]["votes"]
    assert votes["chosen_better"]["n"] == 2 and votes["chosen_better"]["share"] == pytest.approx(0.5)
    assert result["judgments"]["judged_again_in_a_later_sample"] == {"n": 1, "same_answer": 0}
    later = score.score(build, pairs, invented["sft"].iloc[:0], samples=["two"], n_boot=50)
    assert later["preference"]["by_source"]["votes"]["same"]["share"] == 1.0
