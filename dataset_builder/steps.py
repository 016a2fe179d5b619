"""Relational steps: SQL in `dataset_builder/sql/<step>.sql`, run by an engine, portable to Spark SQL.

A step is declared once, here or in the module that owns it::

    SPLITS = Step("splits", inputs=("kept_posts",), outputs=("post_splits",))

and its SQL lives in `sql/splits.sql`: one or more statements `CREATE TABLE <output> AS <query>;` (or
`CREATE VIEW`), written in the portable subset of DuckDB SQL described in `dataset_builder/README.md`.
Tests check that each file creates exactly the declared outputs, reads only the declared inputs (and its
own earlier outputs), transpiles to Spark SQL with sqlglot, and avoids the constructs that transpile but
mean something else on Spark.

Parameters (seed, fractions, thresholds, lists of names) are written `$name` in the SQL (DuckDB's named
parameter syntax, so the files stay valid SQL) and bound as typed SQL literals on the parsed statement
(`bind`), before the engine's dialect is generated (`render`). Both engines therefore run the same text
with the same constants; neither engine's own parameter API is used:

- `bool` -> `TRUE` / `FALSE`; `int` -> an integer literal; `str` -> a string literal (the generator
  escapes it for the dialect, e.g. backslashes in regexes for Spark);
- `float` -> `CAST(<repr> AS DOUBLE)`: both engines read a bare `0.05` as DECIMAL, and Spark's DECIMAL
  arithmetic would differ from DuckDB's DOUBLE;
- a list or tuple of `str`/`int` -> only inside `IN ($name)`, expanded into the list's literals; an empty
  list binds as `(NULL)`, so `x IN ($name)` matches nothing (guard `NOT IN` with a boolean parameter).

A missing or unused parameter is an error naming the step. The embedded engine (`run`, DuckDB) executes
`CREATE OR REPLACE TABLE|VIEW <output> AS <query>`; a distributed engine runs the same (output, query)
pairs from `render(..., dialect="spark")` and materializes each as it sees fit.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

SQL_DIR = Path(__file__).with_name("sql")
SOURCE_DIALECT = "duckdb"

Param = bool | int | float | str | Sequence[str] | Sequence[int]


class StepError(ValueError):
    """A step's SQL file or parameters do not match its declaration; the message names the step."""


@dataclass(frozen=True)
class Statement:
    """One statement of a step: the table (or view) it creates and the query that fills it."""

    output: str
    kind: str  # "TABLE" or "VIEW"
    query: exp.Expression


@dataclass(frozen=True)
class Step:
    """A relational step: `sql/<name>.sql` reads `inputs` and creates `outputs` (in this order)."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    @property
    def path(self) -> Path:
        return SQL_DIR / f"{self.name}.sql"

    def statements(self) -> list[Statement]:
        """The parsed statements, checked against `outputs` (raises StepError)."""
        return _parse(self.path, self.name, self.outputs)

    def render(
        self, params: Mapping[str, Param], dialect: str = SOURCE_DIALECT
    ) -> list[tuple[str, str, str]]:
        """(output, kind, query text in `dialect`) for each statement, with `params` bound as literals.

        Raises StepError for a missing, unused or ill-typed parameter, and sqlglot's UnsupportedError
        when the query has no equivalent in `dialect`."""
        statements = self.statements()
        wanted = {p.name for s in statements for p in s.query.find_all(exp.Placeholder)}
        missing, unused = wanted - set(params), set(params) - wanted
        if missing or unused:
            raise StepError(
                f"step {self.name!r}: parameters missing {sorted(missing)}, not used {sorted(unused)}"
            )
        rendered = []
        for statement in statements:
            query = bind(statement.query, params, self.name)
            text = query.sql(dialect=dialect, copy=False, unsupported_level=ErrorLevel.RAISE)  # our copy
            rendered.append((statement.output, statement.kind, text))
        return rendered


@functools.cache
def _parse(path: Path, name: str, outputs: tuple[str, ...]) -> list[Statement]:
    try:
        parsed = sqlglot.parse(path.read_text(encoding="utf-8"), read=SOURCE_DIALECT)
    except FileNotFoundError as exc:
        raise StepError(f"step {name!r}: no SQL file {path}") from exc
    except sqlglot.errors.ParseError as exc:
        raise StepError(f"step {name!r}: {path.name} does not parse: {exc}") from exc
    statements = []
    for node in parsed:
        if node is None:
            continue
        kind = str(node.args.get("kind", "")).upper() if isinstance(node, exp.Create) else ""
        if kind not in ("TABLE", "VIEW") or not isinstance(node.expression, exp.Query):
            raise StepError(
                f"step {name!r}: {path.name} may hold only `CREATE TABLE|VIEW <name> AS <query>;`, "
                f"found: {node.sql(dialect=SOURCE_DIALECT)[:80]}"
            )
        statements.append(Statement(node.this.name, kind, node.expression))
    created = tuple(s.output for s in statements)
    if created != outputs:
        raise StepError(f"step {name!r}: {path.name} creates {list(created)}, declared {list(outputs)}")
    return statements


def literal(value: Any, step: str, name: str) -> exp.Expression:
    """The SQL literal a parameter value binds as (see the module docstring)."""
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise StepError(f"step {step!r}: parameter ${name} is {value}; SQL literals are finite")
        return exp.cast(exp.Literal.number(repr(value)), exp.DataType.Type.DOUBLE)
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise StepError(f"step {step!r}: parameter ${name} has unsupported type {type(value).__name__}")


def bind(query: exp.Expression, params: Mapping[str, Param], step: str = "?") -> exp.Expression:
    """A copy of `query` with every `$name` replaced by the literal of `params[name]`."""

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.In) and any(isinstance(e, exp.Placeholder) for e in node.expressions):
            values: list[exp.Expression] = []
            for item in node.expressions:
                if not isinstance(item, exp.Placeholder):
                    values.append(item)
                    continue
                value = params[item.name]
                if isinstance(value, str) or not isinstance(value, Sequence):
                    values.append(literal(value, step, item.name))
                    continue
                values += [literal(v, step, item.name) for v in value] or [exp.null()]
            return exp.In(this=node.this, expressions=values)
        if isinstance(node, exp.Placeholder):
            value = params[node.name]
            if isinstance(value, Sequence) and not isinstance(value, str):
                raise StepError(f"step {step!r}: list parameter ${node.name} may appear only in `IN ($name)`")
            return literal(value, step, node.name)
        return node

    return query.transform(replace)  # copies `query` once


def run(con: duckdb.DuckDBPyConnection, step: Step, params: Mapping[str, Param]) -> None:
    """The embedded engine: create each output of `step` in DuckDB, in the file's order (a distributed
    engine's connection, e.g. the Spark engine's, runs the step itself)."""
    if (run_step := getattr(con, "run_step", None)) is not None:
        return run_step(step, params)
    for output, kind, query in step.render(params, dialect="duckdb"):
        con.execute(f"CREATE OR REPLACE {kind} {output} AS {query}")


def transpile_file(path: Path, dialect: str = "spark") -> list[str]:
    """Every statement of a `.sql` file in `dialect`, raising on any construct that does not transpile
    (parameters stay as the dialect's named markers)."""
    return sqlglot.transpile(
        path.read_text(encoding="utf-8"),
        read=SOURCE_DIALECT,
        write=dialect,
        unsupported_level=ErrorLevel.RAISE,
    )


_UNSIGNED = {
    exp.DataType.Type.UTINYINT,
    exp.DataType.Type.USMALLINT,
    exp.DataType.Type.UMEDIUMINT,
    exp.DataType.Type.UINT,
    exp.DataType.Type.UBIGINT,
    exp.DataType.Type.UINT128,
    exp.DataType.Type.UINT256,
}
_LEN_CALL = re.compile(r"\blen\s*\(", re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*")


def portability_problems(text: str) -> list[str]:
    """Constructs of a step's DuckDB SQL that Spark rejects or reads differently, though sqlglot may
    transpile them without complaint (measured with sqlglot 30.30). Empty when the text is in the subset."""
    problems = []
    if _LEN_CALL.search(_COMMENT.sub("", text)):
        problems.append(
            "len(): becomes LENGTH on Spark, which fails on lists; use length() or array_length()"
        )
    for statement in sqlglot.parse(text, read=SOURCE_DIALECT):
        if statement is None:
            continue
        for node in statement.walk():
            problems += _node_problems(node)
    return problems


def _node_problems(node: exp.Expression) -> list[str]:
    if isinstance(node, exp.RegexpReplace) and node.args.get("modifiers") != exp.Literal.string("g"):
        return [
            f"{node.sql(SOURCE_DIALECT)}: regexp_replace replaces every match in Spark, only the first in "
            "DuckDB without 'g', and sqlglot drops other flags; pass exactly 'g' (case: inline (?i))"
        ]
    if isinstance(node, exp.RegexpReplace):
        replacement = node.args.get("replacement")
        if isinstance(replacement, exp.Literal) and re.search(r"[\\$]", replacement.this):
            return [
                f"{node.sql(SOURCE_DIALECT)[:60]}: a backslash or $ in a regexp_replace replacement is read "
                "differently (a group is \\1 in DuckDB, $1 in Spark); extract the groups with "
                "regexp_extract_all (see sql/support.sql) or replace with plain text"
            ]
    if isinstance(node, exp.DataType) and node.this in _UNSIGNED:
        return [f"{node.sql(SOURCE_DIALECT)}: unsigned integer types do not exist in Spark"]
    if isinstance(node, exp.Literal) and node.is_string and node.this.lower().startswith("0x"):
        return [f"'{node.this}': hex strings cast to integers only in DuckDB (read digits with instr())"]
    if isinstance(node, exp.Literal) and not node.is_string and re.search(r"[.eE]", node.this):
        parent = node.parent
        to_double = isinstance(parent, exp.Cast) and parent.to.this == exp.DataType.Type.DOUBLE
        if not to_double:
            return [
                f"{node.this}: a bare fractional number is DECIMAL in both engines and DECIMAL arithmetic "
                "differs; write CAST(<number> AS DOUBLE) or bind it as a float parameter"
            ]
    if isinstance(node, exp.Star) and any(
        node.args.get(k) for k in ("except_", "except", "replace", "rename")
    ):
        return ["* EXCLUDE / REPLACE / RENAME: DuckDB only; list the columns"]
    if isinstance(node, exp.Join) and str(node.args.get("kind", "")).upper() in ("SEMI", "ANTI"):
        return ["SEMI / ANTI JOIN: write EXISTS / NOT EXISTS or IN"]
    if isinstance(node, (exp.Array, exp.Struct)):
        return [f"{node.sql(SOURCE_DIALECT)[:40]}: list and struct literals differ between engines"]
    if isinstance(
        node, (exp.Quantile, exp.PercentileCont, exp.PercentileDisc, exp.Median, exp.ApproxQuantile)
    ):
        return [
            f"{node.sql(SOURCE_DIALECT)[:40]}: quantile functions map to Spark functions with other semantics "
            "(WITHIN GROUP becomes PERCENTILE_APPROX, DuckDB's discrete quantile() becomes the continuous "
            "PERCENTILE); interpolate between ranks from row_number() (see sql/stats.sql)"
        ]
    if isinstance(node, exp.Qualify):
        return ["QUALIFY: Spark has none; filter a window column in an outer query"]
    return []


# Regex syntax that RE2 (DuckDB) and java.util.regex (Spark) read differently, or that only one accepts.
_REGEX_TRAPS = (
    (re.compile(r"\(\?(<?[=!]|>)"), "lookaround or atomic group: RE2 has none"),
    (
        re.compile(r"\(\?P?<[A-Za-z]"),
        "named group: (?P<n>...) is RE2 only, (?<n>...) Java only; use a plain group",
    ),
    (re.compile(r"[*+?}]\+"), "possessive quantifier: Java only"),
    (re.compile(r"\\[1-9]"), "backreference: Java only"),
    (
        re.compile(r"\\[ZGRXhHvVQEpP]"),
        "escape that exists in one engine only or means something else (\\Z, \\G, "
        "\\R, \\X, \\h, \\v, \\Q..\\E, \\p{..})",
    ),
)


def regex_problems(pattern: str) -> list[str]:
    """Where `pattern` leaves the regex syntax RE2 (DuckDB) and Java (Spark) read alike. Empty when it stays in
    the common subset: no lookarounds, atomic or named groups, possessive quantifiers, backreferences or
    engine-specific escapes; no unescaped `$` (Java's also matches before a final line terminator: write
    `\\z`); inside a character class no unescaped `[` (a nested class in Java) and no `&&` (an intersection)."""
    problems = [f"{pattern[:40]!r}: {why}" for trap, why in _REGEX_TRAPS if trap.search(_unescaped(pattern))]
    in_class, class_start, i = False, 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            if c == "]" and pattern[class_start:i] not in ("", "^"):  # a first ] is a literal
                in_class = False
            elif c == "[":
                problems.append(
                    f"{pattern[:40]!r}: unescaped [ inside a character class is a nested class in Java"
                )
            elif pattern.startswith("&&", i):
                problems.append(f"{pattern[:40]!r}: && inside a character class is an intersection in Java")
        elif c == "[":
            in_class, class_start = True, i + 1
        elif c == "$":
            problems.append(
                f"{pattern[:40]!r}: $ also matches before a final line terminator in Java; write \\z"
            )
        i += 1
    return problems


def _unescaped(pattern: str) -> str:
    """`pattern` with each escaped character but a letter or digit blanked (so `\\(?=` is not a lookahead)."""
    return re.sub(r"\\([^A-Za-z0-9])", "__", pattern)
