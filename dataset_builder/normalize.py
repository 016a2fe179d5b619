"""The one place where raw dump fields (all read as text) become typed columns.

Quirks handled (see shared/data/README.md): `created_utc` as a string (2007-2015 dumps) or a float
(API), `edited` as false / an epoch number / true, a null `score`, `is_submitter` missing before
2017-07 (left NULL here, decided against the post author later), `t3_`/`t1_` prefixes on ids, and
Arctic Shift's `_meta.retrieved_2nd_on` as the retrieval time that picks the latest duplicate.

`removal` records, in one column, every way the dumps mark content as gone (`removal_sql`).
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

# Texts that stand in for gone content: `[deleted]`, `[removed]`, `[ Removed by Reddit ]`, `[ Removed by
# Reddit on account of violating the content policy. ]`, `[deleted by user]`, `[removed by moderator]`.
_GONE_TEXT = r"^\[\s*(deleted|deleted by user|removed|removed by [a-z]+[^\]]*|unavailable)\s*\]$"
# `removed_by_category` values (Reddit API, kept by Pushshift and Arctic Shift) set by Reddit itself.
_BY_REDDIT = "'reddit', 'anti_evil_ops', 'copyright_takedown', 'content_takedown', 'legal', 'admin'"


def removal_sql(text_columns: tuple[str, ...]) -> str:
    """Why content is gone, or NULL: `deleted` (by its author: `[deleted]` author or text,
    removed_by_category deleted/author, Arctic Shift `_meta.removal_type` deleted or
    `_meta.was_deleted_later`), `removed_by_reddit` (`[ Removed by Reddit ]` text, removed_by_category
    reddit/anti_evil_ops/copyright/content takedown/legal, `_meta.removal_type` "removed by reddit"),
    `removed` (by moderators: `[removed]` text, any other removed_by_category, removed_by, banned_by,
    `_meta.removal_type` removed)."""
    texts = [f"lower(trim(coalesce({c}, '')))" for c in text_columns]
    marker = " OR ".join(f"regexp_matches({t}, {_quoted(_GONE_TEXT)})" for t in texts)
    by_author = " OR ".join(f"{t} IN ('[deleted]', '[deleted by user]')" for t in texts)
    by_reddit = " OR ".join(
        f"{t} LIKE '[ removed by reddit%' OR {t} LIKE '[removed by reddit%'" for t in texts
    )
    meta = "lower(json_extract_string(_meta, '$.removal_type'))"
    category = "lower(trim(removed_by_category))"
    flag = "(lower(trim(coalesce({0}, ''))) NOT IN ('', 'false', 'null', 'none', '0'))"
    return f"""CASE
        WHEN author = '[deleted]' OR {by_author} OR {category} IN ('deleted', 'author')
             OR {meta} = 'deleted' OR {_BOOL.format("json_extract_string(_meta, '$.was_deleted_later')")}
             THEN 'deleted'
        WHEN {by_reddit} OR {category} IN ({_BY_REDDIT}) OR {meta} LIKE '%reddit%' THEN 'removed_by_reddit'
        WHEN {marker} OR {category} IS NOT NULL OR {flag.format("removed_by")} OR {flag.format("banned_by")}
             OR {meta} IS NOT NULL THEN 'removed'
        ELSE NULL END"""


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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
        (removal_sql(("title", "selftext")), "removal"),
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
        (removal_sql(("body",)), "removal"),
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
