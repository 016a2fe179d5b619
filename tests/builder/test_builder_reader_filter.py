"""Filters in the reader (issue 13): the byte pre-filter never drops a record the exact check keeps,
`--since`/`--until`, per-file counts, and bad input under a filter."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import duckdb
import pytest
import zstandard

import dataset_builder.ingest as ingest_module
import dataset_builder.sources as sources_module
from dataset_builder.config import BuildConfig
from dataset_builder.ingest import ingest
from dataset_builder.record_filter import RecordFilter, parse_utc
from dataset_builder.sources import InputError, discover, iter_ndjson_chunks

NAMES = ("gradschool", "college_advice2")
OTHERS = ("AskAcademia", "GradSchoolAdmissions", "grad", "College", "advice", "ApplyingToCollege")
DEC_2021 = 1638316800  # 2021-12-01T00:00:00Z


def _ingest(work: Path, paths: list[Path], record_filter: RecordFilter):
    con = duckdb.connect()
    report = ingest(con, discover(paths), work, record_filter)
    return con, report


def _kept_ids(con: duckdb.DuckDBPyConnection, kind: str) -> list[str]:
    return sorted(r[0] for r in con.sql(f"SELECT id FROM raw_{kind}").fetchall())


def _spell(name: str, rng: random.Random) -> str:
    """`name` as a JSON string body: random ASCII case, some characters as \\u escapes (either hex case)."""
    out = []
    for ch in name:
        ch = ch.upper() if rng.random() < 0.3 else ch
        if rng.random() < 0.05:
            escape = f"\\u{ord(ch):04x}"
            out.append(escape.upper().replace("\\U", "\\u") if rng.random() < 0.5 else escape)
        else:
            out.append(ch)
    return "".join(out)


def _tricky_line(i: int, rng: random.Random) -> str:
    """One comment line written the ways real and odd dump writers do."""
    selected = rng.random() < 0.3
    name = rng.choice(NAMES) if selected else rng.choice(OTHERS)
    value = _spell(name, rng)
    if rng.random() < 0.1:
        value = " " * rng.randint(1, 2) + value + " " * rng.randint(0, 2)  # trimmed by the exact check
    mention = lambda: rng.choice(NAMES) if rng.random() < 0.1 else rng.choice(OTHERS)  # noqa: E731
    body_name = mention()
    body = rng.choice(
        [
            f"see r/{body_name} and \"subreddit\":\"{body_name}\" and {{'subreddit': '{body_name}'}}",
            f'a "quoted" \\ backslash, emoji \U0001f600, accents é, name {body_name.upper()}',
            "nothing to see here",
            "Kelvin \u212a and dotted \u0130 letters",
        ]
    )
    fields = [
        ("id", f"c{i}"),
        ("link_id", "t3_p"),
        ("parent_id", "t3_p"),
        ("body", body),
        ("created_utc", DEC_2021 + i),
        ("subreddit_name_prefixed", f"r/{name if rng.random() < 0.9 else mention()}"),
        ("permalink", f"/r/{name if rng.random() < 0.9 else mention()}/comments/p/x/c{i}/"),
    ]
    if rng.random() < 0.1:
        fields.append(("crosspost_parent_list", [{"subreddit": rng.choice(NAMES), "id": "x"}]))
    rng.shuffle(fields)
    ensure_ascii = rng.random() < 0.5
    colon = rng.choice([":", ": ", " : ", ":\t"])
    parts = [json.dumps(k) + colon + json.dumps(v, ensure_ascii=ensure_ascii) for k, v in fields]
    if rng.random() < 0.95:  # a few records have no subreddit field at all
        # the value is spliced in raw so that escapes and odd spellings reach the line as written
        parts.insert(rng.randint(0, len(parts)), '"subreddit"' + colon + '"' + value + '"')
    return "{" + rng.choice([",", ", "]).join(parts) + "}"


def _reference_keep(line: str, names: tuple[str, ...]) -> bool:
    """The documented exact check, by the slow procedure: json.loads and compare."""
    value = json.loads(line).get("subreddit")
    if not isinstance(value, str):
        return False
    stripped = value.strip(" ")
    ascii_lower = "".join(c.lower() if "A" <= c <= "Z" else c for c in stripped)
    return ascii_lower in names


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_prefilter_never_drops_a_record_the_exact_check_keeps(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    lines = [_tricky_line(i, rng) for i in range(3000)]
    path = tmp_path / "RC_2021-12.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(("\n".join(lines) + "\n").encode()))
    expected = sorted(f"c{i}" for i, line in enumerate(lines) if _reference_keep(line, NAMES))
    assert 500 < len(expected) < 2500  # the generator covers both sides

    fast = RecordFilter(subreddits=NAMES)
    con, report = _ingest(tmp_path / "fast", [path], fast)
    assert _kept_ids(con, "comments") == expected
    (counts,) = report.files
    assert counts.lines_prefiltered_out > 500  # it does filter
    # exact-only reference run: every line parsed, same records kept
    con_ref, report_ref = _ingest(
        tmp_path / "ref", [path], RecordFilter(subreddits=NAMES, byte_prefilter=False)
    )
    assert _kept_ids(con_ref, "comments") == expected
    assert report_ref.files[0].lines_prefiltered_out == 0 and report_ref.files[0].lines_parsed == 3000


def test_prefilter_tricky_cases_one_by_one(tmp_path: Path) -> None:
    """Named cases of the kind above, each pinned (id -> kept)."""
    cases = {
        "plain": ('{"id":"a","subreddit":"GradSchool"}', True),
        "spaced_key": ('{"id":"b", "subreddit" : "gradschool"}', True),
        "upper": ('{"id":"c","subreddit":"GRADSCHOOL"}', True),
        "escaped_letter": ('{"id":"d","subreddit":"Grad\\u0053chool"}', True),
        "escaped_upper_hex": ('{"id":"e","subreddit":"\\u0047\\u0052\\u0041\\u0044school"}', True),
        "padded": ('{"id":"f","subreddit":"  GradSchool "}', True),
        "in_body_only": (
            '{"id":"g","subreddit":"College","body":"try \\"subreddit\\":\\"GradSchool\\""}',
            False,
        ),
        "prefixed_only": ('{"id":"h","subreddit":"College","subreddit_name_prefixed":"r/GradSchool"}', False),
        "no_subreddit_field": ('{"id":"i","subreddit_name_prefixed":"r/GradSchool"}', False),
        "longer_name": ('{"id":"j","subreddit":"GradSchoolAdmissions"}', False),
        "kelvin_sign": ('{"id":"k","subreddit":"\u212aelvin"}', False),  # not ASCII: not r/kelvin
        "crosspost": (
            '{"id":"l","subreddit":"College","crosspost_parent_list":[{"subreddit":"GradSchool"}]}',
            False,
        ),
        "escaped_key": ('{"id":"m","\\u0073ubreddit":"GradSchool"}', True),
        "null": ('{"id":"n","subreddit":null,"body":"GradSchool"}', False),
    }
    lines = []
    for label, (line, _) in cases.items():
        # keep the raw spelling: add the fields at the end of the original text
        lines.append(line[:-1] + f',"title":"{label}","created_utc":{DEC_2021}}}')
    path = tmp_path / "RS_2021-12.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    con, report = _ingest(tmp_path / "w", [path], RecordFilter(subreddits=("gradschool", "kelvin")))
    expected = sorted(json.loads(line)["id"] for line, keep in cases.values() if keep)
    assert _kept_ids(con, "submissions") == expected
    assert {r[0] for r in con.sql("SELECT subreddit FROM raw_submissions").fetchall()} == {"gradschool"}
    (counts,) = report.files
    assert counts.lines_read == len(cases) and counts.records_kept == len(expected)
    assert counts.lines_prefiltered_out + counts.lines_parsed == counts.lines_read
    assert counts.records_excluded == counts.records_parsed - len(expected)


def test_since_until_inclusive_exclusive_on_created_utc(tmp_path: Path) -> None:
    stamps = {
        "before": DEC_2021 - 1,
        "at_since": DEC_2021,  # inclusive
        "as_string": str(DEC_2021 + 10),  # 2007-2015 dumps write a string
        "as_float": DEC_2021 + 20.0,
        "last_second": DEC_2021 + 31 * 86400 - 1,
        "at_until": DEC_2021 + 31 * 86400,  # exclusive
        "missing": None,
    }
    records = []
    for label, stamp in stamps.items():
        record = {"id": label, "title": "t", "selftext": "x", "subreddit": "GradSchool"}
        if stamp is not None:
            record["created_utc"] = stamp
        records.append(json.dumps(record))
    path = tmp_path / "RS_x.jsonl"
    path.write_text("\n".join(records) + "\n")
    window = RecordFilter(since=parse_utc("2021-12-01"), until=parse_utc("2022-01-01"))
    con, report = _ingest(tmp_path / "w", [path], window)
    assert _kept_ids(con, "submissions") == sorted(["at_since", "as_string", "as_float", "last_second"])
    (counts,) = report.files
    assert (counts.lines_parsed, counts.records_excluded, counts.records_kept) == (7, 3, 4)
    # open-ended, and combined with a subreddit that is not there
    con, _ = _ingest(tmp_path / "w2", [path], RecordFilter(since=DEC_2021 + 11))
    assert _kept_ids(con, "submissions") == sorted(["as_float", "last_second", "at_until"])
    con, report = _ingest(
        tmp_path / "w3", [path], RecordFilter(subreddits=("college",), until=DEC_2021 + 31 * 86400)
    )
    assert _kept_ids(con, "submissions") == [] and report.files[0].lines_prefiltered_out == 7


def test_parse_utc_and_config_bounds() -> None:
    assert parse_utc("2021-12-01") == DEC_2021
    assert parse_utc("2021-12-01T00:00:00Z") == DEC_2021
    assert parse_utc("2021-12-01T02:00+02:00") == DEC_2021
    assert parse_utc("2021-12-01 06:30") == DEC_2021 + 6 * 3600 + 1800  # no offset: UTC
    assert parse_utc(str(DEC_2021)) == DEC_2021
    assert datetime.fromtimestamp(parse_utc("2022-01-01"), UTC).month == 1
    with pytest.raises(ValueError, match="not a UTC date: 'Dec 2021'"):
        parse_utc("Dec 2021")
    with pytest.raises(ValueError, match="must be before --until"):
        BuildConfig(since="2022-01-01", until="2021-12-01")
    with pytest.raises(ValueError, match="not a UTC date"):
        BuildConfig(until="yesterday")
    cfg = BuildConfig(subreddits=["r/GradSchool", "College"], since="2021-12-01", until="2022-01-01")
    record_filter = RecordFilter.from_config(cfg)
    assert record_filter == RecordFilter(("college", "gradschool"), DEC_2021, DEC_2021 + 31 * 86400)
    assert record_filter.describe()["since_utc"] == "2021-12-01T00:00:00Z"
    with pytest.raises(ValueError, match="must be ASCII"):
        BuildConfig(subreddits=["Ünicode"])


def test_counts_and_line_numbers_under_a_filter(tmp_path: Path) -> None:
    """Bad lines: a candidate is parsed and rejected with its true line number; a non-candidate is
    pre-filtered out; blank lines are read, never parsed as records; kept rows keep their file line."""
    good = lambda i, sub: json.dumps(  # noqa: E731
        {"id": f"c{i}", "link_id": "t3_p", "parent_id": "t3_p", "body": "hello", "subreddit": sub}
    )
    lines = [
        good(1, "College"),
        good(2, "GradSchool"),
        "",
        '{"id": "c3", "subreddit": "GradSchool", broken',
        "{broken and unrelated",
        json.dumps({"id": "c5", "subreddit": "GradSchool"}),  # missing fields
        good(6, "GradSchool"),
        good(7, "College") + "   ",
    ]
    path = tmp_path / "RC_dirty.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(("\n".join(lines)).encode()))  # no final newline
    con, report = _ingest(tmp_path / "w", [path], RecordFilter(subreddits=("gradschool",)))
    assert sorted(con.sql("SELECT line, id FROM raw_comments").fetchall()) == [(2, "c2"), (7, "c6")]
    assert {(e["line"], e["reason"]) for e in report.rejects.examples} == {
        (4, "malformed JSON"),
        (6, "missing field link_id, parent_id, body for comments"),
    }
    (counts,) = report.files
    assert (counts.lines_read, counts.lines_prefiltered_out, counts.lines_parsed) == (8, 4, 4)
    assert (counts.records_parsed, counts.records_rejected, counts.records_excluded, counts.records_kept) == (
        4,
        2,
        0,
        2,
    )
    summary = report.reader_summary()
    assert summary["totals"]["records_kept"] == 2 and summary["filter"]["subreddits"] == ["gradschool"]
    # without a filter the same file reads as before: every line parsed, the unrelated broken line rejected
    _, report = _ingest(tmp_path / "w2", [path], RecordFilter())
    (counts,) = report.files
    assert (counts.lines_read, counts.lines_prefiltered_out, counts.lines_parsed, counts.records_parsed) == (
        8,
        0,
        8,
        7,
    )
    assert counts.records_rejected == 3 and counts.records_kept == 4


def test_truncated_zst_still_named_under_a_filter(tmp_path: Path) -> None:
    lines = [json.dumps({"id": str(i), "body": "x" * 50, "subreddit": "GradSchool"}) for i in range(5000)]
    data = zstandard.ZstdCompressor().compress(("\n".join(lines) + "\n").encode())
    broken = tmp_path / "RC_broken.zst"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"RC_broken\.zst: truncated zstd stream"):
        _ingest(tmp_path / "w", [broken], RecordFilter(subreddits=("gradschool",)))


def test_reddit_api_json_gets_the_exact_check(tmp_path: Path) -> None:
    listing = lambda children: {"kind": "Listing", "data": {"children": children}}  # noqa: E731
    post = {"kind": "t3", "data": {"id": "p1", "title": "T", "selftext": "S", "subreddit": "GradSchool",
                                   "created_utc": DEC_2021 + 5.0}}  # fmt: skip
    comment = lambda i, sub, t: {  # noqa: E731
        "kind": "t1",
        "data": {"id": f"c{i}", "link_id": "t3_p1", "parent_id": "t3_p1", "body": "hi", "subreddit": sub,
                 "created_utc": t, "replies": ""},
    }  # fmt: skip
    thread = [listing([post]), listing([comment(1, "GradSchool", DEC_2021), comment(2, "College", DEC_2021),
                                        comment(3, "gradschool", DEC_2021 - 5)])]  # fmt: skip
    (tmp_path / "thread.json").write_text(json.dumps(thread))
    con, report = _ingest(tmp_path / "w", [tmp_path / "thread.json"], RecordFilter(("gradschool",), DEC_2021))
    assert _kept_ids(con, "submissions") == ["p1"] and _kept_ids(con, "comments") == ["c1"]
    (counts,) = report.files
    assert counts.lines_read is None and (counts.records_parsed, counts.records_kept) == (4, 2)
    assert counts.records_excluded == 2


def test_bench_reader_workers_agree_on_a_small_month(tmp_path: Path) -> None:
    """benchmarks/bench_reader.py's measurements run and agree with each other (not a timing test)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_reader", Path(__file__).resolve().parents[2] / "benchmarks" / "bench_reader.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rng = random.Random(5)
    lines = [_tricky_line(i, rng) for i in range(400)]
    lines = [line for line in lines if isinstance(json.loads(line).get("subreddit"), str)]
    path = tmp_path / "RC_2021-12.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(("\n".join(lines) + "\n").encode()))
    floor = bench._timed(bench.worker_floor, [path])
    assert floor["lines"] == len(lines) and floor["cpu_seconds"] >= 0
    reference = bench.worker_reference([path], "gradschool")
    ingested = bench.worker_ingest([path], "GradSchool", tmp_path / "w", True)
    # the reference lower()s without stripping; the tricky padded values differ, so compare on the rest
    padded = sum(
        1 for line in lines if json.loads(line)["subreddit"] != json.loads(line)["subreddit"].strip()
    )
    assert abs(ingested["reader"]["records_kept"] - reference["kept"]) <= padded
    assert ingested["staging_bytes"] > 0
    # --baseline: this checkout against itself, one round, workers in fresh processes
    ab = bench.compare([str(path), str(path)], bench.ROOT, 1, tmp_path)
    assert set(ab) == {"floor"} | {
        f"ingest_{name}_{which}" for name in ("GradSchool", "CollegeAdvice") for which in ("this", "baseline")
    }
    kept = {label: r["rounds"][0]["reader"]["records_kept"] for label, r in ab.items() if label != "floor"}
    assert kept["ingest_GradSchool_this"] == kept["ingest_GradSchool_baseline"] > 0
    for label, r in ab.items():  # the busiest thread's CPU is part of the process's CPU
        run = r["rounds"][0]
        assert 0 <= run["busiest_thread_cpu_seconds"] <= run["cpu_seconds"] + 0.02, label
    assert ab["ingest_GradSchool_this"]["median"]["over_floor"] > 0


def test_bench_thread_cpu_finds_the_busiest_thread() -> None:
    """bench_reader.ThreadCPU: a thread that spins for 0.3 s of CPU while the main thread sleeps is the
    busiest, with about its CPU, also after it has ended."""
    import importlib.util
    import threading
    import time

    spec = importlib.util.spec_from_file_location(
        "bench_reader", Path(__file__).resolve().parents[2] / "benchmarks" / "bench_reader.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    def spin() -> None:
        end = time.thread_time() + 0.3
        while time.thread_time() < end:
            pass

    with bench.ThreadCPU() as threads:
        worker = threading.Thread(target=spin)
        worker.start()
        worker.join()
        time.sleep(0.05)
    assert 0.2 <= threads.busiest <= 0.5
    assert threads.used[threading.get_native_id()] < 0.1  # the main thread only waited


def _reference_ids(paths: list[Path], keep) -> list[str]:
    """Ids of the records `keep(record)` selects, by json.loads on every line (the slow procedure)."""
    ids = []
    for path in paths:
        with open(path, "rb") as handle:
            reader = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(handle)
            for line in reader.read().splitlines():
                record = json.loads(line)
                if keep(record):
                    ids.append(str(record["id"]))
    return sorted(ids)


def test_real_dumps_filtered_like_the_reference(shared_data: Path, tmp_path: Path) -> None:
    college = shared_data / "reddit-college"
    comments = [college / "CollegeAdvice_comments.zst", college / "CollegeMajors_comments.zst"]
    con, report = _ingest(tmp_path / "w", comments, RecordFilter(subreddits=("collegeadvice",)))
    expected = _reference_ids(comments, lambda r: r["subreddit"].lower() == "collegeadvice")
    assert _kept_ids(con, "comments") == expected and len(expected) > 500
    majors = next(f for f in report.files if f.file == "CollegeMajors_comments.zst")
    assert majors.records_kept == 0 and majors.lines_prefiltered_out > 0.95 * majors.lines_read

    monthly = shared_data / "pushshift-monthly" / "RC_2006-01.zst"  # all-Reddit, original Pushshift file
    since, until = parse_utc("2006-01-10"), parse_utc("2006-01-20")
    con, report = _ingest(tmp_path / "m", [monthly], RecordFilter(("reddit.com",), since, until))
    expected = _reference_ids(
        [monthly], lambda r: r["subreddit"] == "reddit.com" and since <= int(r["created_utc"]) < until
    )
    assert _kept_ids(con, "comments") == expected and 0 < len(expected) < report.files[0].lines_read


def test_cli_rejects_bad_dates_with_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "dataset_builder", "build", "--input", str(tmp_path), "--out", str(tmp_path / "o"),
         "--since", "2022-01-01", "--until", "Dec 2021"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 2 and "error: not a UTC date: 'Dec 2021'" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("fmt", ["zst-frames", "jsonl"])
@pytest.mark.parametrize("final_newline", [True, False])
def test_chunks_are_newline_aligned_and_cover_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, final_newline: bool
) -> None:
    """`iter_ndjson_chunks` joins the decompressor's pieces once: for any chunk size, the chunks end at
    line ends (the last one may lack its newline) and together are the file, byte for byte, including
    lines longer than a piece or a chunk and chunks that are exactly one piece. Small file reads make
    many small pieces (a chunk holds at least one piece)."""
    monkeypatch.setattr(sources_module, "READ_BYTES", 1000)
    rng = random.Random(7)
    text = lambda n: "".join(rng.choices("abcdefgh ", k=n))  # noqa: E731  (compresses little)
    lines = [json.dumps({"id": f"c{i}", "body": text(rng.choice([0, 5, 300, 5000]))}) for i in range(400)]
    content = ("\n".join(lines) + ("\n" if final_newline else "")).encode()
    if fmt == "jsonl":
        path = tmp_path / "RC_2021-12.jsonl"
        path.write_bytes(content)
    else:  # several frames, as concatenated dumps are
        path = tmp_path / "RC_2021-12.zst"
        thirds = [content[: len(content) // 3], content[len(content) // 3 :]]
        path.write_bytes(b"".join(zstandard.ZstdCompressor().compress(part) for part in thirds))
    source = discover([path])[0]
    for chunk_bytes in (1, 100, 4096, 1 << 16, 1 << 24):
        chunks = [chunk for chunk, _ in iter_ndjson_chunks(source, chunk_bytes=chunk_bytes)]
        assert b"".join(chunks) == content, chunk_bytes
        assert all(chunk.endswith(b"\n") for chunk in chunks[:-1])
        assert all(chunk.strip() for chunk in chunks)
        if chunk_bytes <= 4096:
            assert len(chunks) > 3
    # a file that is one decompressed piece ending in a newline comes back as that piece (no copy needed)
    single = tmp_path / "RC_single.jsonl"
    single.write_bytes(b'{"id": "a", "body": "b"}\n')
    assert [chunk for chunk, _ in iter_ndjson_chunks(discover([single])[0], chunk_bytes=1)] == [
        single.read_bytes()
    ]


@pytest.mark.parametrize("byte_prefilter", [True, False])
def test_line_numbers_across_many_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, byte_prefilter: bool
) -> None:
    """Line numbers are counted by the reader across chunks (the chunker no longer counts): kept rows and
    rejected lines carry their true file line whatever the chunk size, with and without the pre-filter."""
    rng = random.Random(11)
    lines, kept, bad = [], [], []
    for i in range(600):
        number = i + 1
        if i % 97 == 5:
            lines.append("")  # blank lines count as lines
        elif i % 89 == 7:
            lines.append('{"id": "x", "subreddit": "GradSchool", broken')
            bad.append(number)
        else:
            sub = rng.choice(["GradSchool", "College", "gradschool ", "AskAcademia"])
            lines.append(
                json.dumps(
                    {
                        "id": f"c{i}",
                        "link_id": "t3_p",
                        "parent_id": "t3_p",
                        "body": "".join(rng.choices("xyz ", k=i % 50)),
                        "subreddit": sub,
                    }
                )  # fmt: skip
            )
            if sub.strip().lower() == "gradschool":
                kept.append((number, f"c{i}"))
    path = tmp_path / "RC_2021-12.jsonl"  # plain: file reads are the decompressed pieces
    path.write_text("\n".join(lines) + "\n")
    record_filter = RecordFilter(subreddits=("gradschool",), byte_prefilter=byte_prefilter)
    monkeypatch.setattr(sources_module, "READ_BYTES", 300)  # small decompressed pieces: many chunks
    monkeypatch.setattr(ingest_module, "iter_ndjson_chunks", partial(iter_ndjson_chunks, chunk_bytes=1000))
    assert len(list(ingest_module.iter_ndjson_chunks(discover([path])[0]))) > 10
    con, report = _ingest(tmp_path / "w", [path], record_filter)
    assert sorted(con.sql("SELECT line, id FROM raw_comments").fetchall()) == kept
    assert sorted(e["line"] for e in report.rejects.examples) == bad
    (counts,) = report.files
    assert counts.lines_read == 600 and counts.records_kept == len(kept)


def test_clean_texts_converts_only_the_texts_that_need_it() -> None:
    """`clean_texts` (kept records, before staging) equals `clean_text` on every text, nulls kept, over a
    chunked column from DuckDB's JSON reader; texts without entities or control characters are untouched."""
    import io

    import pyarrow as pa

    from dataset_builder.ingest import clean_text, clean_texts

    rng = random.Random(3)
    pieces = [
        "plain",
        "&amp;gt; quote",
        "&#x200B;",
        "tab\tand\nnewline",
        "bell\x07",
        "caf\u00e9",
        "&nope",
        " ",
    ]
    bodies = [None if rng.random() < 0.1 else "".join(rng.choices(pieces, k=3)) for _ in range(500)]
    lines = "".join(json.dumps({"id": f"c{i}", "body": b}) + "\n" for i, b in enumerate(bodies)).encode()
    con = duckdb.connect()
    halves = [
        con.read_json(
            io.BytesIO(part), format="newline_delimited", columns={"id": "VARCHAR", "body": "VARCHAR"}
        ).to_arrow_table()
        for part in (
            lines[: lines.index(b"\n", len(lines) // 2) + 1],
            lines[lines.index(b"\n", len(lines) // 2) + 1 :],
        )
    ]
    table = pa.concat_tables(halves)
    assert table["body"].num_chunks == 2
    cleaned = clean_texts(table)
    assert cleaned["body"].to_pylist() == [None if b is None else clean_text(b) for b in bodies]
    assert cleaned["id"].to_pylist() == [f"c{i}" for i in range(500)]
    assert any(b is not None and clean_text(b) != b for b in bodies)


def test_an_error_while_staging_stops_the_reader_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader decompresses in a second thread. An error while parsing or staging reaches the caller
    unchanged, and that thread ends at once instead of decoding on while the traceback is held."""
    import threading
    import time

    lines = [json.dumps({"id": f"c{i}", "link_id": "t3_p", "parent_id": "t3_p", "body": "b" * 200,
                         "subreddit": "GradSchool" if i % 3 else "other"}) for i in range(3000)]  # fmt: skip
    path = tmp_path / "RC_2021-12.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(("\n".join(lines) + "\n").encode()))
    monkeypatch.setattr(sources_module, "READ_BYTES", 500)
    monkeypatch.setattr(ingest_module, "iter_ndjson_chunks", partial(iter_ndjson_chunks, chunk_bytes=2000))

    def readers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "reader-prefetch"]

    assert not readers()

    def fail(*args: object, **kwargs: object) -> int:
        raise OSError("disk full while staging")

    monkeypatch.setattr(ingest_module.Staging, "add", fail)
    with pytest.raises(OSError, match="disk full while staging") as caught:
        _ingest(tmp_path / "w", [path], RecordFilter(subreddits=("gradschool",)))
    assert caught.traceback  # held: the threads must stop without waiting for it to go
    deadline = time.monotonic() + 10
    while readers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not readers()
