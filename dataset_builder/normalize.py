"""The one place where raw dump fields (all read as text) become typed columns: the steps
`normalize_submissions` and `normalize_comments` (`sql/normalize_<kind>.sql`, portable to Spark SQL).

Quirks handled (see shared/data/README.md): `created_utc` as a string (2007-2015 dumps) or a float
(API), `edited` as false / an epoch number / true, a null `score`, `is_submitter` missing before
2017-07 (left NULL here, decided against the post author later), `t3_`/`t1_` prefixes on ids, and
Arctic Shift's `_meta.retrieved_2nd_on` as the retrieval time that picks the latest duplicate.

`removal` records, in one column, every way the dumps mark content as gone (the header of
`sql/normalize_comments.sql` lists them).
"""

from __future__ import annotations

import functools

import sqlglot
from sqlglot import exp

from dataset_builder import steps

NORMALIZE = {
    kind: steps.Step(f"normalize_{kind}", inputs=(f"chunk_{kind}",), outputs=(f"staged_{kind}",))
    for kind in ("submissions", "comments")
}


def params(file_idx: int) -> dict[str, steps.Param]:
    """The step's parameters: the index of the input file the chunk comes from."""
    return {"file_idx": int(file_idx)}


@functools.cache
def select(kind: str, source: str, file_idx: int) -> str:
    """DuckDB SELECT that turns a text-typed chunk (`source`: a table name or a parenthesized subquery,
    with the fields of `sources.FIELDS[kind]`, `_meta` and `_line`) into staging rows: the query of step
    `normalize_<kind>` with `source` in place of its input `chunk_<kind>`."""
    step = NORMALIZE[kind]
    (statement,) = step.statements()
    query = steps.bind(statement.query, params(file_idx), step.name)
    replacement = sqlglot.parse_one(f"SELECT * FROM {source}", read=steps.SOURCE_DIALECT).args["from_"].this
    for table in query.find_all(exp.Table):
        if table.name == step.inputs[0]:
            table.replace(replacement.copy())
    return query.sql(dialect=steps.SOURCE_DIALECT)


def empty_select(kind: str) -> str:
    """A zero-row SELECT with the staging schema, used to create the staging tables."""
    from dataset_builder.sources import FIELDS

    text_columns = ", ".join(f"NULL::VARCHAR AS {name}" for name in FIELDS[kind])
    source = f"(SELECT {text_columns}, NULL::VARCHAR AS _meta, NULL::BIGINT AS _line)"
    return select(kind, source, 0)
