"""The Spark engine (`build --engine spark`) against the embedded one: the same rows in every config and
split, the same manifest (but timings and the engine), the same reader reports and failures on bad input,
a clear error without pyspark or Java, and the pseudonym key nowhere in the work folder, conf or logs.

One Spark session for the module (the `spark` fixture); the builds reuse it and leave it running."""

from __future__ import annotations

import json
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from dataset_builder import ingest as reader
from dataset_builder import spark_engine, spark_session
from dataset_builder.config import BuildConfig
from dataset_builder.pipeline import build
from dataset_builder.record_filter import RecordFilter
from dataset_builder.sources import InputError, discover

# Manifest fields that may differ between engines (time, memory, where it ran).
ENGINE_FIELDS = ("timings_seconds", "cpu_seconds", "peak_rss_mib", "built_at", "build_seconds", "engine")


def config_rows(folder: Path) -> dict[tuple[str, str], list[str]]:
    """{(config, split): sorted canonical JSON rows} of a built folder."""
    rows: dict[tuple[str, str], list[str]] = {}
    for path in sorted((folder / "data").glob("*/*.parquet")):
        key = (path.parent.name, path.name.split("-")[0])
        rows.setdefault(key, []).extend(
            json.dumps(r, sort_keys=True, default=str) for r in pq.read_table(path).to_pylist()
        )
    return {key: sorted(values) for key, values in rows.items()}


def assert_same_build(embedded: Path, spark: Path) -> None:
    a, b = config_rows(embedded), config_rows(spark)
    assert sorted(a) == sorted(b)
    for key in a:
        only_embedded, only_spark = set(a[key]) - set(b[key]), set(b[key]) - set(a[key])
        assert a[key] == b[key], (
            f"{key}: {len(a[key])} rows embedded, {len(b[key])} on Spark; "
            f"{len(only_embedded)} only embedded, {len(only_spark)} only on Spark"
        )
    ma, mb = (json.loads((p / "manifest.json").read_text(encoding="utf-8")) for p in (embedded, spark))
    assert (ma["engine"], mb["engine"]) == ("duckdb", "spark")
    for name in ENGINE_FIELDS:
        ma.pop(name, None), mb.pop(name, None)
    assert differences(ma, mb) == []
    assert sorted(p.relative_to(embedded) for p in embedded.rglob("*")) == sorted(
        p.relative_to(spark) for p in spark.rglob("*")
    )


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON values differ, as paths (`.configs.sft.splits.test.num_bytes: 5581 != 5577`)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [f"{path}: {a!r:.80} != {b!r:.80}"]


def build_both(inputs: list[Path], out: Path, key: bytes, **options: Any) -> tuple[Path, Path]:
    folders = []
    for engine in ("duckdb", "spark"):
        folder = out / engine
        build(BuildConfig(inputs=inputs, out=folder, engine=engine, **options), key=key)
        folders.append(folder)
    return folders[0], folders[1]


class Trace:
    """What a Spark build left where the key must not be: every file of its work folder (scanned when the
    connection closes, before the folder is removed), the process's stderr (the driver's and the Python
    workers' log lines) and the session's conf."""

    def __init__(self) -> None:
        self.work_files: dict[str, bytes] = {}
        self.stderr = b""
        self.conf: list[tuple[str, str]] = []


@pytest.fixture(scope="module")
def default_builds(spark, demo_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """The synthetic sample built by both engines with hashed ids; the Spark build traced (`Trace`)."""
    out = tmp_path_factory.mktemp("spark-default")
    key = secrets.token_bytes(32)
    trace = Trace()
    close = spark_engine.SparkConnection.close

    def traced_close(self: spark_engine.SparkConnection) -> None:
        if not self._is_cursor:
            for path in self.workdir.rglob("*"):
                if path.is_file():
                    trace.work_files[str(path.relative_to(self.workdir))] = path.read_bytes()
            trace.conf = self.spark.sparkContext.getConf().getAll()
        close(self)

    embedded = out / "duckdb"
    build(BuildConfig(inputs=[demo_raw], out=embedded), key=key)
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryFile() as err:
        patch.setattr(spark_engine.SparkConnection, "close", traced_close)
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(err.fileno(), 2)
        try:
            build(BuildConfig(inputs=[demo_raw], out=out / "spark", engine="spark"), key=key)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        err.seek(0)
        trace.stderr = err.read()
    yield embedded, out / "spark", key, trace


def test_spark_build_has_the_embedded_rows(default_builds: tuple, spark) -> None:
    embedded, on_spark, _, _ = default_builds
    assert_same_build(embedded, on_spark)
    assert not spark.sparkContext._jsc.sc().isStopped()  # the build left the shared session running


def test_spark_build_keeps_the_key_out_of_work_files_conf_and_logs(default_builds: tuple) -> None:
    _, _, key, trace = default_builds
    assert any(name.endswith(".parquet") for name in trace.work_files)  # the trace saw the tables
    forms = [key, key.hex().encode(), key.hex().upper().encode()]
    for name, data in trace.work_files.items():
        assert not any(form in data for form in forms), name
    assert not any(form in trace.stderr for form in forms)
    conf_text = json.dumps(trace.conf).encode()
    assert not any(form in conf_text for form in forms)
    assert not any(form.decode("latin-1") in value for form in forms for value in os.environ.values())


def test_spark_build_logs_no_usernames(default_builds: tuple, demo_raw: Path) -> None:
    _, _, _, trace = default_builds
    con = duckdb.connect()
    authors = {
        row[0]
        for row in con.execute(
            f"SELECT DISTINCT author FROM read_json('{demo_raw}/*.zst', format='newline_delimited', "
            "ignore_errors=true, columns={author: 'VARCHAR'}) WHERE author IS NOT NULL"
        ).fetchall()
    } - {"[deleted]", "AutoModerator"}
    assert len(authors) > 20
    text = trace.stderr.decode("utf-8", "replace")
    assert [a for a in authors if a in text] == []


@pytest.mark.slow
def test_spark_build_with_filters_and_raw_ids_has_the_embedded_rows(
    spark, demo_raw: Path, tmp_path: Path
) -> None:
    embedded, on_spark = build_both(
        [demo_raw],
        tmp_path,
        secrets.token_bytes(32),
        subreddits=["anxiety", "depression"],
        since="2020-09-10",
        keep_reddit_ids=True,
    )
    assert config_rows(embedded)  # the filters kept rows
    assert_same_build(embedded, on_spark)


@pytest.mark.slow
def test_spark_build_of_real_dumps_has_the_embedded_rows(spark, shared_data: Path, tmp_path: Path) -> None:
    inputs = [
        shared_data / "reddit-college" / "CollegeAdvice_submissions.zst",
        shared_data / "reddit-college" / "CollegeAdvice_comments.zst",
        shared_data / "reddit-api" / "6wmniq",
    ]
    embedded, on_spark = build_both(inputs, tmp_path, secrets.token_bytes(32), similarity="lexical")
    assert_same_build(embedded, on_spark)


def staged_rows(con: Any, kind: str) -> list[str]:
    table = con.sql(f"SELECT * FROM raw_{kind}").to_arrow_table()
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in table.to_pylist())


@pytest.mark.parametrize("subreddits", [None, ["anxiety"]])
def test_ingest_tasks_read_as_the_embedded_reader(
    spark, demo_raw: Path, tmp_path: Path, subreddits: list[str] | None
) -> None:
    """Reports (counts per file, rejects with their lines: the sample has a malformed line) and staged rows
    (file_idx included) are the embedded reader's."""
    files = discover([demo_raw])
    record_filter = RecordFilter(subreddits=tuple(subreddits)) if subreddits else RecordFilter()
    con = duckdb.connect()
    expected = reader.ingest(con, files, tmp_path / "embedded", record_filter)
    assert expected.rejects.count >= 1 or subreddits  # (the pre-filter drops the malformed line)
    connection = spark_engine.SparkConnection(spark, tmp_path / "spark")
    try:
        report = connection.ingest(files, tmp_path / "spark", record_filter)
        assert report.rows == expected.rows
        assert report.files == expected.files
        assert report.rejects.as_dict() == expected.rejects.as_dict()
        assert report.reader_summary() == expected.reader_summary()
        for kind in ("submissions", "comments"):
            assert staged_rows(connection, kind) == staged_rows(con, kind)
    finally:
        connection.close()


def test_truncated_file_fails_naming_it_on_both_engines(spark, demo_raw: Path, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    data = (demo_raw / "synthetic_comments.zst").read_bytes()
    (raw / "synthetic_comments.zst").write_bytes(data[: len(data) * 2 // 3])
    (raw / "synthetic_submissions.zst").write_bytes((demo_raw / "synthetic_submissions.zst").read_bytes())
    messages = []
    for engine in ("duckdb", "spark"):
        with pytest.raises(InputError, match=r"synthetic_comments\.zst: truncated zstd stream") as info:
            build(BuildConfig(inputs=[raw], out=tmp_path / engine, engine=engine), key=b"k" * 32)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]  # nothing left behind


@pytest.mark.parametrize("missing", ["java", "pyspark"])
def test_missing_spark_extra_or_java_is_a_clear_error_before_any_work(
    demo_raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    if missing == "java":
        monkeypatch.delenv("JAVA_HOME", raising=False)
        monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
        expected = r"needs a Java runtime \(17 or newer\).*openjdk-17-jre-headless"
    else:
        monkeypatch.setitem(sys.modules, "pyspark", None)  # `import pyspark` raises ImportError
        expected = r"needs pyspark: install the kit's spark extra \(pip install '\.\[spark\]'\)"
    with pytest.raises(spark_session.SparkUnavailable, match=expected) as info:
        build(BuildConfig(inputs=[demo_raw], out=tmp_path / "out", engine="spark"), key=b"k" * 32)
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # checked before any work


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="engine must be one of duckdb, spark, not 'flink'"):
        BuildConfig(inputs=[], engine="flink")
