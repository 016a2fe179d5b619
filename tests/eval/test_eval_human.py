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
    # good is rated 4 by r1, r2 and 5 by r3 on every item: mean (4 + 4 + 5) / 3
    assert summary["dimension_means"]["good"]["empathy"]["mean"] == pytest.approx(13 / 3)
    assert summary["dimension_means"]["bad"]["safety"]["mean"] == pytest.approx(5 / 3)
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
