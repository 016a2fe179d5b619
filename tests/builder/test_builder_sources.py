"""Readers and ingest: formats, type quirks, bad input (file/line/byte offset), API JSON."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import zstandard

from dataset_builder.ingest import ingest
from dataset_builder.sources import InputError, discover, iter_ndjson_chunks, read_api_json


def _zst(path: Path, lines: list[str], frames: int = 1) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    cut = len(data) // frames
    parts = [data[i * cut : (i + 1) * cut if i < frames - 1 else len(data)] for i in range(frames)]
    path.write_bytes(b"".join(zstandard.ZstdCompressor().compress(p) for p in parts))
    return path


def _ingest(tmp_path: Path, *paths: Path):
    con = duckdb.connect()
    report = ingest(con, discover(list(paths)), tmp_path / "work")
    return con, report


def test_discover_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        discover([tmp_path / "missing.zst"])
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match=r"notes\.txt: unknown file type '\.txt'"):
        discover([tmp_path / "notes.txt"])
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    with pytest.raises(InputError, match="no input files"):
        discover([empty_dir])
    (tmp_path / "RC_2020-01.jsonl").write_bytes(b"")
    with pytest.raises(InputError, match=r"RC_2020-01\.jsonl: empty file"):
        discover([tmp_path / "RC_2020-01.jsonl"])


def test_kind_from_name_or_first_record(tmp_path: Path) -> None:
    (tmp_path / "things.jsonl").write_text(json.dumps({"id": "a", "title": "t", "selftext": "x"}) + "\n")
    _zst(tmp_path / "RC_2006-01.zst", [json.dumps({"id": "c"})])
    _zst(tmp_path / "Depression_submissions.zst", [json.dumps({"id": "s"})])
    kinds = {f.path.name: f.kind for f in discover([tmp_path])}
    assert kinds == {
        "things.jsonl": "submissions",
        "RC_2006-01.zst": "comments",
        "Depression_submissions.zst": "submissions",
    }


def test_truncated_zst_names_file_and_offset(tmp_path: Path) -> None:
    full = _zst(tmp_path / "full.zst", [json.dumps({"id": str(i), "body": "x" * 50}) for i in range(5000)])
    data = full.read_bytes()
    broken = tmp_path / "RC_broken.zst"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=rf"RC_broken\.zst: truncated zstd stream.*at byte {len(data) // 2}"):
        list(iter_ndjson_chunks(discover([broken])[0]))


def test_corrupt_zst_names_file(tmp_path: Path) -> None:
    bad = tmp_path / "RC_bad.zst"
    bad.write_bytes(b"this is not zstd data at all" * 10)
    with pytest.raises(InputError, match=r"RC_bad\.zst: corrupt zstd data near byte 0"):
        list(iter_ndjson_chunks(discover([bad])[0]))


def test_multi_frame_zst_reads_every_frame(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": f"c{i}", "link_id": "t3_p", "parent_id": "t3_p", "body": "hello"})
        for i in range(300)
    ]
    path = _zst(tmp_path / "RC_multi.zst", lines, frames=3)
    _, report = _ingest(tmp_path, path)
    assert report.rows["comments"] == 300


def test_malformed_lines_counted_with_line_numbers(tmp_path: Path) -> None:
    good = lambda i: json.dumps({"id": f"c{i}", "link_id": "t3_p", "parent_id": "t3_p", "body": "hello"})  # noqa: E731
    lines = [good(1), "", "{broken", good(2), "[1, 2]", json.dumps({"id": "c3"}), "   ", good(4)]
    path = tmp_path / "RC_dirty.jsonl"
    path.write_text("\n".join(lines) + "\n")
    con, report = _ingest(tmp_path, path)
    assert report.rows["comments"] == 3
    got = {(e["file"], e["line"], e["reason"]) for e in report.rejects.examples}
    assert got == {
        ("RC_dirty.jsonl", 3, "malformed JSON"),
        ("RC_dirty.jsonl", 5, "not a JSON object"),
        ("RC_dirty.jsonl", 6, "missing field link_id, parent_id, body for comments"),
    }
    lines_kept = sorted(r[0] for r in con.sql("SELECT line FROM raw_comments").fetchall())
    assert lines_kept == [1, 4, 8]


def test_type_quirks_normalized(tmp_path: Path) -> None:
    path = tmp_path / "RS_quirks.jsonl"
    records = [
        {
            "id": "t3_a",
            "title": "A",
            "selftext": "x",
            "created_utc": "1134000000",
            "edited": False,
            "score": None,
        },
        {
            "id": "b",
            "title": "B",
            "selftext": "x",
            "created_utc": 1134000001.0,
            "edited": 1134000500,
            "score": 5,
        },
        {
            "id": "c",
            "title": "C",
            "selftext": "x",
            "created_utc": 1134000002,
            "edited": True,
            "over_18": True,
            "_meta": {"retrieved_2nd_on": 1700000000},
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    con, _ = _ingest(tmp_path, path)
    rows = con.sql(
        "SELECT id, created_utc, edited, score, over_18, retrieved FROM raw_submissions ORDER BY id"
    ).fetchall()
    assert rows == [
        ("a", 1134000000, False, None, False, 0),
        ("b", 1134000001, True, 5, False, 0),
        ("c", 1134000002, True, None, True, 1700000000),
    ]


def test_reddit_api_thread_and_morechildren(tmp_path: Path) -> None:
    post = {
        "kind": "t3",
        "data": {"id": "p1", "title": "T", "selftext": "S", "author": "op", "created_utc": 1.6e9},
    }
    reply = {
        "kind": "t1",
        "data": {
            "id": "r1",
            "link_id": "t3_p1",
            "parent_id": "t1_c1",
            "body": "thanks",
            "author": "op",
            "is_submitter": True,
            "replies": "",
        },
    }
    top = {
        "kind": "t1",
        "data": {
            "id": "c1",
            "link_id": "t3_p1",
            "parent_id": "t3_p1",
            "body": "hi there",
            "author": "u1",
            "replies": {"kind": "Listing", "data": {"children": [reply]}},
        },
    }
    more = {"kind": "more", "data": {"count": 1, "children": ["c2"]}}
    listing = lambda children: {"kind": "Listing", "data": {"children": children}}  # noqa: E731
    (tmp_path / "thread.json").write_text(json.dumps([listing([post]), listing([top, more])]))
    child = {
        "kind": "t1",
        "data": {"id": "c2", "link_id": "t3_p1", "parent_id": "t3_p1", "body": "late", "author": "u2"},
    }
    (tmp_path / "morechildren-001.json").write_text(
        json.dumps({"json": {"errors": [], "data": {"things": [child]}}})
    )
    submissions, comments, n_more = read_api_json(tmp_path / "thread.json")
    assert (
        [s["id"] for s in submissions] == ["p1"]
        and [c["id"] for c in comments] == ["c1", "r1"]
        and n_more == 1
    )
    assert comments[1]["is_submitter"] == "true"
    con, report = _ingest(tmp_path, tmp_path)
    assert report.rows == {"submissions": 1, "comments": 3} and report.more_placeholders == 1
    assert sorted(r[0] for r in con.sql("SELECT id FROM raw_comments").fetchall()) == ["c1", "c2", "r1"]


def test_unknown_json_layout(tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({"hello": 1}))
    with pytest.raises(InputError, match=r"odd\.json: unknown JSON layout"):
        read_api_json(path)
