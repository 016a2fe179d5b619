"""`python -m assist screen`: JSONL in, one verdict a line out, clear errors naming the line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from assist.__main__ import ScreenArgs, main, run_screen

ROOT = Path(__file__).resolve().parents[2]
RECORDS = [
    {"id": "a1", "text": "I took 30 of my sleeping pills an hour ago"},
    {"id": 2, "text": "This exam is killing me"},
    {"id": "a3", "text": "I don’t want to live anymore"},
    {"id": "a4", "text": ""},
]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cli(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "assist", "screen", *args], capture_output=True, text=True, env=env, cwd=ROOT
    )


def test_screen_round_trip_through_the_cli(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", [json.dumps(r, ensure_ascii=False) for r in RECORDS] + [""])
    out = tmp_path / "out" / "screened.jsonl"
    done = _cli(["--input", str(src), "--output", str(out)])
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == [
        {"id": "a1", "high_risk": True, "categories": ["plan_means"]},
        {"id": 2, "high_risk": False, "categories": []},
        {"id": "a3", "high_risk": True, "categories": ["passive_ideation"]},
        {"id": "a4", "high_risk": False, "categories": []},
    ]
    assert "screened 4 records: 2 high-risk" in done.stderr
    assert "sleeping pills" not in done.stderr and "live anymore" not in done.stderr  # no text in logs


def test_bad_line_stops_with_its_number_and_writes_nothing(tmp_path: Path) -> None:
    good = json.dumps(RECORDS[0])
    for bad, reason in [
        ("{not json", "in.jsonl:2: Expecting property name"),
        ('{"id": "x"}', 'in.jsonl:2: needs a "text" string'),
        ('{"text": "hi"}', 'in.jsonl:2: needs an "id"'),
        ('["id", "text"]', "in.jsonl:2: not a JSON object"),
    ]:
        src = _write(tmp_path / "in.jsonl", [good, bad, good])
        out = tmp_path / "out.jsonl"
        done = _cli(["--input", str(src), "--output", str(out)])
        assert done.returncode == 2 and reason in done.stderr, done.stderr
        assert not out.exists() and not list(tmp_path.glob(".out.jsonl.*"))
    missing = _cli(["--input", str(tmp_path / "nope.jsonl"), "--output", str(out)])
    assert missing.returncode == 2 and "input file not found" in missing.stderr


def test_skip_bad_lines_counts_them(tmp_path: Path, caplog) -> None:
    src = _write(tmp_path / "in.jsonl", [json.dumps(RECORDS[0]), "{oops", json.dumps(RECORDS[1]), "[]"])
    out = tmp_path / "out.jsonl"
    counts = run_screen(ScreenArgs(input=str(src), output=str(out), skip_bad_lines=True))
    assert counts == {"screened": 2, "high_risk": 1, "skipped": 2}
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["a1", 2]
    assert "skipped malformed lines of" in caplog.text and "2, 4" in caplog.text


def test_screen_with_a_crisis_model(tmp_path: Path, crisis_models: dict[str, Path]) -> None:
    src = _write(tmp_path / "in.jsonl", [json.dumps(RECORDS[1])])
    out = tmp_path / "out.jsonl"
    args = [
        "screen",
        "--input",
        str(src),
        "--output",
        str(out),
        "--crisis-model",
        str(crisis_models["flags_all"]),
    ]
    assert main(args) == 0
    row = json.loads(out.read_text())
    assert row["high_risk"] is True and row["categories"] == ["model"] and row["model_score"] > 0.9
    bad = [
        "screen",
        "--input",
        str(src),
        "--output",
        str(out),
        "--crisis_model",
        str(crisis_models["odd_labels"]),
    ]
    assert main(bad) == 2
