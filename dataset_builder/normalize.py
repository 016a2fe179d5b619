"""The one place where raw dump fields (all read as text) become typed columns.

Quirks handled (see shared/data/README.md): `created_utc` as a string (2007-2015 dumps) or a float
(API), `edited` as false / an epoch number / true, a null `score`, `is_submitter` missing before
2017-07 (left NULL here, decided against the post author later), `t3_`/`t1_` prefixes on ids, and
Arctic Shift's `_meta.retrieved_2nd_on` as the retrieval time that picks the latest duplicate.
"""

from __future__ import annotations

_INT = "TRY_CAST(TRY_CAST({0} AS DOUBLE) AS BIGINT)"
_BOOL = "coalesce(lower(trim({0})) IN ('true', '1', '1.0'), false)"
_NULLABLE_BOOL = (
    "CASE WHEN lower(trim({0})) IN ('true', '1') THEN true "
    "WHEN lower(trim({0})) IN ('false', '0') THEN false ELSE NULL END"
)
_ID = "regexp_replace(lower(trim({0})), '^t[1-6]_', '')"
_RETRIEVED = (
    "coalesce(TRY_CAST(TRY_CAST(json_extract_string(_meta, '$.retrieved_2nd_on') AS DOUBLE) AS BIGINT), "
    + _INT.format("retrieved_utc")
    + ", "
    + _INT.format("retrieved_on")
    + ", 0)"
)
_EDITED = "(edited IS NOT NULL AND lower(trim(edited)) NOT IN ('false', '0', '0.0', '', 'null'))"

_COLUMNS = {
    "submissions": [
        (_ID.format("id"), "id"),
        ("lower(trim(subreddit))", "subreddit"),
        ("author", "author"),
        ("coalesce(title, '')", "title"),
        ("coalesce(selftext, '')", "selftext"),
        (_INT.format("created_utc"), "created_utc"),
        (_INT.format("score"), "score"),
        (_EDITED, "edited"),
        (_BOOL.format("over_18"), "over_18"),
        ("distinguished", "distinguished"),
        ("removed_by_category", "removed_by_category"),
        (_BOOL.format("stickied"), "stickied"),
    ],
    "comments": [
        (_ID.format("id"), "id"),
        (_ID.format("link_id"), "post_id"),
        ("lower(trim(parent_id))", "parent_id"),
        ("lower(trim(subreddit))", "subreddit"),
        ("author", "author"),
        ("body", "body"),
        (_INT.format("created_utc"), "created_utc"),
        (_INT.format("score"), "score"),
        (_NULLABLE_BOOL.format("is_submitter"), "is_submitter"),
        ("distinguished", "distinguished"),
        (_BOOL.format("stickied"), "stickied"),
    ],
}


def select(kind: str, source: str, file_idx: int) -> str:
    """SELECT that turns a text-typed chunk (`source`, with a `_line` column) into staging rows."""
    columns = [f"{expr} AS {name}" for expr, name in _COLUMNS[kind]]
    columns += [f"{_RETRIEVED} AS retrieved", f"{int(file_idx)}::INTEGER AS file_idx", "_line AS line"]
    return f"SELECT {', '.join(columns)} FROM {source}"


def empty_select(kind: str) -> str:
    """A zero-row SELECT with the staging schema, used to create the staging tables."""
    from dataset_builder.sources import FIELDS

    text_columns = ", ".join(f"NULL::VARCHAR AS {name}" for name in FIELDS[kind])
    source = f"(SELECT {text_columns}, NULL::VARCHAR AS _meta, NULL::BIGINT AS _line)"
    return select(kind, source, 0)
