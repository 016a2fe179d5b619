"""Human-evaluation kit: export -> filled sheets -> ingest round trip, agreement, DPO2 pairs, errors."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from datasets import load_dataset

from eval.agreement import agreement_summary
from eval.human import HumanExportArguments, HumanIngestArguments, run_export, run_ingest, sheet_columns
from eval.judge import DIMENSIONS
from eval.stats import win_rate_summary

RATERS = ["r1", "r2", "r3"]


def _export(two_systems: tuple[Path, Path], out: Path) -> dict:
    run_export(
        HumanExportArguments(
            generations=[str(p) for p in two_systems], raters=RATERS, output_dir=str(out), seed=3
        )
    )
    return json.loads((out / "key.json").read_text())


def _fill(export: Path, key: dict, dest: Path, prefers_good: dict[str, set[str]]) -> list[Path]:
    """Rater r prefers 'good' on items in prefers_good[r], 'bad' otherwise; ratings 4 vs 2 (r3 gives 5 vs 1)."""
    paths = []
    for rater in RATERS:
        rows = list(
            csv.DictReader((export / "for_raters" / "sheets" / f"{rater}.csv").open(encoding="utf-8"))
        )
        for row in rows:
            systems = key["items"][row["item_id"]]["systems"]
            good_side = "1" if systems["1"] == "good" else "2"
            winner = (
                good_side if row["item_id"] in prefers_good[rater] else ("2" if good_side == "1" else "1")
            )
            row["preference"] = winner
            for side in "12":
                for d in DIMENSIONS:
                    hi, lo = (5, 1) if rater == "r3" else (4, 2)
                    row[f"reply_{side}_{d}"] = str(hi if side == good_side else lo)
        path = dest / f"{rater}-filled.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=sheet_columns())
            writer.writeheader()
            writer.writerows(rows)
        paths.append(path)
    return paths


def test_export_is_blinded_and_randomized(two_systems: tuple[Path, Path], tmp_path: Path) -> None:
    key = _export(two_systems, tmp_path / "export")
    assert len(key["items"]) == 8
    sides = [it["systems"]["1"] for it in key["items"].values()]
    assert set(sides) == {"good", "bad"}  # sides are randomized (seed 3 puts each system left at least once)
    order_prompt_ids = [it["prompt_id"] for it in key["items"].values()]
    assert order_prompt_ids != sorted(order_prompt_ids)  # item order is shuffled
    sheets = {
        r: list(csv.DictReader((tmp_path / "export" / "for_raters" / "sheets" / f"{r}.csv").open()))
        for r in RATERS
    }
    assert [row["item_id"] for row in sheets["r1"]] != [
        row["item_id"] for row in sheets["r2"]
    ]  # per-rater order
    html = (tmp_path / "export" / "for_raters" / "form.html").read_text()
    sheet_text = (tmp_path / "export" / "for_raters" / "sheets" / "r1.csv").read_text()
    for text in (html, sheet_text):
        assert '"good"' not in text and '"bad"' not in text and "good.jsonl" not in text  # no system names
    assert not re.search(r"(src|href)=\"https?:", html)  # self-contained, works offline
    assert all(item_id in html for item_id in key["items"])
    assert json.dumps(sheet_columns()) in html  # the form saves exactly the sheet's columns


def test_form_script_is_valid_javascript(two_systems: tuple[Path, Path], tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    _export(two_systems, tmp_path / "export")
    html = (tmp_path / "export" / "for_raters" / "form.html").read_text()
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    assert len(scripts) == 1
    (tmp_path / "form.js").write_text(scripts[0])
    proc = subprocess.run(
        [node, "--check", str(tmp_path / "form.js")], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    data = re.search(r'<script id="data" type="application/json">(.*?)</script>', html, flags=re.S).group(1)
    parsed = json.loads(data)
    assert parsed["columns"] == sheet_columns() and len(parsed["items"]) == 8
    assert sorted(parsed["orders"]["r1"]) == list(range(8))


def test_round_trip_statistics_agreement_and_pairs(two_systems: tuple[Path, Path], tmp_path: Path) -> None:
    export = tmp_path / "export"
    key = _export(two_systems, export)
    ids = sorted(key["items"])
    prefers = {"r1": set(ids), "r2": set(ids[:6]), "r3": set(ids[:3])}
    sheets = _fill(export, key, tmp_path, prefers)
    out = tmp_path / "ingest"
    summary = run_ingest(
        HumanIngestArguments(export_dir=str(export), sheets=[str(p) for p in sheets], output_dir=str(out))
    )
    assert summary["n_ratings"] == 24 and summary["raters"] == {"r1": 8, "r2": 8, "r3": 8}
    (wr,) = summary["win_rates"]
    assert (wr["system_a"], wr["system_b"]) == ("good", "bad")
    assert (wr["wins"], wr["losses"], wr["ties"]) == (8 + 6 + 3, 5 + 2, 0)
    assert wr["n_posts"] == 8 and "over 8 clusters" in wr["ci_method"]
    assert wr["win_rate_excluding_ties"] == pytest.approx(17 / 24)
    # good is rated 4 by r1, r2 and 5 by r3 on every item: mean (4 + 4 + 5) / 3
    assert summary["dimension_means"]["good"]["empathy"]["mean"] == pytest.approx(13 / 3)
    assert summary["dimension_means"]["bad"]["safety"]["mean"] == pytest.approx(5 / 3)
    assert summary["dimension_means"]["good"]["empathy"]["n_clusters"] == 8
    assert "over posts" in summary["dimension_ci_method"]
    # Agreement equals the agreement module on the matrix built by hand.
    matrix = [["good" if i in prefers[r] else "bad" for r in RATERS] for i in ids]
    expected = agreement_summary(matrix, level="nominal")
    got = summary["agreement"]["preference"]
    assert got["fleiss_kappa"] == pytest.approx(expected["fleiss_kappa"])
    assert got["krippendorff_alpha"] == pytest.approx(expected["krippendorff_alpha"])
    # DPO2 pairs: a strict majority prefers good on ids[:6] (3 or 2 of 3 votes), bad on ids[6:] (2 of 3).
    pairs = load_dataset("parquet", data_files=str(out / "dpo2_pairs.parquet"), split="train")
    assert len(pairs) == 8
    for row in pairs:
        assert row["pair_source"] == "human" and row["prompt"][0]["role"] == "system"
        assert row["chosen"][0]["role"] == "assistant" and row["chosen_score"] > row["rejected_score"]
        expected_winner = "good" if row["item_id"] in ids[:6] else "bad"
        assert row["chosen_id"].startswith(expected_winner + ":") and row["chosen_id"].endswith(
            row["post_id"]
        )
    jsonl = [json.loads(line) for line in (out / "dpo2_pairs.jsonl").read_text().splitlines()]
    assert len(jsonl) == 8 and set(jsonl[0]) >= {
        "prompt",
        "chosen",
        "rejected",
        "post_id",
        "chosen_id",
        "rejected_id",
    }
    assert summary["provenance"]["export_id"] == key["export_id"]


def test_ingest_lists_every_offending_row(two_systems: tuple[Path, Path], tmp_path: Path) -> None:
    export = tmp_path / "export"
    key = _export(two_systems, export)
    sheets = _fill(export, key, tmp_path, {r: set() for r in RATERS})
    rows = list(csv.DictReader(sheets[0].open()))
    rows[0]["reply_1_empathy"] = "7"
    rows[1]["rater"] = "mallory"
    rows[2]["item_id"] = "not-an-item"
    rows[3]["preference"] = "3"
    rows[4]["reply_2_safety"] = "2.5"
    with sheets[0].open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=sheet_columns())
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(ValueError) as err:
        run_ingest(
            HumanIngestArguments(
                export_dir=str(export), sheets=[str(p) for p in sheets], output_dir=str(tmp_path / "out")
            )
        )
    msg = str(err.value)
    assert "5 problem(s)" in msg
    for needle in (
        "r1-filled.csv row 2: reply_1_empathy='7' outside the 1-5 scale",
        "r1-filled.csv row 3: unknown rater 'mallory'",
        "r1-filled.csv row 4: unknown item_id 'not-an-item'",
        "r1-filled.csv row 5: preference '3'",
        "r1-filled.csv row 6: reply_2_safety='2.5'",
    ):
        assert needle in msg
    assert not (tmp_path / "out").exists()  # nothing written on bad input

    dup = tmp_path / "dup.csv"
    dup.write_text(sheets[1].read_text() + "".join(sheets[1].read_text().splitlines(True)[1:2]))
    with pytest.raises(ValueError, match="duplicate rating"):
        run_ingest(
            HumanIngestArguments(export_dir=str(export), sheets=[str(dup)], output_dir=str(tmp_path / "out"))
        )
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        run_ingest(
            HumanIngestArguments(
                export_dir=str(export), sheets=[str(empty)], output_dir=str(tmp_path / "out")
            )
        )


def _fill_votes(export: Path, key: dict, dest: Path, votes: dict[str, dict[str, str]]) -> list[Path]:
    """votes[rater][item_id] = "good", "bad" or "tie" (every item rated; scores all 3)."""
    paths = []
    for rater in RATERS:
        rows = list(
            csv.DictReader((export / "for_raters" / "sheets" / f"{rater}.csv").open(encoding="utf-8"))
        )
        for row in rows:
            systems = key["items"][row["item_id"]]["systems"]
            want = votes[rater][row["item_id"]]
            row["preference"] = "tie" if want == "tie" else ("1" if systems["1"] == want else "2")
            for side in "12":
                for d in DIMENSIONS:
                    row[f"reply_{side}_{d}"] = "3"
        path = dest / f"{rater}-votes.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=sheet_columns())
            writer.writeheader()
            writer.writerows(rows)
        paths.append(path)
    return paths


def test_dpo2_needs_a_strict_majority_of_all_raters(two_systems: tuple[Path, Path], tmp_path: Path) -> None:
    export = tmp_path / "export"
    key = _export(two_systems, export)
    ids = sorted(key["items"])
    # item 0: good, tie, tie -> one vote of three: no pair (the old rule kept it: 1 vote vs 0)
    # item 1: good, good, tie -> 2 of 3: pair, good chosen; item 2: bad, bad, good -> pair, bad chosen
    # item 3: good, bad, tie -> no pair; items 4-7: all tie -> no pair
    plan = [("good", "tie", "tie"), ("good", "good", "tie"), ("bad", "bad", "good"), ("good", "bad", "tie")]
    plan += [("tie", "tie", "tie")] * 4
    votes = {r: {i: plan[k][n] for k, i in enumerate(ids)} for n, r in enumerate(RATERS)}
    sheets = _fill_votes(export, key, tmp_path, votes)
    summary = run_ingest(
        HumanIngestArguments(
            export_dir=str(export), sheets=[str(p) for p in sheets], output_dir=str(tmp_path / "o")
        )
    )
    pairs = [json.loads(line) for line in (tmp_path / "o" / "dpo2_pairs.jsonl").read_text().splitlines()]
    assert summary["dpo2_pairs"]["n"] == 2 and "all raters" in summary["dpo2_pairs"]["rule"]
    assert {p["item_id"]: p["chosen_system"] for p in pairs} == {ids[1]: "good", ids[2]: "bad"}
    assert all(p["n_raters"] == 3 and p["chosen_score"] == 2 for p in pairs)
    (wr,) = summary["win_rates"]
    assert (wr["wins"], wr["losses"], wr["ties"]) == (5, 3, 16)
    assert wr["tie_rate"] == pytest.approx(16 / 24) and wr["win_rate_excluding_ties"] == pytest.approx(5 / 8)


def test_win_rate_interval_over_posts_is_wider_than_over_rating_rows(
    two_systems: tuple[Path, Path], tmp_path: Path
) -> None:
    """Three raters who agree on every item carry the evidence of one: the interval must show it."""
    export = tmp_path / "export"
    key = _export(two_systems, export)
    ids = sorted(key["items"])
    side = {i: ("good" if k % 4 != 0 else "bad") for k, i in enumerate(ids)}  # 6 of 8 items for good
    sheets = _fill_votes(export, key, tmp_path, {r: dict(side) for r in RATERS})
    summary = run_ingest(
        HumanIngestArguments(
            export_dir=str(export), sheets=[str(p) for p in sheets], output_dir=str(tmp_path / "o")
        )
    )
    (wr,) = summary["win_rates"]
    rows = ["a"] * wr["wins"] + ["b"] * wr["losses"]
    naive = win_rate_summary(rows, method="bootstrap")
    assert wr["n"] == 24 and wr["win_rate"] == pytest.approx(0.75)
    assert (wr["ci_high"] - wr["ci_low"]) > 1.4 * (naive["ci_high"] - naive["ci_low"])
    # ... and it matches a bootstrap over the 8 items with one verdict each (identical resampling units).
    per_item = win_rate_summary(["a" if side[i] == "good" else "b" for i in ids], method="bootstrap")
    assert (wr["ci_high"] - wr["ci_low"]) == pytest.approx(per_item["ci_high"] - per_item["ci_low"], abs=0.1)
