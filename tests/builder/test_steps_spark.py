"""The portable steps mean the same on Spark as on the embedded engine (DuckDB).

Every `steps.run` call the snapshots make (`step_snapshots.recorded_runs`: the synthetic sample under the
snapshot configurations, the crafted edge inputs, `stats` on the demo folder) is replayed on Spark: its input
tables, as DuckDB read them, become Spark temp views, `step.render(params, dialect="spark")` runs with
`spark.sql`, each output is materialized before the next statement reads it (as the Spark engine does), and
every output table must equal DuckDB's as a multiset of rows with the same column names and Arrow types.
Strings, integers and booleans compare exactly; doubles equal, or within 1e-12 relative (a warning names
each that is not bit-equal).

Every regex the steps use, literal or bound as a parameter, also runs through both engines on a battery of
crafted strings (unicode, apostrophes, line terminators, case) and on every text of the recorded inputs:
matching, every group's extraction, replacement and splitting give the same results.

The kit's configuration (with the crafted inputs) runs by default; the other configurations and `stats` on the
demo folder are `slow`.
"""

from __future__ import annotations

import collections
import hashlib
import math
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import sqlglot
import step_snapshots
from sqlglot import exp

from dataset_builder import steps
from dataset_builder.synthetic import write_sample

REL_TOL = 1e-12
# The sample's tables are tiny: Spark's 200 shuffle partitions, adaptive re-planning and whole-stage code
# generation (a compile per query) only cost time here; none changes a result.
TINY_TABLES = {
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
}


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("spark-steps") / "raw"
    write_sample(out, seed=0)
    return out


@pytest.fixture(scope="module")
def kit_runs(raw: Path) -> list[step_snapshots.Run]:
    return unique(step_snapshots.recorded_runs(raw, raw.parent / "work", ["kit"]))


@pytest.fixture(scope="module")
def sql_spark(spark: Any) -> Iterator[Any]:
    """The session-scoped `spark` fixture with `TINY_TABLES` while this module runs."""
    before = {key: spark.conf.get(key) for key in TINY_TABLES}
    for key, value in TINY_TABLES.items():
        spark.conf.set(key, value)
    yield spark
    for key, value in before.items():
        spark.conf.set(key, value)


def unique(runs: list[step_snapshots.Run]) -> list[step_snapshots.Run]:
    """`runs` without repeats (the same step, parameters and input tables)."""
    seen: set[str] = set()
    kept = []
    for run in runs:
        digest = hashlib.sha256(f"{run.step.name}|{sorted(run.params.items())!r}".encode())
        for name in sorted(run.inputs):
            digest.update(name.encode())
            for batch in run.inputs[name].to_batches():
                digest.update(batch.serialize().to_pybytes())
        if digest.hexdigest() not in seen:
            seen.add(digest.hexdigest())
            kept.append(run)
    return kept


def run_on_spark(spark: Any, run: step_snapshots.Run) -> dict[str, pa.Table]:
    """{output: table} of `run.step` on Spark over `run.inputs` (each output materialized, then registered
    for the statements below it, as the Spark engine materializes tables)."""
    for table in spark.catalog.listTables():
        if table.isTemporary:
            spark.catalog.dropTempView(table.name)
    for name, table in run.inputs.items():
        spark.createDataFrame(table).createOrReplaceTempView(name)
    found = {}
    for output, _kind, query in run.step.render(run.params, dialect="spark"):
        found[output] = spark.sql(query).toArrow()
        spark.createDataFrame(found[output]).createOrReplaceTempView(output)
    return found


def _plain(kind: pa.DataType) -> pa.DataType:
    """`kind` without the name of a list's item field (DuckDB's `l`, Spark's `element`)."""
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return pa.list_(_plain(kind.value_type))
    return kind


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=0.0)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return a == b and type(a) is type(b)


def _sort_key(row: tuple) -> str:
    return repr(tuple(f"{v:.9g}" if isinstance(v, float) else v for v in row))


def compare(want: pa.Table, got: pa.Table, where: str) -> int:
    """Assert `got` (Spark) equals `want` (DuckDB) as a multiset of rows, with the same column names and Arrow
    types (nullability aside); returns how many doubles differ in their last bits (within `REL_TOL`)."""
    assert got.column_names == want.column_names, where
    types = [
        (f.name, str(_plain(f.type)), str(_plain(g.type)))
        for f, g in zip(want.schema, got.schema, strict=True)
    ]
    assert [t for t in types if t[1] != t[2]] == [], f"{where}: (column, DuckDB type, Spark type)"
    want_rows = collections.Counter(_hashable(tuple(r.values())) for r in want.to_pylist())
    got_rows = collections.Counter(_hashable(tuple(r.values())) for r in got.to_pylist())
    if want_rows == got_rows:
        return 0
    assert got.num_rows == want.num_rows, f"{where}: {want.num_rows} rows in DuckDB, {got.num_rows} on Spark"
    only_want, only_got = want_rows - got_rows, got_rows - want_rows
    left = sorted(only_want.elements(), key=_sort_key)
    right = sorted(only_got.elements(), key=_sort_key)
    for a, b in zip(left, right, strict=True):
        assert _close(a, b), f"{where}: DuckDB only {left[:3]}\nSpark only {right[:3]}"
    return len(left)


def check_runs(spark: Any, runs: list[step_snapshots.Run]) -> None:
    assert runs
    for run in runs:
        found = run_on_spark(spark, run)
        assert list(found) == list(run.step.outputs), run.where
        for output, table in found.items():
            where = f"step {run.step.name!r} ({run.where}), table {output!r}"
            inexact = compare(run.outputs[output], table, where)
            if inexact:
                warnings.warn(f"{where}: {inexact} rows equal within {REL_TOL} only", stacklevel=1)


# --- every step, on the kit's configuration and the crafted inputs --------------------------------------


def test_every_step_is_replayed(kit_runs: list[step_snapshots.Run]) -> None:
    """The kit's runs reach every step but `stats` (which runs on the demo folder, below)."""
    assert {run.step.name for run in kit_runs} == set(step_snapshots.STEPS) - {"stats"}
    for name in ("threads", "labels", "splits", "pairs_preference", "pairs_improvement"):  # not vacuous
        assert any(t.num_rows for run in kit_runs if run.step.name == name for t in run.outputs.values()), (
            name
        )


@pytest.mark.parametrize("name", sorted(set(step_snapshots.STEPS) - {"stats"}))
def test_step_means_the_same_on_spark(name: str, kit_runs: list[step_snapshots.Run], sql_spark: Any) -> None:
    check_runs(sql_spark, [run for run in kit_runs if run.step.name == name])


@pytest.mark.slow
@pytest.mark.parametrize("variant", sorted(set(step_snapshots.VARIANTS) - {"kit"}))
def test_steps_mean_the_same_on_spark_under_other_configurations(
    variant: str, raw: Path, kit_runs: list[step_snapshots.Run], sql_spark: Any
) -> None:
    runs = step_snapshots.recorded_runs(raw, raw.parent / f"work-{variant}", [variant])
    check_runs(sql_spark, unique(runs))


@pytest.mark.slow
def test_stats_means_the_same_on_spark(demo_dataset: Path, sql_spark: Any) -> None:
    with step_snapshots.recording(lambda: "demo") as runs:
        step_snapshots.stats_outputs(demo_dataset)
    assert [run.step.name for run in runs] == ["stats"]
    check_runs(sql_spark, runs)


def test_comparison_fails_on_a_different_row_type_or_double() -> None:
    """The comparison this file relies on is not vacuous."""
    want = pa.table({"a": ["x", "y"], "b": [1.0, 2.0]})
    assert compare(want, pa.table({"a": ["y", "x"], "b": [2.0, 1.0]}), "same") == 0
    assert compare(want, pa.table({"a": ["x", "y"], "b": [1.0, 2.0 * (1 + 1e-15)]}), "last bits") == 1
    with pytest.raises(AssertionError, match="Spark only"):
        compare(want, pa.table({"a": ["x", "y"], "b": [1.0, 2.0 * (1 + 1e-9)]}), "tolerance")
    with pytest.raises(AssertionError, match="Spark only"):
        compare(want, pa.table({"a": ["x", "z"], "b": [1.0, 2.0]}), "string")
    with pytest.raises(AssertionError, match="rows in DuckDB"):
        compare(want, pa.table({"a": ["x"], "b": [1.0]}), "count")
    with pytest.raises(AssertionError, match="Spark type"):
        compare(want, pa.table({"a": ["x", "y"], "b": pa.array([1, 2], pa.int32())}), "type")


# --- every regex the steps use, on both engines ------------------------------------------------------------

# Crafted strings where RE2 (DuckDB) and java.util.regex (Spark) could part: non-ASCII letters next to word
# boundaries and in case folding, both apostrophes, every line terminator (Java's `$` and `.` know more of them),
# the vertical tab (in Java's `\s`, not RE2's), placeholders, links, user and subreddit names.
BATTERY = [
    "",
    " ",
    "Thanks so much!",
    "THANK YOU, this helped",
    "thank you\n",
    "thanks\r\n",
    "thanks\u2028",
    "thanks\u0085",
    "I don't know what to do",
    "I don\u2019t know what to do",
    "it\u2019s fine, it's fine",
    "caf\u00e9 thanks na\u00efve",
    "thanks\u00e9 \u00e9thanks",
    "\u00c9T\u00c9 \u00e9t\u00e9 stra\u00dfe STRASSE \u0130stanbul \u0131\u0130",
    "\u03a3\u03bf\u03c6\u03af\u03b1 \u03c3\u03bf\u03c6\u03b9\u03b1\u03c2 \u4f60\u597d\u8c22\u8c22",
    "emoji \U0001f64f\U0001f3fd thanks \U0001f600",
    "tab\tand\x0bvertical\x0cform feed",
    "line one\nline two\n\nline three",
    "[deleted]",
    "[deleted]\n",
    " [removed] ",
    "[removed by reddit]",
    "[Removed by Reddit on account of violating the content policy. ]",
    "[\u00a0deleted\u00a0]",
    "see [this link](https://example.invalid/a_b?c=d) and https://x.example.invalid/y.",
    "[https://example.invalid/q](https://example.invalid/q)",
    "![img](https://i.example.invalid/abc.jpg) **bold** _it_ ~~s~~ `c` > q | x - y",
    "www.example.invalid/page",
    "ask u/Some_User-1 and /u/other or r/anxiety, /r/Depression",
    "[NAME] said [EMAIL] at [URL]",
    "EDIT: thanks everyone! UPDATE: it worked.",
    "edit - thank you all \u2014 update: still sad",
    "I'll try that tomorrow. Have you tried therapy?",
    "no thanks. thanks but I already tried that",
    "Great advice, I already tried that.",
    "Please call 988 or text HOME to 741741.",
    "a" * 300,
    "word " * 60,
    "12345 3.14 -7 1e5",
    "mixed\u00a0no-break\u2009thin\u3000ideographic spaces",
    "trailing spaces   ",
    "\n\n\n",
    "ab abc x-y_z jo_2's ABC xabc abcx ab_c zed-here",
    "Would you rather take a gap year? PSA: deadline moved! AMA: ask me",
    "line\rbreak\u2028and\u2029para\u0085next",
    "\u0130STANBUL \u0130yi \u03a3\u039f\u03a6\u0399\u0391\u03a3 \u03b1\u03a3.",
    "than\u212as \u017fo helpful TH\u212aNKS",
    "\u00a0[deleted]\u00a0",
    "\u3000 [removed] \u2009",
    "\t[deleted]\t",
    "ab\u0301c e\u0301 \U0001f44d\U0001f3fd\u200d",
]


def _group_count(pattern: str) -> int:
    """Capturing groups of a pattern in the common RE2/Java syntax, as Python's `re` counts them (it reads
    that syntax alike, with `\\z` spelled `\\Z`)."""
    return re.compile(pattern.replace(r"\z", r"\Z")).groups


def regexes_in_use(runs: list[step_snapshots.Run]) -> dict[str, set[str]]:
    """{pattern: {how each step uses it}}: every regex of every step, literal or bound from the parameters of
    `runs`, with the function (regexp_matches, regexp_replace, ...) that reads it."""
    params: dict[str, dict[str, Any]] = collections.defaultdict(dict)
    for run in runs:
        params[run.step.name].update(run.params)
    found: dict[str, set[str]] = collections.defaultdict(set)
    for name, step in step_snapshots.STEPS.items():
        for statement in step.statements():
            for node in statement.query.find_all(*steps.REGEX_FUNCTIONS):
                pattern = node.expression
                if isinstance(pattern, exp.Placeholder):
                    found[params[name][pattern.name]].add(type(node).__name__)
                else:
                    assert isinstance(pattern, exp.Literal) and pattern.is_string, (name, node.sql())
                    found[pattern.this].add(type(node).__name__)
    return dict(found)


def regex_queries(patterns: dict[str, set[str]]) -> str:
    """One DuckDB query over `battery(id, t)`: for each pattern, whether it matches, every group's
    extraction, and the replacement and split where a step uses them."""
    columns = ["id"]
    params: dict[str, Any] = {}
    for i, (pattern, uses) in enumerate(sorted(patterns.items())):
        params[f"p{i}"] = pattern
        columns.append(f"regexp_matches(t, $p{i}) AS m{i}")
        columns += [
            f"regexp_extract_all(t, $p{i}, {g}) AS x{i}_{g}" for g in range(_group_count(pattern) + 1)
        ]
        if "RegexpReplace" in uses:
            columns.append(f"regexp_replace(t, $p{i}, '<>', 'g') AS r{i}")
        if "RegexpSplit" in uses:
            columns.append(f"string_split_regex(t, $p{i}) AS s{i}")
    query = sqlglot.parse_one(f"SELECT {', '.join(columns)} FROM battery", read="duckdb")
    return steps.bind(query, params, "regex cross-check")


# The text functions the steps use (their Spark forms come from `steps.for_java` where they differ).
TEXT_FUNCTIONS = [
    "lower(t)",
    "trim(t)",
    "ltrim(t)",
    "rtrim(t)",
    "length(t)",
    "md5(t)",
    "substr(t, 2, 3)",
    "strpos(t, 'a')",
    "translate(t, 'ab', 'xy')",
    "chr(10) || t",
    "concat_ws('+', t, NULL, t)",
]


def battery(runs: list[step_snapshots.Run]) -> pa.Table:
    """The crafted strings, a NULL, and every distinct text of the inputs of `runs` (texts with a space)."""
    texts = set(BATTERY)
    for run in runs:
        for table in run.inputs.values():
            for column in table.itercolumns():
                if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                    texts.update(v for v in column.to_pylist() if v and " " in v)
    ordered = [None, *sorted(texts)]
    return pa.table({"id": list(range(len(ordered))), "t": pa.array(ordered, pa.string())})


def test_group_count() -> None:
    assert [_group_count(p) for p in (r"a", r"(a)(?:b)", r"\((a)\)", r"[(](x)", r"[]()](y)", r"[^]()]", r"(a(b))")] == [
        0, 1, 1, 1, 1, 0, 2
    ]  # fmt: skip


@pytest.mark.parametrize("texts_of", ["crafted", pytest.param("recorded", marks=pytest.mark.slow)])
def test_every_regex_means_the_same_on_spark(
    texts_of: str, kit_runs: list[step_snapshots.Run], sql_spark: Any
) -> None:
    """On the crafted strings; `slow`: also on every text of the kit's recorded inputs."""
    patterns = regexes_in_use(kit_runs)
    assert len(patterns) > 20, sorted(patterns)
    texts = battery(kit_runs if texts_of == "recorded" else [])
    query = regex_queries(patterns)
    con = duckdb.connect()
    con.register("battery", texts)
    want = con.sql(query.sql(dialect="duckdb")).to_arrow_table()
    sql_spark.createDataFrame(texts).createOrReplaceTempView("battery")
    got = sql_spark.sql(steps.for_java(query).sql(dialect="spark")).toArrow()
    legend = {f"p{i}": p for i, p in enumerate(sorted(patterns))}
    failures = []
    for column in want.column_names[1:]:
        index, group = re.fullmatch(r"[a-z](\d+)(?:_(\d+))?", column).groups()
        expected = want.select(["id", column])
        if group and int(group) > 0:  # a group that takes no part: NULL in DuckDB, '' in Spark (linted)
            values = [
                None if v is None else ["" if x is None else x for x in v]
                for v in expected[column].to_pylist()
            ]
            expected = expected.set_column(1, column, pa.array(values, expected.schema.field(1).type))
        try:
            compare(expected, got.select(["id", column]), f"{column}: {legend[f'p{index}']!r}")
        except AssertionError as exc:
            failures.append(str(exc)[:1500])
    assert not failures, "\n\n".join(failures)


def test_text_functions_mean_the_same_on_spark(kit_runs: list[step_snapshots.Run], sql_spark: Any) -> None:
    texts = battery(kit_runs)  # a projection of a dozen columns: every recorded text is cheap
    columns = ", ".join(f"{f} AS f{i}" for i, f in enumerate(TEXT_FUNCTIONS))
    query = sqlglot.parse_one(f"SELECT id, {columns} FROM battery", read="duckdb")
    con = duckdb.connect()
    con.register("battery", texts)
    want = con.sql(query.sql(dialect="duckdb")).to_arrow_table()
    sql_spark.createDataFrame(texts).createOrReplaceTempView("battery")
    got = sql_spark.sql(steps.for_java(query).sql(dialect="spark")).toArrow()
    for i, function in enumerate(TEXT_FUNCTIONS):
        # length, strpos: INT on Spark, BIGINT in DuckDB (the steps cast them, see `steps.portability_problems`)
        got_column = got.column(f"f{i}").cast(want.column(f"f{i}").type)
        compare(
            want.select(["id", f"f{i}"]), pa.table({"id": got.column("id"), f"f{i}": got_column}), function
        )


# (DuckDB expression of `t`, a text on which Spark reads it differently unless rendered by `steps.for_java`)
NEEDS_REWRITE = [
    (r"regexp_matches(t, 'a.b')", "a\rb"),  # Java's . stops at every line terminator
    (r"regexp_matches(t, 'a.b')", "a\u2028b"),
    ("regexp_matches(t, '(?i)\u00e9t\u00e9')", "\u00c9T\u00c9"),  # Java's (?i) is ASCII only
    (r"regexp_matches(t, '(?i)thanks')", "than\u212as"),  # the Kelvin sign folds to k in RE2
    (r"regexp_matches(t, '\bthanks\b')", "thanks\u00e9"),  # Java 17's \b sees letters beyond ASCII
    (r"regexp_matches(t, 'caf\b')", "caf\u00e9"),
    (r"regexp_matches(t, 'a\sb')", "a\x0bb"),  # Java's \s has the vertical tab
    (r"regexp_matches(t, 'a\Sb')", "a\x0bb"),
    (r"regexp_replace(t, '[\s*]+', '-', 'g')", "x\x0b*y"),
    (r"array_length(string_split_regex(t, '\s+'))", "a\x0bb c"),
    ("lower(t)", "\u0130yi"),  # Java: i + U+0307
    ("lower(t)", "\u03b1\u03a3."),  # Java: a final sigma
    ("trim(t)", "\u00a0x\u3000"),  # DuckDB strips the Unicode spaces, Spark U+0020 only
    ("ltrim(t)", "\u2009x"),
    ("rtrim(t)", "x\u202f"),
]


def test_each_rewrite_for_spark_is_needed_and_enough(sql_spark: Any) -> None:
    """On each text, Spark without `steps.for_java` differs from DuckDB, and with it agrees."""
    texts = pa.table({"id": list(range(len(NEEDS_REWRITE))), "t": [t for _, t in NEEDS_REWRITE]})
    columns = ", ".join(f"{e} AS e{i}" for i, (e, _) in enumerate(NEEDS_REWRITE))
    query = sqlglot.parse_one(f"SELECT id, {columns} FROM texts ORDER BY id", read="duckdb")
    con = duckdb.connect()
    con.register("texts", texts)
    want = con.sql(query.sql(dialect="duckdb")).fetchall()
    sql_spark.createDataFrame(texts).createOrReplaceTempView("texts")
    plain = sql_spark.sql(query.sql(dialect="spark")).collect()
    rewritten = sql_spark.sql(steps.for_java(query.copy()).sql(dialect="spark")).collect()
    for i, (expression, text) in enumerate(NEEDS_REWRITE):
        where = f"{expression} on {text!r}"
        assert plain[i][i + 1] != want[i][i + 1], f"{where}: Spark already agrees ({want[i][i + 1]!r})"
        assert rewritten[i][i + 1] == want[i][i + 1], (
            f"{where}: DuckDB {want[i][i + 1]!r}, Spark {rewritten[i][i + 1]!r}"
        )
