"""`dataset_builder.batches.map_batches` on the embedded engine: rows, schema, counts, empty input, bounded
memory, failures, and replacing the table the query reads."""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from dataset_builder.batches import map_batches, schema_of

SCHEMA = pa.schema([("id", pa.int64()), ("text", pa.string()), ("n_chars", pa.int32())])


def upper_with_lengths(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, Mapping[str, int]]:
    """Upper-cases `text`, adds its length; counts rows, batches and texts with an `x`."""
    text = batch.column("text")
    out = pa.RecordBatch.from_arrays(
        [batch.column("id"), pc.utf8_upper(text), pc.utf8_length(text)], schema=SCHEMA
    )
    with_x = pc.sum(pc.match_substring(text, "x")).as_py() or 0
    return out, {"rows": batch.num_rows, "batches": 1, "with_x": with_x, "never": 0}


def evens_only(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, Mapping[str, int]]:
    """Keeps the rows with an even id (a filter: fewer rows out than in, often none)."""
    keep = pc.equal(pc.bit_wise_and(batch.column("id"), 1), 0)
    return batch.filter(keep).select(["id"]), {"kept": pc.sum(keep).as_py() or 0}


def _texts(con: duckdb.DuckDBPyConnection, rows: int, chars: int = 5) -> None:
    con.execute(
        f"CREATE TABLE texts AS SELECT i AS id, repeat(CASE WHEN i % 3 = 0 THEN 'x' ELSE 'a' END, {chars}) "
        f"|| i::VARCHAR AS text FROM range({rows}) t(i)"
    )


def test_rows_schema_and_counts_over_many_batches() -> None:
    con = duckdb.connect()
    _texts(con, 2_345)
    counts = map_batches(
        con, "SELECT id, text FROM texts", upper_with_lengths, SCHEMA, "out", batch_rows=100, flush_rows=250
    )
    assert counts == {"rows": 2_345, "batches": 24, "with_x": 782, "never": 0}
    assert "never" in counts  # a key every batch counted as 0 is kept
    assert con.execute("DESCRIBE out").fetchall()[0][:2] == ("id", "BIGINT")
    assert [r[:2] for r in con.execute("DESCRIBE out").fetchall()] == [
        ("id", "BIGINT"),
        ("text", "VARCHAR"),
        ("n_chars", "INTEGER"),
    ]
    got = con.execute("SELECT id, text, n_chars FROM out ORDER BY id").fetchall()
    expected = con.execute("SELECT id, upper(text), length(text) FROM texts ORDER BY id").fetchall()
    assert got == expected
    assert not _staging_tables(con)


def test_filtering_fn_and_types_cast_to_the_schema() -> None:
    """A function returning fewer rows (none for some batches) and int64 where the schema says int32."""
    con = duckdb.connect()
    _texts(con, 1_000)
    schema = pa.schema([("id", pa.int32())])
    counts = map_batches(con, "SELECT id FROM texts WHERE id % 10 < 2", evens_only, schema, "evens", 7)
    assert counts == {"kept": 100}
    assert con.execute("DESCRIBE evens").fetchall()[0][:2] == ("id", "INTEGER")
    assert [r[0] for r in con.execute("SELECT id FROM evens ORDER BY id").fetchall()] == [
        i for i in range(1_000) if i % 10 in (0,)
    ]


def test_empty_input_creates_an_empty_table_with_the_schema() -> None:
    con = duckdb.connect()
    _texts(con, 10)
    counts = map_batches(con, "SELECT id, text FROM texts WHERE id < 0", upper_with_lengths, SCHEMA, "none")
    assert counts == {}
    assert con.execute("SELECT count(*) FROM none").fetchone() == (0,)
    assert [r[:2] for r in con.execute("DESCRIBE none").fetchall()] == [
        ("id", "BIGINT"),
        ("text", "VARCHAR"),
        ("n_chars", "INTEGER"),
    ]


def test_memory_stays_bounded_batches_are_not_all_held() -> None:
    """60k texts of 1,000 characters (about 60 MB of output): the Arrow memory the build holds while the
    function runs stays within a few flushes of batches, not the whole output."""
    con = duckdb.connect()
    _texts(con, 60_000, chars=1_000)
    peak = 0

    def measured(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, Mapping[str, int]]:
        nonlocal peak
        peak = max(peak, pa.total_allocated_bytes())
        return upper_with_lengths(batch)

    before = pa.total_allocated_bytes()
    map_batches(
        con, "SELECT id, text FROM texts", measured, SCHEMA, "out", batch_rows=1_000, flush_rows=4_000
    )
    assert con.execute("SELECT count(*), sum(n_chars) FROM out").fetchone()[0] == 60_000
    assert peak - before < 12 * 2**20, f"{(peak - before) / 2**20:.1f} MiB held"


def test_a_failing_fn_propagates_and_leaves_no_table() -> None:
    con = duckdb.connect()
    _texts(con, 5_000)
    con.execute("CREATE TABLE kept AS SELECT 1 AS id")

    def fails_late(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, Mapping[str, int]]:
        if pc.max(batch.column("id")).as_py() >= 3_000:
            raise RuntimeError("scorer broke")
        return upper_with_lengths(batch)

    for table in ("new_table", "kept"):
        with pytest.raises(RuntimeError, match="scorer broke"):
            map_batches(
                con,
                "SELECT id, text FROM texts ORDER BY id",
                fails_late,
                SCHEMA,
                table,
                500,
                flush_rows=1_000,
            )
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert tables == {"texts", "kept"}
    assert con.execute("SELECT * FROM kept").fetchall() == [(1,)]  # an existing table stays as it was


def test_wrong_columns_are_an_error_naming_the_table() -> None:
    con = duckdb.connect()
    _texts(con, 10)
    with pytest.raises(ValueError, match=r"into wrong_out: .*\['id'\].*expected \['id', 'text', 'n_chars'\]"):
        map_batches(con, "SELECT id, text FROM texts", evens_only, SCHEMA, "wrong_out")
    assert not _staging_tables(con)


def test_the_table_may_be_the_one_the_query_reads() -> None:
    con = duckdb.connect()
    _texts(con, 3_000)
    con.execute("CREATE VIEW x_texts AS SELECT id FROM texts WHERE text LIKE 'x%'")
    schema = pa.schema([("id", pa.int64()), ("text", pa.string())])

    def upper(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, Mapping[str, int]]:
        out = pa.RecordBatch.from_arrays(
            [batch.column("id"), pc.utf8_upper(batch.column("text"))], schema=schema
        )
        return out, {}

    map_batches(con, "SELECT id, text FROM texts", upper, schema, "texts", batch_rows=256)
    assert con.execute("SELECT count(*), count(DISTINCT id) FROM texts").fetchone() == (3_000, 3_000)
    assert con.execute("SELECT count(*) FROM texts WHERE text <> upper(text)").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM x_texts").fetchone() == (0,)  # views see the new table
    assert not _staging_tables(con)


def test_schema_of_a_query() -> None:
    con = duckdb.connect()
    _texts(con, 3)
    assert schema_of(con, "SELECT id, text, id > 1 AS big FROM texts") == pa.schema(
        [("id", pa.int64()), ("text", pa.string()), ("big", pa.bool_())]
    )


def _staging_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        if r[0].startswith("_map_")
    ]
