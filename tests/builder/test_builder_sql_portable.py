"""The portable relational steps (`dataset_builder/steps.py`, `dataset_builder/sql/*.sql`).

- every `.sql` file belongs to a declared step, creates exactly its declared outputs, reads only its
  declared inputs, transpiles to Spark SQL with sqlglot (ErrorLevel.RAISE), and passes the lint of the
  constructs that transpile but mean something else on Spark;
- each step's output tables on the synthetic sample (several configurations, crafted edge inputs) and
  `stats` on the demo folder equal the committed snapshots `snapshots/<step>.json`, which were generated from
  the current `.sql` files (`step_snapshots.py` says how to regenerate them after a deliberate rule change);
- the split hash in SQL equals its Python oracle `split_of`;
- parameter binding: types, lists, errors.
"""

from __future__ import annotations

import hashlib
import random
import shutil
from pathlib import Path

import duckdb
import pytest
import sqlglot
import step_snapshots
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from dataset_builder import (
    eligibility,
    export,
    labels,
    normalize,
    pairs,
    pipeline,
    privacy,
    revisions,
    signals,
    splits,
    stats,
    steps,
    support,
    threads,
)
from dataset_builder.config import BuildConfig
from dataset_builder.synthetic import write_sample

DECLARED = [
    *normalize.NORMALIZE.values(),
    stats.STATS,
    splits.SPLITS,
    labels.LABELS,
    *threads.DEDUP.values(),
    threads.THREADS,
    threads.THREAD_COUNTS,
    support.SUPPORT,
    eligibility.POSTS,
    privacy.PARTICIPANTS,
    privacy.NAME_HITS,
    revisions.EARLIER,
    revisions.NAME_HITS,
    signals.FEEDBACK,
    signals.SIGNALS,
    export.ROWS,
    eligibility.REPLIES,
    pairs.PREFERENCE,
    pairs.SFT,
    pairs.IMPROVEMENT_CANDIDATES,
    pairs.LEXICAL,
    pairs.IMPROVEMENT,
    pipeline.ESS,
]
SQL_FILES = sorted(steps.SQL_DIR.glob("*.sql"))
_CFG = BuildConfig(inputs=[Path(".")])
PARAMS = {
    "splits": splits.params(_CFG),
    "stats": stats.params(),
    "labels": labels.params(_CFG),
    "threads": threads.params(BuildConfig(inputs=[Path(".")], subreddits=["anxiety"])),
    "normalize_submissions": normalize.params(3),
    "normalize_comments": normalize.params(3),
    "support": support.params(_CFG),
    "eligibility_posts": eligibility.params(_CFG),
    "privacy_name_hits": privacy.name_hit_params(),
    "revisions_name_hits": privacy.name_hit_params(),
    "signals": signals.params(_CFG),
    "eligibility_replies": eligibility.reply_params(_CFG),
    "pairs_preference": pairs.preference_params(_CFG),
    "pairs_sft": pairs.sft_params(_CFG),
    "pairs_improvement_candidates": pairs.improvement_params(_CFG),
    "pairs_similarity_lexical": {"stopwords": list(pairs.STOPWORDS)},
    "pairs_improvement": pairs.intent_params(_CFG, "encoder"),
}


def test_every_sql_file_is_a_declared_step() -> None:
    assert SQL_FILES, steps.SQL_DIR
    assert sorted(s.path for s in DECLARED) == SQL_FILES
    assert len({s.name for s in DECLARED}) == len(DECLARED)


@pytest.mark.parametrize("step", DECLARED, ids=lambda s: s.name)
def test_step_reads_only_its_declared_inputs(step: steps.Step) -> None:
    """Tables a statement reads are the declared inputs or outputs of earlier statements (CTEs aside)."""
    statements = step.statements()  # also checks the outputs against the declaration
    read: set[str] = set()
    for i, statement in enumerate(statements):
        ctes = {cte.alias for cte in statement.query.find_all(exp.CTE)}
        tables = {t.name for t in statement.query.find_all(exp.Table)} - ctes
        earlier = {s.output for s in statements[:i]}
        assert tables <= set(step.inputs) | earlier, (step.name, statement.output, tables - set(step.inputs))
        read |= tables - earlier
    assert read == set(step.inputs), (step.name, "declared but not read", set(step.inputs) - read)


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.name)
def test_sql_file_transpiles_to_spark(path: Path) -> None:
    spark = steps.transpile_file(path, "spark")
    assert len(spark) == len(sqlglot.parse(path.read_text(encoding="utf-8"), read="duckdb"))
    for text in spark:  # the Spark text parses back as Spark SQL
        sqlglot.parse_one(text, read="spark", error_level=ErrorLevel.RAISE)


@pytest.mark.parametrize("step", DECLARED, ids=lambda s: s.name)
def test_step_renders_for_spark_with_parameters_bound(step: steps.Step) -> None:
    rendered = step.render(PARAMS.get(step.name, {}), dialect="spark")
    assert [output for output, _, _ in rendered] == list(step.outputs)
    for _, _, text in rendered:
        parsed = sqlglot.parse_one(text, read="spark", error_level=ErrorLevel.RAISE)
        assert not list(parsed.find_all(exp.Placeholder, exp.Parameter)), text
        assert "UBIGINT" not in text and "EXCLUDE" not in text


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.name)
def test_sql_file_avoids_the_known_traps(path: Path) -> None:
    assert steps.portability_problems(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ("SELECT regexp_replace(a, 'x', 'y') AS b FROM t", "regexp_replace"),
        ("SELECT regexp_replace(a, 'x', 'y', 'i') AS b FROM t", "regexp_replace"),
        ("SELECT len(tokens) AS n FROM t", "len()"),
        ("SELECT LEN (tokens) AS n FROM t", "len()"),
        ("SELECT CAST('0x' || substr(md5(a), 1, 8) AS UBIGINT) AS h FROM t", "unsigned"),
        ("SELECT a::UINTEGER AS h FROM t", "unsigned"),
        ("SELECT '0xff' AS h FROM t", "hex strings"),
        ("SELECT * EXCLUDE (body) FROM t", "EXCLUDE"),
        ("SELECT * REPLACE (lower(a) AS a) FROM t", "EXCLUDE"),
        ("SELECT a FROM t SEMI JOIN u USING (a)", "SEMI"),
        ("SELECT a FROM t ANTI JOIN u ON t.a = u.a", "SEMI"),
        ("SELECT [1, 2] AS l FROM t", "literals"),
        ("SELECT {'a': 1} AS s FROM t", "literals"),
        ("SELECT a * 0.5 AS h FROM t", "DECIMAL"),
        ("SELECT a < 1e-3 AS h FROM t", "DECIMAL"),
        ("SELECT CAST(0.5 AS DECIMAL(3, 2)) AS h FROM t", "DECIMAL"),
        ("SELECT quantile_cont(x, 0.5) AS m FROM t", "quantile"),
        ("SELECT quantile(x, 0.5) AS m FROM t", "quantile"),
        ("SELECT median(x) AS m FROM t", "quantile"),
        ("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS m FROM t", "quantile"),
        ("SELECT a FROM t QUALIFY row_number() OVER (PARTITION BY a ORDER BY b) = 1", "QUALIFY"),
        (r"SELECT regexp_replace(a, '(x)|(y)', '\2', 'g') AS b FROM t", "replacement"),
        ("SELECT regexp_replace(a, '(x)', '$1', 'g') AS b FROM t", "replacement"),
        ("SELECT regexp_replace(a, 'x', 'US$', 'g') AS b FROM t", "replacement"),
        # found running the steps on Spark (tests/builder/test_steps_spark.py)
        ("SELECT length(a) AS n FROM t", "INT in Spark"),
        ("SELECT coalesce(strpos(a, 'x'), 0) + 1 AS n FROM t", "INT in Spark"),
        ("SELECT CASE WHEN a IS NULL THEN 0 ELSE array_length(l) END AS n FROM t", "INT in Spark"),
        (
            "SELECT CAST((instr('0123456789abcdef', a) - 1) * 268435456 AS DOUBLE) AS h FROM t",
            "wraps past 2^31",
        ),
        ("SELECT sum(n) AS total FROM t", "HUGEINT"),
        ("SELECT coalesce(sum(n), 0) AS total FROM t", "HUGEINT"),
        ("SELECT sum(n) OVER () AS total FROM t", "HUGEINT"),
        ("SELECT round(x, 4) AS r FROM t", "round(x, n)"),
        ("SELECT regexp_matches(a, '^\\[deleted\\]$') AS gone FROM t", "final line terminator"),
        ("SELECT a FROM t WHERE a ~ 'x(?=y)'", "lookaround"),
        ("SELECT regexp_extract_all(a, '(x)|(y)', 2) AS g FROM t", "takes no part"),
        ("SELECT regexp_extract(a, '(x)', 1) AS g FROM t", "takes no part"),
        ("SELECT array_to_string(regexp_extract_all(a, '(x)|(y)', 2), ',') AS g FROM t", "takes no part"),
    ],
)
def test_lint_flags_each_trap(sql: str, fragment: str) -> None:
    problems = steps.portability_problems(sql)
    assert problems and any(fragment in p for p in problems), problems


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT regexp_replace(a, '(?i)x', 'y', 'g') AS b, CAST(length(a) AS BIGINT) AS n, "
        "CAST(array_length(l) AS BIGINT) AS m FROM t",
        "SELECT a * CAST(0.5 AS DOUBLE) AS h, CAST(a AS BIGINT) AS i, 2 * a AS j FROM t -- len(x) in a comment",
        "SELECT a FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.a = t.a)",
        "SELECT coalesce(array_to_string(regexp_extract_all(a, '(x)|(y)', 2), ''), '') AS b FROM t",
        "SELECT CAST(length(a) AS BIGINT) AS n, length(a) > 3 AS long, CAST(sum(n) AS BIGINT) AS s FROM t",
        "SELECT CASE WHEN length(a) > 3 THEN 'long' END AS kind, avg(CAST(length(a) > 0 AS INT)) AS share FROM t",
        "SELECT (CAST(instr('0123', a) AS BIGINT) - 1) * 268435456 AS h, CAST(sum(x) OVER () AS DOUBLE) AS w FROM t",
        "SELECT round(x * CAST(10000 AS DOUBLE)) / CAST(10000 AS DOUBLE) AS r, round(x) AS s FROM t",
        "SELECT regexp_matches(a, '^\\[deleted\\]\\z') AS gone, regexp_extract_all(a, '(x)') AS g FROM t",
    ],
)
def test_lint_accepts_the_portable_forms(sql: str) -> None:
    assert steps.portability_problems(sql) == []


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        (r"a(?=b)", "lookaround"),
        (r"a(?!b)", "lookaround"),
        (r"(?<=a)b", "lookaround"),
        (r"(?<!a)b", "lookaround"),
        (r"(?>ab)c", "atomic"),
        (r"(?P<word>a)", "named group"),
        (r"(?<word>a)", "named group"),
        (r"a++b", "possessive"),
        (r"a*+b", "possessive"),
        (r"a{2,}+b", "possessive"),
        (r"(a)\1", "backreference"),
        (r"end\Z", "one engine only"),
        (r"\h+", "one engine only"),
        (r"\Qa.b\E", "one engine only"),
        (r"\p{L}", "one engine only"),
        (r"[a-z[0-9]]", "nested class"),
        (r"[a-z&&[^q]]", "intersection"),
        (r"(psa|ama)([:!]|$)", "final line terminator"),
        (r"done$", "final line terminator"),
    ],
)
def test_regex_lint_flags_each_trap(pattern: str, fragment: str) -> None:
    problems = steps.regex_problems(pattern)
    assert problems and any(fragment in p for p in problems), problems


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?i)\bx\b",
        r"a+?b",
        r"\$5",
        r"[$]",
        r"\[x\]",
        r"[^\]]*",
        r"done\z",
        r"\\Z",
        r"[\s\*_#>~`\[\]\(\)|-]+",
        r"\(\?=",
        r"(?:a|b)\w+\S",
    ],
)
def test_regex_lint_accepts_the_common_subset(pattern: str) -> None:
    assert steps.regex_problems(pattern) == []


@pytest.mark.parametrize("name", sorted(support.PATTERNS))
def test_support_regexes_stay_in_the_common_subset(name: str) -> None:
    """The support rule's regexes are bound as parameters, out of the SQL lint's sight: checked here."""
    assert steps.regex_problems(support.PATTERNS[name]) == []


# --- the JVM rendering: regexes, lower() and trim() as DuckDB reads them -----------------------------------


@pytest.mark.parametrize(
    ("pattern", "java"),
    [
        (r"abc", "(?du)abc"),
        (r"(?i)x\sy", r"(?du)(?i)x[\t\n\f\r ]y"),
        (r"\S+", r"(?du)[^\t\n\f\r ]+"),
        (r"[\s*_]+", r"(?du)[\t\n\f\r *_]+"),
        (r"\\s", r"(?du)\\s"),  # an escaped backslash, then s
        (r"[\]s]", r"(?du)[\]s]"),
        (r"\bhi\b", "(?du)" + steps._JAVA_ESCAPES["b"] + "hi" + steps._JAVA_ESCAPES["b"]),
        (r"a\Bb", "(?du)a" + steps._JAVA_ESCAPES["B"] + "b"),
        (r"\w+\d\.", r"(?du)\w+\d\."),
    ],
)
def test_java_regex(pattern: str, java: str) -> None:
    assert steps.java_regex(pattern) == java


def test_java_regex_refuses_what_has_no_class_member() -> None:
    for pattern in (r"[\S]", r"[a\b]"):
        with pytest.raises(steps.StepError, match="no portable form"):
            steps.java_regex(pattern)


def test_for_java_rewrites_lower_trim_and_regexes_innermost_first() -> None:
    query = sqlglot.parse_one(
        "SELECT lower(trim(coalesce(a, ''))) AS a, ltrim(b) AS b, rtrim(c) AS c, trim(d, 'x') AS d, "
        "regexp_matches(lower(e), '\\s') AS e FROM t",
        read="duckdb",
    )
    spark = steps.for_java(query).sql(dialect="spark")
    assert spark.count("REPLACE(REPLACE(") == 2 and "LOWER(REGEXP_REPLACE(" not in spark
    assert "LOWER(REPLACE(REPLACE(REGEXP_REPLACE(COALESCE(a, '')" in spark
    assert spark.count("x{3000}") == 4  # trim: both ends; ltrim, rtrim: one end each
    assert "TRIM('x' FROM d)" in spark  # explicit characters: the same in both engines
    assert r"RLIKE '(?du)[\\t\\n\\f\\r ]'" in spark  # Spark's string literal doubles the backslashes
    # A step's Spark rendering goes through the rewrite, its DuckDB rendering does not.
    assert "(?du)" in support.SUPPORT.render(support.params(_CFG), dialect="spark")[0][2]
    assert "(?du)" not in support.SUPPORT.render(support.params(_CFG), dialect="duckdb")[0][2]


# --- parameter binding --------------------------------------------------------------------------------


def _bound(sql: str, params: dict, dialect: str) -> str:
    return steps.bind(sqlglot.parse_one(sql, read="duckdb"), params).sql(dialect=dialect)


def test_parameters_bind_as_typed_literals_on_both_engines() -> None:
    sql = "SELECT $f AS f, $i AS i, $b AS b, $s AS s FROM t WHERE x IN ($names) AND y NOT IN ($empty)"
    params = {"f": 0.05, "i": 7, "b": False, "s": r"(?i)\bbot\b it's", "names": ["a", "b'c"], "empty": []}
    duck = _bound(sql, params, "duckdb")
    spark = _bound(sql, params, "spark")
    assert "CAST(0.05 AS DOUBLE) AS f" in duck and "CAST(0.05 AS DOUBLE) AS f" in spark
    assert "7 AS i" in duck and "FALSE AS b" in duck and "FALSE AS b" in spark
    assert "x IN ('a', 'b''c')" in duck and "NOT y IN (NULL)" in duck
    assert r"'(?i)\bbot\b it''s' AS s" in duck
    assert r"'(?i)\\bbot\\b it\'s' AS s" in spark  # Spark string literals treat backslash as an escape
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 'a' AS x, 'z' AS y")
    row = con.execute(duck).fetchall()
    assert row == []  # y NOT IN (NULL) is never true
    (row,) = con.execute(
        _bound("SELECT $f AS f, $s AS s, 'a' IN ($names) AS hit", params, "duckdb")
    ).fetchall()
    assert row == (0.05, params["s"], True)
    assert con.execute(_bound("SELECT typeof($f)", params, "duckdb")).fetchall() == [("DOUBLE",)]


def test_parameter_errors_name_the_step() -> None:
    with pytest.raises(steps.StepError, match=r"'splits'.*missing \['seed'\]"):
        splits.SPLITS.render({"test_fraction": 0.1, "validation_fraction": 0.1})
    with pytest.raises(steps.StepError, match=r"not used \['sed'\]"):
        splits.SPLITS.render({**splits.params(_CFG), "sed": 1})
    with pytest.raises(steps.StepError, match="only in `IN"):
        steps.bind(sqlglot.parse_one("SELECT $l AS l", read="duckdb"), {"l": ["a"]}, "x")
    with pytest.raises(steps.StepError, match="finite"):
        splits.SPLITS.render({**splits.params(_CFG), "test_fraction": float("nan")})
    with pytest.raises(steps.StepError, match="unsupported type"):
        steps.bind(sqlglot.parse_one("SELECT $d AS d", read="duckdb"), {"d": {"a": 1}}, "x")


def test_a_file_that_does_not_match_its_declaration_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(steps, "SQL_DIR", tmp_path)
    (tmp_path / "a.sql").write_text("CREATE TABLE x AS SELECT 1 AS one;\nCREATE TABLE y AS SELECT 2 AS two;")
    with pytest.raises(steps.StepError, match=r"creates \['x', 'y'\], declared \['x'\]"):
        steps.Step("a", inputs=(), outputs=("x",)).statements()
    (tmp_path / "b.sql").write_text("UPDATE x SET a = 1;")
    with pytest.raises(steps.StepError, match="may hold only"):
        steps.Step("b", inputs=(), outputs=()).statements()
    with pytest.raises(steps.StepError, match="no SQL file"):
        steps.Step("missing", inputs=(), outputs=()).statements()


# --- the split hash: one SQL definition, checked against the Python oracle ---------------------------------


@pytest.mark.parametrize(
    ("seed", "test_fraction", "validation_fraction"),
    [(0, 0.05, 0.05), (7, 0.2, 0.1), (123456789, 0.0, 0.3), (-3, 0.5, 0.0), (2**40, 0.1, 0.2)],
)
def test_split_sql_equals_the_python_oracle(
    seed: int, test_fraction: float, validation_fraction: float
) -> None:
    rng = random.Random(seed)
    ids = [hashlib.sha1(str(i).encode()).hexdigest()[: rng.randint(4, 9)] for i in range(4000)]
    ids = sorted(set(ids)) + ["", "é ü", "it's"]
    con = duckdb.connect()
    con.execute("CREATE TABLE kept_posts (post_id VARCHAR)")
    con.executemany("INSERT INTO kept_posts VALUES (?)", [[i] for i in ids])
    cfg = BuildConfig(
        inputs=[Path(".")], seed=seed, test_fraction=test_fraction, validation_fraction=validation_fraction
    )
    splits.compute(con, cfg)
    got = dict(con.execute("SELECT post_id, split FROM post_splits").fetchall())
    assert got == {i: splits.split_of(cfg, i) for i in ids}
    if test_fraction and validation_fraction:
        assert set(got.values()) == {"train", "validation", "test"}


def test_split_hash_reads_every_hex_digit() -> None:
    """The digit-by-digit integer equals int(hex, 16) for digests that start with each hex digit."""
    con = duckdb.connect()
    found: dict[str, str] = {}
    i = 0
    while len(found) < 16:
        pid = f"p{i}"
        found.setdefault(hashlib.md5(f"0:{pid}".encode()).hexdigest()[0], pid)
        i += 1
    con.execute("CREATE TABLE kept_posts (post_id VARCHAR)")
    con.executemany("INSERT INTO kept_posts VALUES (?)", [[p] for p in found.values()])
    cfg = BuildConfig(inputs=[Path(".")], test_fraction=0.5, validation_fraction=0.25)
    splits.compute(con, cfg)
    got = dict(con.execute("SELECT post_id, split FROM post_splits").fetchall())
    assert got == {p: splits.split_of(cfg, p) for p in found.values()}
    assert len(set(got.values())) == 3


# --- each step's output tables pinned by the committed snapshots ------------------------------------------


@pytest.fixture(scope="module")
def synthetic_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sql-portable-raw")
    write_sample(out, seed=0)
    return out


def _rows(con: duckdb.DuckDBPyConnection, query: str) -> tuple[list[str], list[tuple]]:
    cursor = con.execute(query)
    columns = [c[0] for c in cursor.description]
    return columns, sorted(cursor.fetchall(), key=repr)


def test_every_step_has_a_snapshot_of_its_current_sql() -> None:
    """A `.sql` file edited without regenerating its snapshot fails here, before any table is compared."""
    assert set(step_snapshots.STEPS.values()) == set(DECLARED)
    assert sorted(p.stem for p in step_snapshots.SNAPSHOT_DIR.glob("*.json")) == sorted(
        s.name for s in DECLARED
    )
    for step in DECLARED:
        snap = step_snapshots.load(step)
        assert snap["step"] == step.name and snap["inputs"] == list(step.inputs)
        assert snap["sql_sha256"] == step_snapshots.sql_sha256(step), (
            f"{step.path.name} changed since its snapshot was generated; review the rule change and run "
            f"{snap['regenerate']}"
        )
        for variant, outputs in snap["variants"].items():
            assert {name.split(" (")[0] for name in outputs} == set(step.outputs), (step.name, variant)
            for digest in outputs.values():
                assert not [c for c in digest["columns"] if " DECIMAL" in c], (step.name, digest["columns"])


def _assert_pinned(name: str, variant: str, outputs: dict) -> None:
    pinned = step_snapshots.load(step_snapshots.STEPS[name])
    for table, digest in outputs.items():
        want = pinned["variants"][variant][table]
        where = f"step {name!r}, {variant!r}, table {table!r} (deliberate? run {pinned['regenerate']})"
        assert digest["columns"] == want["columns"], where
        assert digest["rows"] == want["rows"], where
        assert digest["head"] == want["head"], where
        assert digest["sha256"] == want["sha256"], where
    assert set(outputs) == set(pinned["variants"][variant]), name


@pytest.mark.parametrize("variant", sorted(step_snapshots.VARIANTS))
def test_step_outputs_equal_their_snapshots(variant: str, synthetic_raw: Path, tmp_path: Path) -> None:
    found = step_snapshots.sample_outputs(synthetic_raw, tmp_path, variant)
    for name, outputs in found.items():
        _assert_pinned(name, variant, outputs)
    assert {
        n for n, s in step_snapshots.STEPS.items() if variant in step_snapshots.load(s)["variants"]
    } == set(found)
    # The sample exercises what the variant is about (no vacuous snapshot).
    pinned = {name: step_snapshots.load(step_snapshots.STEPS[name])["variants"][variant] for name in found}
    assert pinned["threads"]["post_status"]["rows"] > 100
    if variant == "paper":  # every synthetic thread has a deleted comment: the whole selection path runs
        assert pinned["threads"]["kept_posts"]["rows"] == 0
        return
    assert pinned["threads"]["kept_posts"]["rows"] > 0
    assert pinned["labels"]["comment_labels"]["rows"] > 0
    assert pinned["splits"]["post_splits"]["rows"] == pinned["threads"]["kept_posts"]["rows"]
    if variant == "kit":  # the crafted inputs reach every removal reason and every dedup path
        edge = pinned["normalize_comments"]["staged_comments (edge values)"]
        assert edge["rows"] == step_snapshots.edge_chunk("comments").num_rows
        assert (
            pinned["dedup_comments"]["comments"]["rows"]
            < pinned["normalize_comments"]["staged_comments (sample)"]["rows"]
            + step_snapshots.edge_chunk("comments").num_rows
        )


def test_normalize_edge_values_reach_every_removal_reason() -> None:
    for kind, step in normalize.NORMALIZE.items():
        con = duckdb.connect()
        con.register(step.inputs[0], step_snapshots.edge_chunk(kind))
        steps.run(con, step, normalize.params(7))
        got = dict(con.execute(f"SELECT removal, count(*) FROM {step.outputs[0]} GROUP BY ALL").fetchall())
        assert set(got) == {None, "deleted", "removed", "removed_by_reddit"}, (kind, got)
        # the moderator placeholder alone (no category, flag or _meta) reads as removed
        only_text = con.execute(
            f"SELECT count(*) FROM {step.outputs[0]} WHERE removal = 'removed' AND removed_by_category IS NULL"
            if kind == "submissions"
            else f"SELECT count(*) FROM {step.outputs[0]} s JOIN {step.inputs[0]} c ON s.line = c._line "
            "WHERE s.removal = 'removed' AND c.removed_by_category IS NULL AND c._meta IS NULL"
        ).fetchall()[0][0]
        assert only_text > 0, kind


def test_stats_output_equals_its_snapshot(demo_dataset: Path) -> None:
    _assert_pinned("stats", "demo", step_snapshots.stats_outputs(demo_dataset))


def _assert_no_decimal(con: duckdb.DuckDBPyConnection, step: steps.Step) -> None:
    for output in step.outputs:
        types = dict(_rows(con, f"SELECT column_name, column_type FROM (DESCRIBE {output})")[1])
        assert not [c for c, t in types.items() if t.startswith("DECIMAL")], (output, types)


def test_stats_has_no_decimal_columns_and_handles_missing_configs(demo_dataset: Path, tmp_path: Path) -> None:
    """On the demo folder, and on a folder whose preference and improvement configs have no file."""
    assert stats.compute_stats(demo_dataset)["label_confidence"]["effective"]["n"] > 0
    con = duckdb.connect()
    stats.register_rows(con, demo_dataset)
    steps.run(con, stats.STATS, stats.params())
    _assert_no_decimal(con, stats.STATS)
    partial = tmp_path / "partial"
    shutil.copytree(demo_dataset, partial)
    for config in ("preference", "improvement"):
        shutil.rmtree(partial / "data" / config)
    for split in ("validation", "test"):
        for path in (partial / "data" / "effective_support").glob(f"{split}-*.parquet"):
            path.unlink()
    partial_stats = stats.compute_stats(partial)
    assert partial_stats["rows"]["preference"] == {} or not any(partial_stats["rows"]["preference"].values())


@pytest.mark.parametrize("n", [1, 2, 3, 10, 257])
def test_stats_quantiles_equal_duckdb_quantile_cont(n: int) -> None:
    """The rank interpolation of sql/stats.sql gives DuckDB's quantile_cont (to the last bit, which DuckDB's
    fused multiply-add may change), ties and single rows included."""
    from dataset_builder.export import arrow_schema

    rng = random.Random(n)
    con = duckdb.connect()
    for config in stats.CONFIG_NAMES:
        schema = arrow_schema(config).remove_metadata()
        con.register(f"_empty_{config}", schema.empty_table())
        con.execute(
            f"CREATE VIEW rows_{config} AS SELECT *, CAST(NULL AS VARCHAR) AS split FROM _empty_{config}"
        )
    values = [(1, round(rng.choice([0.5, 0.75, rng.random()]), 4)) for _ in range(n)]
    values += [(0, round(rng.random(), 4)) for _ in range(n + 1)] + [(None, None)]
    con.execute("CREATE TABLE es (label BIGINT, label_confidence DOUBLE)")
    con.executemany("INSERT INTO es VALUES (?, ?)", values)
    con.execute(
        "CREATE OR REPLACE VIEW rows_effective_support AS SELECT label, label_confidence, "
        "'op_signal' AS label_source, 'train' AS split FROM es"
    )
    steps.run(con, stats.STATS, stats.params())
    got = {row[0]: row[1:8] for row in con.execute("SELECT * FROM stats_confidence").fetchall()}
    want = {
        label: (count, mean, *quantiles)
        for label, count, mean, quantiles in con.execute(
            "SELECT label, count(*), avg(label_confidence), "
            "quantile_cont(label_confidence, [0.1, 0.25, 0.5, 0.75, 0.9]) FROM es WHERE label IS NOT NULL "
            "GROUP BY label"
        ).fetchall()
    }
    assert got.keys() == want.keys()
    for label, row in got.items():  # DuckDB fuses a multiply-add: equal up to the last bit
        assert row[:2] == want[label][:2]
        assert row[2:] == pytest.approx(want[label][2:], rel=0, abs=1e-15), label
