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
    with pytest.raises(
        InputError,
        match=r"RC_bad\.zst: corrupt zstd data: decoding fails in the block at compressed bytes 0-",
    ):
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


def _realistic_zst(path: Path, n: int = 20_000, frames: int = 1) -> Path:
    """Varied text (compresses like real dumps: many zstd blocks), so damage lands inside a block."""
    import random

    rng = random.Random(0)
    words = "the of and to in is you that it he was for on are as with his they at be this have from".split()
    lines = [
        json.dumps(
            {
                "id": f"c{i}",
                "link_id": "t3_p",
                "parent_id": "t3_p",
                "body": " ".join(rng.choices(words, k=40)),
            }
        )
        for i in range(n)
    ]
    return _zst(path, lines, frames=frames)


def _damage(path: Path, at: int, length: int = 200) -> Path:
    data = bytearray(path.read_bytes())
    data[at : at + length] = bytes(length)
    path.write_bytes(bytes(data))
    return path


def _reported_range(message: str) -> tuple[int, int]:
    import re

    start, end = re.search(r"compressed bytes ([\d,]+)-([\d,]+)", message).groups()
    return int(start.replace(",", "")), int(end.replace(",", ""))


@pytest.mark.parametrize("at", [8_000, 50_000, 200_000])
def test_corruption_reports_the_real_compressed_offset(tmp_path: Path, at: int) -> None:
    path = _damage(_realistic_zst(tmp_path / "RC_big.zst"), at)
    with pytest.raises(InputError, match=r"RC_big\.zst: corrupt zstd data") as info:
        list(iter_ndjson_chunks(discover([path])[0]))
    start, end = _reported_range(str(info.value))
    # zstd detects damage when it decodes a whole block: the reported block holds or follows the damage,
    # and lies well inside the file (not "near byte 0").
    assert end > at and start > 0 and end - start < 200_000
    assert "near byte 0" not in str(info.value)


def test_corruption_in_a_later_frame_reports_its_offset(tmp_path: Path) -> None:
    path = _realistic_zst(tmp_path / "RC_frames.zst", frames=3)
    size = path.stat().st_size
    _damage(path, size * 5 // 6)
    with pytest.raises(InputError, match=r"frame that starts at byte (?!0\b)[\d,]+") as info:
        list(iter_ndjson_chunks(discover([path])[0]))
    start, end = _reported_range(str(info.value))
    assert size * 2 // 3 < end and start < size


def test_unreadable_inputs_fail_up_front(tmp_path: Path) -> None:
    good = (
        _zst(tmp_path / "in" / "RC_a.zst", [json.dumps({"id": "c"})])
        if (tmp_path / "in").mkdir() is None
        else None
    )
    dangling = tmp_path / "in" / "RC_gone.zst"
    dangling.symlink_to(tmp_path / "nowhere.zst")
    with pytest.raises(InputError, match=r"RC_gone\.zst: cannot read \(No such file or directory\)"):
        discover([tmp_path / "in"])
    dangling.unlink()
    assert [f.path for f in discover([tmp_path / "in"])] == [good]


def as_unprivileged(argv: list[str]) -> list[str]:
    """`argv` run without the power to read what file permissions forbid: as is for a normal user; for
    root, under `setpriv` without the DAC override capabilities (skips when setpriv is missing)."""
    import os
    import shutil

    if os.geteuid() != 0:
        return argv
    if not shutil.which("setpriv"):
        pytest.skip("root without setpriv: permissions cannot be enforced")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *argv]


def test_unreadable_folder_and_file_fail_up_front(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    inputs = tmp_path / "in"
    (inputs / "locked").mkdir(parents=True)
    _zst(inputs / "RC_ok.zst", [json.dumps({"id": "c"})])
    _zst(inputs / "locked" / "RC_hidden.zst", [json.dumps({"id": "d"})])
    secret = _zst(tmp_path / "RC_secret.zst", [json.dumps({"id": "e"})])
    os.chmod(inputs / "locked", 0o000)
    os.chmod(secret, 0o000)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from dataset_builder.sources import InputError, discover\n"
        "for target in sys.argv[1:]:\n"
        "    try:\n        discover([Path(target)])\n        print('no error')\n"
        "    except InputError as exc:\n        print(exc)\n"
    )
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[2]), "PATH": "/usr/bin:/bin"}
    try:
        result = subprocess.run(
            as_unprivileged([sys.executable, "-c", script, str(inputs), str(secret)]),
            capture_output=True,
            text=True,
            env=env,
        )
    finally:
        os.chmod(inputs / "locked", 0o755)
        os.chmod(secret, 0o644)
    assert result.stdout.splitlines() == [
        f"{inputs / 'locked'}: cannot read folder (Permission denied)",
        f"{secret}: cannot read (Permission denied)",
    ], result.stderr


def test_build_outputs_and_hidden_folders_are_never_inputs(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    keep = _zst(inputs / "RC_a.zst", [json.dumps({"id": "c"})])
    earlier = inputs / "redditess"
    (earlier / "data" / "comments").mkdir(parents=True)
    (earlier / "manifest.json").write_text("{}")
    (earlier / "data" / "notes.json").write_text("{}")
    tmp_sibling = inputs / ".redditess.tmp-1234abcd" / ".work" / "staging"
    tmp_sibling.mkdir(parents=True)
    (tmp_sibling / "RC_part.jsonl").write_text('{"id": "x"}\n')
    own = inputs / "out"
    own.mkdir()
    _zst(own / "RC_own.zst", [json.dumps({"id": "o"})])
    assert [f.path for f in discover([inputs], exclude=[own])] == [keep]
