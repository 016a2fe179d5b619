"""The builder's SQL before the portable steps (commit cb68bd4: DuckDB f-strings in threads.py, labels.py,
splits.py and stats.py), kept verbatim as the oracle `test_builder_sql_portable` compares the `.sql` steps
with: on the same staged input and parameters, both must give the same tables. A deliberate change of a
rule (a new label rule version, a new drop reason) changes it here too, or retires this oracle for that
step once the `.sql` file has been reviewed on its own."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb

from dataset_builder.config import BuildConfig
from dataset_builder.signals import EDIT_MARKER
from dataset_builder.sql import in_list, literal, one
from dataset_builder.threads import BOT_AUTHOR, BOT_BODY, SPAM_TITLE, known_bots
from redditess_core.contract import CONFIG_NAMES, SPLITS


def _is_bot(author: str, text: str) -> str:
    """SQL: the author is a known bot or has a bot's name, or the text carries a bot's signature."""
    return (
        f"(lower({author}) IN ({in_list(known_bots())}) OR regexp_matches({author}, {literal(BOT_AUTHOR)}) "
        f"OR regexp_matches({text}, {literal(BOT_BODY)}))"
    )


def threads_assemble(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> None:
    """Create tables `posts` (with drop_reason), `kept_posts`, `comment_status`, `op_replies`,
    `top_comments` (kept, with op_reply_text) and `comment_drops`."""
    for kind in ("submissions", "comments"):
        total, unique = one(con, f"SELECT count(*), count(DISTINCT id) FROM raw_{kind}")
        if total == unique:  # the usual case: no copy, later steps read the staged files directly
            con.execute(f"CREATE OR REPLACE VIEW {kind} AS SELECT * FROM raw_{kind}")
            continue
        con.execute(f"""
            CREATE OR REPLACE TABLE {kind} AS
            SELECT * EXCLUDE (rn) FROM (
                SELECT *, row_number() OVER (
                    PARTITION BY id ORDER BY retrieved DESC, file_idx DESC, line DESC) AS rn
                FROM raw_{kind})
            WHERE rn = 1""")

    # PRAW-scraped dumps carry `edited: false` on every submission; the EDIT/UPDATE marker is then the only trace.
    edit_marker = f"regexp_matches(coalesce(s.selftext, ''), {literal(EDIT_MARKER)})"
    subreddit_filter = f"s.subreddit NOT IN ({in_list(cfg.subreddits)})" if cfg.subreddits else "false"
    con.execute(f"""
        CREATE OR REPLACE TABLE post_status AS
        SELECT s.*, CASE
            WHEN {subreddit_filter} THEN 'subreddit_not_selected'
            WHEN s.author IS NULL THEN 'deleted'
            WHEN s.removal IS NOT NULL THEN s.removal
            WHEN s.over_18 THEN 'nsfw'
            WHEN {_is_bot("s.author", "s.title || ' ' || s.selftext")} THEN 'bot'
            WHEN s.distinguished = 'moderator' OR s.stickied THEN 'moderator'
            WHEN regexp_matches(s.title, {literal(SPAM_TITLE)}) THEN 'spam_or_survey'
            WHEN length(trim(s.selftext)) < {int(cfg.min_post_chars)} THEN 'too_short'
            WHEN {str(cfg.require_edited).lower()} AND NOT coalesce(s.edited, false)
                 AND NOT {edit_marker} THEN 'not_edited'
            ELSE NULL END AS drop_reason,
            CASE WHEN coalesce(s.edited, false) THEN 'flag' WHEN {edit_marker} THEN 'marker' END AS edited_by
        FROM submissions s""")

    comment_filter = f"c.subreddit NOT IN ({in_list(cfg.subreddits)})" if cfg.subreddits else "false"
    con.execute(f"""
        CREATE OR REPLACE TABLE comment_status AS
        SELECT c.* EXCLUDE (body), p.author AS post_author, p.drop_reason AS post_drop,
               c.parent_id LIKE 't3_%' AS top_level,
               coalesce(c.is_submitter, lower(c.author) = lower(p.author), false) AS by_op,
               (c.author IS NULL OR coalesce(c.removal = 'deleted', false)) AS is_deleted,
               coalesce(c.removal IN ('removed', 'removed_by_reddit'), false) AS is_removed,
               CASE
                 WHEN {comment_filter} THEN 'subreddit_not_selected'
                 WHEN p.id IS NULL THEN 'orphan'
                 WHEN c.parent_id NOT LIKE 't3_%' THEN NULL
                 WHEN p.drop_reason IS NOT NULL THEN 'post_dropped'
                 WHEN c.author IS NULL THEN 'deleted'
                 WHEN c.removal IS NOT NULL THEN c.removal
                 WHEN coalesce(c.is_submitter, lower(c.author) = lower(p.author), false) THEN 'by_op'
                 WHEN {_is_bot("c.author", "c.body")} THEN 'bot'
                 WHEN c.distinguished = 'moderator' OR c.stickied THEN 'moderator'
                 WHEN length(trim(c.body)) < {int(cfg.min_comment_chars)} THEN 'too_short'
                 ELSE NULL END AS drop_reason
        FROM comments c LEFT JOIN post_status p ON p.id = c.post_id""")

    # The OP's direct replies to a top-level comment (the paper's third stage), in time order.
    con.execute("""
        CREATE OR REPLACE TABLE op_replies AS
        SELECT t.id AS comment_id,
               string_agg(b.body, '\n\n' ORDER BY r.created_utc, r.id) AS op_reply_text,
               count(*) AS op_reply_count
        FROM comment_status r JOIN comment_status t
             ON r.parent_id = 't1_' || t.id AND r.post_id = t.post_id
        JOIN comments b ON b.id = r.id
        WHERE NOT r.top_level AND r.by_op AND NOT r.is_deleted AND NOT r.is_removed
              AND t.top_level AND t.drop_reason IS NULL
        GROUP BY t.id""")

    # Post-level rules that need the comments: the paper preset's selection, and empty threads.
    con.execute("""
        CREATE OR REPLACE TABLE thread_facts AS
        SELECT post_id,
               count(*) FILTER (WHERE top_level AND drop_reason IS NULL) AS kept_comments,
               count(*) FILTER (WHERE is_deleted OR is_removed) AS deleted_comments,
               count(r.comment_id) AS op_replied_comments
        FROM comment_status c LEFT JOIN op_replies r ON r.comment_id = c.id
        WHERE post_drop IS NULL GROUP BY post_id""")
    con.execute(f"""
        CREATE OR REPLACE TABLE posts AS
        SELECT p.* EXCLUDE (drop_reason), CASE
            WHEN p.drop_reason IS NOT NULL THEN p.drop_reason
            WHEN {str(cfg.drop_threads_with_deleted).lower()} AND coalesce(f.deleted_comments, 0) > 0
                 THEN 'has_deleted_comments'
            WHEN {str(cfg.require_op_reply).lower()} AND coalesce(f.op_replied_comments, 0) = 0
                 THEN 'no_op_reply'
            WHEN coalesce(f.kept_comments, 0) = 0 THEN 'no_kept_comments'
            ELSE NULL END AS drop_reason
        FROM post_status p LEFT JOIN thread_facts f ON f.post_id = p.id""")
    con.execute("""
        CREATE OR REPLACE TABLE top_comments AS
        SELECT c.id AS comment_id, c.post_id, c.subreddit, c.author, b.body, c.score, c.created_utc,
               r.op_reply_text, coalesce(r.op_reply_count, 0) AS op_reply_count
        FROM comment_status c
        JOIN posts p ON p.id = c.post_id AND p.drop_reason IS NULL
        JOIN comments b ON b.id = c.id
        LEFT JOIN op_replies r ON r.comment_id = c.id
        WHERE c.top_level AND c.drop_reason IS NULL""")
    # Comments of posts dropped only now (second phase) are counted as post_dropped.
    con.execute("""
        CREATE OR REPLACE TABLE comment_drops AS
        SELECT CASE WHEN c.drop_reason IS NULL AND p.drop_reason IS NOT NULL THEN 'post_dropped'
                    ELSE c.drop_reason END AS reason, count(*) AS n
        FROM comment_status c LEFT JOIN posts p ON p.id = c.post_id
        WHERE c.top_level OR c.drop_reason IN ('orphan', 'subreddit_not_selected')
        GROUP BY 1""")
    con.execute("""
        CREATE OR REPLACE TABLE kept_posts AS
        SELECT id AS post_id, subreddit, author, title, selftext, score, created_utc, edited, edited_by
        FROM posts WHERE drop_reason IS NULL""")


def drop_counts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Exclusions by reason: `submission` (posts) and `comment` (top-level comments and orphans)."""
    posts = dict(
        con.sql("SELECT drop_reason, count(*) FROM posts WHERE drop_reason IS NOT NULL GROUP BY 1").fetchall()
    )
    comments = dict(con.sql("SELECT reason, n FROM comment_drops WHERE reason IS NOT NULL").fetchall())
    return {"submission": dict(sorted(posts.items())), "comment": dict(sorted(comments.items()))}


def thread_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Counts for the manifest; `edited_by_flag` / `edited_by_marker`: kept posts whose `edited` field is set /
    that carry only an EDIT/UPDATE marker in their text (PRAW-scraped dumps)."""
    row = one(
        con,
        """
        SELECT (SELECT count(*) FROM raw_submissions), (SELECT count(*) FROM submissions),
               (SELECT count(*) FROM raw_comments), (SELECT count(*) FROM comments),
               (SELECT count(*) FILTER (WHERE top_level) FROM comment_status),
               (SELECT count(*) FROM kept_posts), (SELECT count(*) FROM top_comments),
               (SELECT count(*) FILTER (WHERE op_reply_text IS NOT NULL) FROM top_comments),
               (SELECT coalesce(sum(op_reply_count), 0) FROM top_comments),
               (SELECT count(*) FROM comment_status r JOIN comment_status t
                  ON r.parent_id = 't1_' || t.id AND r.post_id = t.post_id
                WHERE t.top_level AND r.by_op AND NOT r.is_deleted AND r.drop_reason IS NULL),
               (SELECT count(*) FILTER (WHERE edited_by = 'flag') FROM kept_posts),
               (SELECT count(*) FILTER (WHERE edited_by = 'marker') FROM kept_posts)""",
    )
    names = (
        "submissions_read", "submissions_unique", "comments_read", "comments_unique", "top_level_comments",
        "posts_kept", "top_level_comments_kept", "comments_with_op_reply", "op_replies_used",
        "op_direct_replies_in_input", "edited_by_flag", "edited_by_marker",
    )  # fmt: skip
    return {name: int(value) for name, value in zip(names, row, strict=True)}


def vote_sql(cfg: BuildConfig) -> str:
    """SQL expressions for the votes and their strengths over a `comment_signals` row aliased `s`."""
    feedback_votes = "true" if cfg.thread_feedback_votes else "feedback_names_author"
    enough = f"scored_in_post >= {int(cfg.reception_min_comments)} AND reception IS NOT NULL"
    return f"""
        CASE WHEN NOT ({enough}) THEN 0
             WHEN reception >= {cfg.reception_effective_min} THEN 1
             WHEN reception <= {cfg.reception_not_effective_max}
                  AND s.score <= {int(cfg.negative_reception_max_score)} THEN -1 ELSE 0 END AS v_reception,
        CASE WHEN op_signal IS NULL THEN 0
             WHEN op_signal >= {cfg.op_effective_min} THEN 1
             WHEN op_signal <= {cfg.op_not_effective_max} THEN -1 ELSE 0 END AS v_op_signal,
        CASE WHEN post_feedback IS NULL OR NOT {feedback_votes} THEN 0
             WHEN post_feedback >= {cfg.feedback_effective_min} THEN 1
             WHEN post_feedback <= {cfg.feedback_not_effective_max} THEN -1 ELSE 0 END AS v_post_feedback,
        coalesce(abs(s.reception - 0.5) * 2, 0) AS s_reception,
        coalesce(abs(op_signal - 0.5) * 2, 0) AS s_op_signal,
        coalesce(abs(post_feedback), 0) AS s_post_feedback"""


def labels_compute(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> None:
    """Create `comment_labels(comment_id, label, label_confidence, label_source)`; label NULL = undecided."""
    w_op, w_pf = cfg.weight_op_signal, cfg.weight_post_feedback
    w_rec = (
        f"(CASE WHEN v_reception < 0 THEN {cfg.weight_negative_reception} ELSE {cfg.weight_reception} END)"
    )
    may_label = "u.seeks_support" if cfg.label_only_support_seeking else "true"
    signals = (("op_signal", w_op), ("reception", "w_reception"), ("post_feedback", w_pf))
    agree = " + ".join(f"{w} * s_{n} * (v_{n} = 2 * label - 1)::INT" for n, w in signals)
    disagree = " + ".join(f"{w} * s_{n} * (v_{n} = 1 - 2 * label)::INT" for n, w in signals)
    source = ", ".join(f"CASE WHEN v_{n} = 2 * label - 1 THEN '{n}' END" for n, _ in signals)
    con.execute(f"""
        CREATE OR REPLACE TABLE comment_labels AS
        WITH votes AS (
            SELECT s.comment_id, s.op_evidence, {vote_sql(cfg)}, {may_label} AS may_label
            FROM comment_signals s JOIN top_comments t ON t.comment_id = s.comment_id
            JOIN post_support u ON u.post_id = t.post_id),
        weighted AS (SELECT *, {w_rec} AS w_reception FROM votes),
        summed AS (
            SELECT *, {w_op} * v_op_signal + w_reception * v_reception + {w_pf} * v_post_feedback AS score,
                   {w_op} * abs(v_op_signal) + w_reception * abs(v_reception) + {w_pf} * abs(v_post_feedback)
                     AS voting
            FROM weighted),
        labeled AS (
            SELECT *, CASE WHEN NOT may_label THEN NULL
                           WHEN score >= {cfg.label_margin} THEN 1
                           WHEN score <= -{cfg.label_margin} THEN 0 ELSE NULL END AS label
            FROM summed)
        SELECT comment_id, label,
               CASE WHEN label IS NULL THEN NULL
                    ELSE round(greatest(0.0, ({agree}) - ({disagree})) / voting, 4) END AS label_confidence,
               CASE WHEN label IS NULL THEN NULL ELSE concat_ws('+', {source}) END AS label_source
        FROM labeled""")


def split_sql(cfg: BuildConfig, column: str = "post_id") -> str:
    """The same assignment as a SQL expression (md5 exists in DuckDB, Spark SQL and Postgres)."""
    u = f"(CAST(CONCAT('0x', substr(md5('{int(cfg.seed)}:' || {column}), 1, 8)) AS UBIGINT) / 4294967296.0)"
    return (
        f"CASE WHEN {u} < {cfg.test_fraction} THEN 'test' "
        f"WHEN {u} < {cfg.test_fraction + cfg.validation_fraction} THEN 'validation' ELSE 'train' END"
    )


def _files(folder: Path, config: str, split: str | None = None) -> list[str]:
    pattern = f"{split}-*.parquet" if split else "*.parquet"
    return sorted(str(p) for p in (folder / "data" / config).glob(pattern))


def stats_compute(folder: Path) -> dict[str, Any]:
    con = duckdb.connect()
    stats: dict[str, Any] = {"rows": {}, "label_balance": {}, "pairs_per_post": {}, "pair_sources": {}}
    for config in CONFIG_NAMES:
        stats["rows"][config] = {}
        for split in SPLITS:
            files = _files(folder, config, split)
            stats["rows"][config][split] = (
                one(con, "SELECT count(*) FROM read_parquet(?)", [files])[0] if files else 0
            )
    for split in SPLITS:
        files = _files(folder, "effective_support", split)
        if files:
            counts = dict(
                con.execute("SELECT label, count(*) FROM read_parquet(?) GROUP BY 1", [files]).fetchall()
            )
            stats["label_balance"][split] = {"not_effective": counts.get(0, 0), "effective": counts.get(1, 0)}
    if files := _files(folder, "effective_support"):
        stats["label_confidence"] = confidence_distribution(con, files)
        stats["label_sources"] = dict(
            con.execute(
                "SELECT label_source || ' -> ' || CASE label WHEN 1 THEN 'effective' ELSE 'not_effective' END, "
                "count(*) FROM read_parquet(?) GROUP BY 1 ORDER BY 2 DESC, 1",
                [files],
            ).fetchall()
        )
    for config in ("preference", "improvement", "sft"):
        files = _files(folder, config)
        if files:
            mean, top, posts = one(
                con,
                "SELECT avg(n), max(n), count(*) FROM (SELECT post_id, count(*) n FROM read_parquet(?) GROUP BY 1)",
                [files],
            )
            stats["pairs_per_post"][config] = {
                "mean": round(float(mean), 3),
                "max": int(top),
                "posts": int(posts),
            }
    if files := _files(folder, "preference"):
        stats["pair_sources"] = dict(
            con.execute(
                "SELECT pair_source, count(*) FROM read_parquet(?) GROUP BY 1 ORDER BY 1", [files]
            ).fetchall()
        )
    if files := _files(folder, "preference"):
        # Share of pairs whose chosen reply is longer (characters): votes favour length or its opposite.
        stats["chosen_longer_share"] = {
            source: round(float(share), 4)
            for source, share in con.execute(
                "SELECT pair_source, avg((length(chosen[1].content) > length(rejected[1].content))::INT) "
                "FROM read_parquet(?) GROUP BY 1 ORDER BY 1",
                [files],
            ).fetchall()
        }
    if files := _files(folder, "improvement"):
        stats["improvement_sources"] = dict(
            con.execute(
                "SELECT pair_source, count(*) FROM read_parquet(?) GROUP BY 1 ORDER BY 1", [files]
            ).fetchall()
        )
    if files := _files(folder, "comments"):
        stats["subreddits"] = dict(
            con.execute(
                "SELECT subreddit, count(*) FROM read_parquet(?) GROUP BY 1 ORDER BY 2 DESC, 1", [files]
            ).fetchall()
        )
        (
            stats["sensitive_rows"],
            stats["unlabeled_comments"],
            stats["comments_on_posts_not_seeking_support"],
        ) = one(
            con,
            "SELECT count(*) FILTER (WHERE is_sensitive), count(*) FILTER (WHERE label IS NULL), "
            "count(*) FILTER (WHERE NOT seeks_support) FROM read_parquet(?)",
            [files],
        )
    return stats


CONFIDENCE_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def confidence_distribution(con: duckdb.DuckDBPyConnection, files: list[str]) -> dict[str, dict[str, Any]]:
    """`label_confidence` per label: n, mean, quantiles and counts in CONFIDENCE_BINS (the last bin closed)."""
    result: dict[str, dict[str, Any]] = {}
    edges = CONFIDENCE_BINS
    bins = ", ".join(
        f"count(*) FILTER (WHERE label_confidence >= {lo} AND label_confidence "
        f"{'<=' if hi == edges[-1] else '<'} {hi})"
        for lo, hi in pairwise(edges)
    )
    for value, name in ((1, "effective"), (0, "not_effective")):
        row = one(
            con,
            "SELECT count(*), avg(label_confidence), "
            "quantile_cont(label_confidence, [0.1, 0.25, 0.5, 0.75, 0.9]), "
            f"{bins} FROM read_parquet(?) WHERE label = ?",
            [files, value],
        )
        n, mean, quantiles, counts = row[0], row[1], row[2], row[3:]
        if not n:
            continue
        result[name] = {
            "n": int(n),
            "mean": round(float(mean), 4),
            **{
                k: round(float(q), 4)
                for k, q in zip(("p10", "p25", "median", "p75", "p90"), quantiles, strict=True)
            },
            "bins": {
                f"{lo:.1f}-{hi:.1f}": int(c) for (lo, hi), c in zip(pairwise(edges), counts, strict=True)
            },
        }
    return result
