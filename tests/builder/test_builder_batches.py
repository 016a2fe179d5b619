"""`dataset_builder.batches.map_batches` on the embedded engine: rows, schema, counts, empty input, bounded
memory, failures, and replacing the table the query reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping

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
    assert con.execute("SELECT count(*) FROM none").fetchall() == [(0,)]
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
    assert con.execute("SELECT count(*), sum(n_chars) FROM out").fetchall()[0][0] == 60_000
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
    assert con.execute("SELECT count(*), count(DISTINCT id) FROM texts").fetchall() == [(3_000, 3_000)]
    assert con.execute("SELECT count(*) FROM texts WHERE text <> upper(text)").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM x_texts").fetchall() == [(0,)]  # views see the new table
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


# --- The build's batch functions (privacy, crisis screen, signals, sentiment) ---------------------------

KEY = b"batch-functions-test-key-0123456789"
TEXTS = [
    None,
    "",
    "mail jane.doe@mail.example.org or call (555) 201-9876",
    r"see https:\/\/example.org\/x and u/Some_User",
    "thanks hope_42, you helped. Thanks hope!",
    "I want to end my life tonight",
    "EDIT: thanks all!\n\nMy body of the post",
    "nothing to see here",
]


def _batch_functions() -> dict[str, tuple[Callable, pa.RecordBatch]]:
    from dataset_builder import privacy, signals
    from dataset_builder.sentiment import SentimentBatch

    keys = pa.array([f"k{i}" for i in range(len(TEXTS))], pa.string())
    texts = pa.array(TEXTS, pa.string())
    names = pa.array([["hope", "hope_42"]] * len(TEXTS), pa.list_(pa.string()))
    keyed = pa.RecordBatch.from_arrays([keys, texts], names=["key", "text"])
    return {
        "scrub": (privacy.ScrubBatch(["text"]), keyed),
        "pseudonyms": (privacy.PseudonymBatch(KEY), pa.RecordBatch.from_arrays([keys], names=["author"])),
        "id_hashes": (
            privacy.IdHasher(KEY),
            pa.RecordBatch.from_arrays([keys, texts], names=["_hashed_t1_comment_id", "text"]),
        ),
        "name_rewrite": (
            privacy.NameRewrite(["text"], {"hope"}),
            pa.RecordBatch.from_arrays([keys, texts, names], names=["key", "text", "names"]),
        ),
        "crisis": (privacy.crisis_flags, keyed),
        "edit_texts": (signals.edit_texts, keyed),
        "sentiment": (SentimentBatch("vader"), keyed.filter(pc.is_valid(texts))),
    }


@pytest.mark.parametrize("name", list(_batch_functions()))
def test_batch_functions_survive_cloudpickle_and_keep_the_key_out_of_repr(name: str) -> None:
    """What a distributed engine does with them: pickle (cloudpickle, as pyspark does), unpickle in another
    process, apply. The result equals the local one; a keyed function's repr hides the key."""
    cloudpickle = pytest.importorskip("pyspark.cloudpickle")
    fn, batch = _batch_functions()[name]
    local = fn(batch)
    again = cloudpickle.loads(cloudpickle.dumps(fn))
    out, counts = again(batch)
    assert out.equals(local[0]) and dict(counts) == dict(local[1])
    assert KEY.decode() not in repr(fn) and KEY.hex() not in repr(fn)


def test_batch_functions_compute_what_their_one_text_rules_compute() -> None:
    from dataset_builder.privacy import Scrubber, hashed_id, pseudonym, replace_names_counted
    from dataset_builder.signals import edit_segments
    from redditess_core.safety.crisis import screen_text

    found = {name: fn(batch) for name, (fn, batch) in _batch_functions().items()}
    scrubber = Scrubber()
    assert found["scrub"][0].column("text").to_pylist() == [scrubber(t) for t in TEXTS]
    assert dict(found["scrub"][1]) == dict(scrubber.counts)
    keys = [f"k{i}" for i in range(len(TEXTS))]
    assert found["pseudonyms"][0].column("pseudonym").to_pylist() == [pseudonym(KEY, k) for k in keys]
    out = found["id_hashes"][0]
    assert out.schema.names == ["comment_id", "text"]
    assert out.column("comment_id").to_pylist() == [hashed_id(KEY, "t1", k) for k in keys]
    rewritten = [replace_names_counted(t, ["hope", "hope_42"], {"hope"}) for t in TEXTS]
    changed = [(k, r[0]) for k, t, r in zip(keys, TEXTS, rewritten, strict=True) if r[0] != t]
    assert changed and found["name_rewrite"][0].to_pylist() == [{"key": k, "text": t} for k, t in changed]
    assert found["name_rewrite"][1]["participant_name"] == sum(r[1] for r in rewritten)
    assert found["name_rewrite"][1]["participant_name_common_word"] == sum(r[2] for r in rewritten) > 0
    flagged = [k for k, t in zip(keys, TEXTS, strict=True) if screen_text(t)]
    assert flagged and found["crisis"][0].column("key").to_pylist() == flagged
    assert found["crisis"][1] == {"screened": len(TEXTS), "flagged": len(flagged)}
    edits = [(k, "\n\n".join(edit_segments(t))) for k, t in zip(keys, TEXTS, strict=True) if edit_segments(t)]
    assert found["edit_texts"][0].to_pylist() == [{"post_id": k, "edit_text": e} for k, e in edits]


@pytest.mark.parametrize("key", [b"k" * 16, b"x" * 64, b"y" * 65, bytes(range(200))])
def test_keyed_functions_equal_hmac_for_every_key_length(key: bytes) -> None:
    """The inner/outer SHA-256 states equal `hmac` (keys shorter than, equal to and longer than a block)."""
    from dataset_builder.privacy import IdHasher, PseudonymBatch, hashed_id, pseudonym

    ids = pa.array(["abc", "", "Ünïcode_Name", None], pa.string())
    batch = pa.RecordBatch.from_arrays([ids], names=["_hashed_t3_post_id"])
    assert IdHasher(key)(batch)[0].column(0).to_pylist() == [
        None if i is None else hashed_id(key, "t3", i) for i in ids.to_pylist()
    ]
    authors = pa.RecordBatch.from_arrays([ids], names=["author"])
    assert PseudonymBatch(key)(authors)[0].column(1).to_pylist() == [
        None if a is None else pseudonym(key, a) for a in ids.to_pylist()
    ]


def test_scrub_table_counts_equal_one_scrubber_over_every_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 64 rows, flushed every 200: the manifest's `scrub_replacements` are the numbers one
    Scrubber counts over the texts one by one, and every row is scrubbed as that Scrubber scrubs it."""
    from dataset_builder import privacy

    monkeypatch.setattr(privacy, "SCRUB_BATCH_ROWS", 64)
    monkeypatch.setattr(privacy, "SCRUB_FLUSH_ROWS", 200)
    con = duckdb.connect()
    rows = [(f"c{i}", TEXTS[i % len(TEXTS)], TEXTS[(i * 3) % len(TEXTS)], i) for i in range(1_000)]
    con.register("raw", pa.table({n: [r[j] for r in rows] for j, n in enumerate(["id", "a", "b", "n"])}))
    given = privacy.Scrubber()
    counts = privacy.scrub_table(con, "SELECT id, a, b, n FROM raw", ["a", "b"], "clean", given)
    one = privacy.Scrubber()
    expected = [(i, one(a), one(b), n) for i, a, b, n in rows]
    assert con.execute("SELECT id, a, b, n FROM clean ORDER BY n").fetchall() == expected
    assert dict(counts) == dict(one.counts) == dict(given.counts)
    assert set(counts) == set(privacy.Scrubber.RULES) and counts["email"] > 0


def test_rewrite_names_rebuilds_the_table_with_the_fixed_rows_only() -> None:
    """Rows with a hit of a name of their own thread are rewritten; a hit of another thread's participant,
    rows without hits and the other columns stay; no helper table is left; every row is kept once."""
    from dataset_builder import privacy

    con = duckdb.connect()
    con.execute("""
        CREATE TABLE participants AS SELECT * FROM (VALUES ('p1', 'jane_doe99'), ('p1', 'hope'),
            ('p2', 'zed_x')) t(post_id, name);
        CREATE TABLE comments AS SELECT * FROM (VALUES
            ('c1', 'p1', 'thanks jane_doe99!', 'hope so', 1),
            ('c2', 'p1', 'I hope it works', NULL, 2),
            ('c3', 'p2', 'thanks jane_doe99', 'ok zed_x', 3),
            ('c4', 'p2', 'nothing here', NULL, 4)) t(comment_id, post_id, body, reply, n);
        CREATE TABLE hits AS SELECT * FROM (VALUES ('c1', 'p1', 'jane_doe99'), ('c1', 'p1', 'hope'),
            ('c2', 'p1', 'hope'), ('c3', 'p2', 'jane_doe99'), ('c3', 'p2', 'zed_x')) t(key, post_id, name);
    """)
    counts = privacy.rewrite_names(con, "comments", "comment_id", ["body", "reply"], "hits", {"hope"})
    assert con.execute("SELECT * FROM comments ORDER BY n").fetchall() == [
        ("c1", "p1", "thanks [user]!", "hope so", 1),
        ("c2", "p1", "I hope it works", None, 2),
        ("c3", "p2", "thanks jane_doe99", "ok [user]", 3),
        ("c4", "p2", "nothing here", None, 4),
    ]
    assert counts == {"texts": 2, "participant_name": 2, "participant_name_common_word": 0}
    assert {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()} == {
        "participants",
        "comments",
        "hits",
    }
    none = privacy.rewrite_names(con, "comments", "comment_id", ["body", "reply"], "hits", {"hope"})
    assert none == {"texts": 0, "participant_name": 0, "participant_name_common_word": 0}


def test_the_privacy_and_signal_passes_run_only_portable_sql(demo_raw) -> None:
    """Every statement the privacy stage, the signals and the id hashing run on the sample (the engine's
    own query log) transpiles to Spark SQL and passes the portability lint, except the embedded engine's
    own plumbing of `map_batches` (its staging tables) and of the sentiment worker pool (registered Arrow)."""
    import sqlglot
    from sqlglot.errors import ErrorLevel

    from dataset_builder import labels, pipeline, privacy, signals, splits, steps, support, threads
    from dataset_builder.config import BuildConfig
    from dataset_builder.ingest import ingest
    from dataset_builder.sources import discover

    privacy_steps = (privacy.PARTICIPANTS, privacy.NAME_HITS)
    cfg = BuildConfig(inputs=[demo_raw])
    con = duckdb.connect()
    ingest(con, discover([demo_raw]), demo_raw.parent / "portable-sql-work")
    threads.assemble(con, cfg)
    support.compute(con, cfg)
    con.execute("CALL enable_logging('QueryLog')")
    job = signals.start(con, cfg)
    pipeline._privacy(con, KEY)
    signals.compute(con, cfg, job)
    labels.compute(con, cfg)
    splits.compute(con, cfg)
    pipeline._assemble_rows(con, cfg)
    privacy.hash_ids(con, KEY, ["clean_posts", "clean_comments", "ess"])
    logged = [m for (m,) in con.execute("SELECT message FROM duckdb_logs WHERE type = 'QueryLog'").fetchall()]
    plumbing = ("_map_", "_rows", "CALL enable_logging")
    ran = (signals.FEEDBACK, signals.SIGNALS, labels.LABELS, splits.SPLITS, pipeline.ESS, *privacy_steps)
    step_outputs = {o for step in ran for o in step.outputs}  # their .sql files: test_builder_sql_portable
    checked = [
        m
        for m in logged
        if not any(p in m for p in plumbing)
        and not (m.startswith("CREATE OR REPLACE") and m.split()[4] in step_outputs)
    ]
    assert len(checked) > 20, checked
    assert any("_hashed_t3_post_id" in m for m in checked)  # the id hashing's query is among them
    for statement in checked:
        sqlglot.transpile(statement, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE)
        assert steps.portability_problems(statement) == [], statement
        assert "UPDATE" not in statement.upper().split()[:1], statement
