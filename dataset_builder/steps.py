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
pairs from `render(..., dialect="spark")` and materializes each as it sees fit. For a JVM dialect, `render`
also rewrites what the shared syntax still reads differently there (`for_java`: regexes, `lower`, `trim`);
`tests/builder/test_steps_spark.py` checks every step's tables on Spark against DuckDB's.
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
            if dialect in JAVA_DIALECTS:
                query = for_java(query, self.name)
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


# Dialects whose engine runs on the JVM: regexes are java.util.regex, lower() is Java's String.toLowerCase.
JAVA_DIALECTS = frozenset({"spark", "spark2", "databricks", "hive"})

# What DuckDB's trim() strips: the Unicode space separators (category Zs), not tabs or newlines; Spark's trim()
# strips U+0020 only. Measured with DuckDB 2.0 over U+0001..U+3000.
DUCKDB_TRIM_CLASS = r"[ \x{A0}\x{1680}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}]"
# An ASCII word character whatever the flags (RE2's \b and \B look at ASCII only; Java's, before JDK 19, at
# every letter and digit, and case-insensitive classes fold the Kelvin sign into [A-Za-z]).
_ASCII_WORD = "(?-i:[0-9A-Za-z_])"
_JAVA_ESCAPES = {
    "s": "[\\t\\n\\f\\r ]",  # RE2's \s; Java's also matches the vertical tab
    "S": "[^\\t\\n\\f\\r ]",
    "b": f"(?:(?<={_ASCII_WORD})(?!{_ASCII_WORD})|(?<!{_ASCII_WORD})(?={_ASCII_WORD}))",
    "B": f"(?:(?<={_ASCII_WORD})(?={_ASCII_WORD})|(?<!{_ASCII_WORD})(?!{_ASCII_WORD}))",
}


def java_regex(pattern: str) -> str:
    """The java.util.regex pattern that matches what RE2 (DuckDB) matches with `pattern`, a pattern in the
    common subset (`regex_problems` is empty). Measured differences it removes (Java 17, RE2 in DuckDB 2.0):

    - `.` excludes only `\\n` in RE2, every line terminator (`\\r`, U+0085, U+2028, U+2029) in Java: flag `d`;
    - `(?i)` folds Unicode case in RE2 (É/é, the Kelvin sign), ASCII only in Java: flag `u`;
    - `\\s`/`\\S`: Java's include/exclude the vertical tab: written out as RE2's class;
    - `\\b`/`\\B`: ASCII word characters in RE2, every letter and digit in Java 17: written out as lookarounds.

    `\\w`, `\\d` and `^` already agree. Raises StepError for `\\S` inside a character class (no equivalent
    class member)."""
    out, in_class, class_start, i = ["(?du)"], False, 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            e = pattern[i + 1]
            if in_class and e == "s":
                out.append("\\t\\n\\f\\r ")
            elif in_class and e in "SbB":
                raise StepError(
                    f"regex {pattern[:40]!r}: \\{e} inside a character class has no portable form"
                )
            elif e in _JAVA_ESCAPES:
                out.append(_JAVA_ESCAPES[e])
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class and c == "]" and pattern[class_start:i] not in ("", "^"):
            in_class = False
        elif not in_class and c == "[":
            in_class, class_start = True, i + 1
        out.append(c)
        i += 1
    return "".join(out)


def for_java(query: exp.Expression, step: str = "?") -> exp.Expression:
    """`query` (parameters bound) rewritten where a JVM engine's function means something else than DuckDB's:
    each regex literal through `java_regex`; `lower(x)` as `lower(replace(replace(x, 'İ', 'i'), 'Σ', 'σ'))`
    (Java lowercases İ to i + U+0307 and a final Σ to ς, DuckDB maps each character alone); `trim(x)` (and
    ltrim/rtrim) as a regexp_replace of DuckDB's trimmed characters (`DUCKDB_TRIM_CLASS`)."""

    def rewritten(node: exp.Expression) -> exp.Expression:
        if isinstance(node, REGEX_FUNCTIONS) and isinstance(node.expression, exp.Literal):
            try:
                node.set("expression", exp.Literal.string(java_regex(node.expression.this)))
            except StepError as exc:
                raise StepError(f"step {step!r}: {exc}") from exc
            return node
        if isinstance(node, exp.Lower):
            text = node.this
            for upper, lower in (("\u0130", "i"), ("\u03a3", "\u03c3")):
                text = exp.func("replace", text, exp.Literal.string(upper), exp.Literal.string(lower))
            return exp.Lower(this=text)
        if isinstance(node, exp.Trim) and node.expression is None:
            position = str(node.args.get("position") or "BOTH").upper()
            ends = {"LEADING": [f"^{DUCKDB_TRIM_CLASS}+"], "TRAILING": [f"{DUCKDB_TRIM_CLASS}+\\z"]}.get(
                position, [f"^{DUCKDB_TRIM_CLASS}+", f"{DUCKDB_TRIM_CLASS}+\\z"]
            )
            return exp.RegexpReplace(
                this=node.this,
                expression=exp.Literal.string("(?du)" + "|".join(ends)),
                replacement=exp.Literal.string(""),
                modifiers=exp.Literal.string("g"),
            )
        return node

    # Innermost first, so a rewritten node's arguments are rewritten too (lower(trim(x))).
    for node in reversed(list(query.find_all(exp.Lower, exp.Trim, *REGEX_FUNCTIONS, bfs=False))):
        new = rewritten(node)
        if new is not node:
            node.replace(new)
    return query


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
    if isinstance(node, (exp.RegexpExtract, exp.RegexpExtractAll)) and _group_problem(node):
        return [
            f"{node.sql(SOURCE_DIALECT)[:60]}: a group that takes no part in a match is NULL in DuckDB, '' in "
            "Spark; read a group > 0 only as coalesce(array_to_string(regexp_extract_all(s, p, g), ''), '')"
        ]
    if isinstance(node, REGEX_FUNCTIONS) and isinstance(node.expression, exp.Literal):
        return regex_problems(node.expression.this)
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
    if isinstance(node, exp.Round) and node.args.get("decimals") not in (None, exp.Literal.number(0)):
        return [
            f"{node.sql(SOURCE_DIALECT)[:40]}: round(x, n) rounds the exact double in DuckDB, its shortest decimal "
            "text half-up in Spark (0.00015 gives 0.0001 and 0.0002); write round(x * 10^n) / 10^n in DOUBLE"
        ]
    if isinstance(node, exp.Sum) and not _cast_to_wide(_up(node, exp.Window)):
        return [
            f"{node.sql(SOURCE_DIALECT)[:40]}: DuckDB sums integers to HUGEINT (a DECIMAL(38, 0) in Arrow), Spark "
            "to BIGINT; write CAST(sum(x) AS BIGINT) (or AS DOUBLE)"
        ]
    if isinstance(node, _INT32_IN_SPARK) and not _cast_to_wide(_up(node)):
        return _int32_problems(node)
    return []


# Functions whose second argument is a regex (DuckDB: regexp_matches, regexp_replace, regexp_extract[_all],
# string_split_regex, the ~ operator); a literal one is checked by `regex_problems`.
REGEX_FUNCTIONS = (
    exp.RegexpLike,
    exp.RegexpReplace,
    exp.RegexpExtract,
    exp.RegexpExtractAll,
    exp.RegexpSplit,
)
# Functions that return INT (32 bits) in Spark and BIGINT in DuckDB: length, instr/strpos, array_length.
_INT32_IN_SPARK = (exp.Length, exp.StrPosition, exp.ArraySize)
# Expressions an integer passes through unchanged in type (climbed to find where it lands).
_PASS_THROUGH = (exp.Paren, exp.Add, exp.Sub, exp.Mul, exp.Neg, exp.Coalesce, exp.If, exp.Case, exp.Greatest,
                 exp.Least)  # fmt: skip


def _group_problem(node: exp.Expression) -> bool:
    """A regexp_extract[_all] of a group > 0 read other than as coalesce(array_to_string(..., ''), '')."""
    group = node.args.get("group")
    if group is None or (isinstance(group, exp.Literal) and group.this == "0"):
        return False
    joined, outer = _up(node), None
    if isinstance(node, exp.RegexpExtractAll) and isinstance(joined, exp.ArrayToString):
        outer = _up(joined)
        empty = exp.Literal.string("")
        return not (
            joined.expression == empty and isinstance(outer, exp.Coalesce) and outer.expressions == [empty]
        )
    return True


def _up(node: exp.Expression, *skip: type[exp.Expression]) -> exp.Expression | None:
    """The nearest ancestor of `node` that is not a parenthesis (nor one of `skip`)."""
    parent = node.parent
    while isinstance(parent, (exp.Paren, *skip)):
        parent = parent.parent
    return parent


def _cast_to_wide(node: exp.Expression | None) -> bool:
    return isinstance(node, exp.Cast) and node.to.this in (exp.DataType.Type.BIGINT, exp.DataType.Type.DOUBLE)


def _int32_problems(node: exp.Expression) -> list[str]:
    """A Spark INT function whose value is multiplied (Spark's INT arithmetic wraps past 2^31 with ANSI mode
    off, DuckDB's BIGINT does not) or lands in a column (INT in Spark, BIGINT in DuckDB)."""
    child, parent = node, node.parent
    while isinstance(parent, _PASS_THROUGH):
        if isinstance(parent, exp.If) and child is parent.args.get("this"):
            return []  # the condition of a CASE WHEN
        if isinstance(parent, exp.Mul):
            return [
                f"{node.sql(SOURCE_DIALECT)[:40]}: INT in Spark, whose multiplication wraps past 2^31 (DuckDB's "
                "BIGINT does not); write CAST(... AS BIGINT) around the function"
            ]
        child, parent = parent, parent.parent
    if isinstance(parent, exp.Alias):
        return [
            f"{node.sql(SOURCE_DIALECT)[:40]}: a column of INT in Spark, BIGINT in DuckDB; write CAST(... AS BIGINT) "
            "around the function"
        ]
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
