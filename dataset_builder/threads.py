"""Threads: deduplicate, select posts and top-level comments, find the OP's direct replies.

Every exclusion gets exactly one reason (the first that applies, in the order of the CASE
expressions below) so the manifest's drop counts add up. All of it is SQL, so the same logic can
run on a distributed engine for all-Reddit dumps.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from dataset_builder.config import BuildConfig
from dataset_builder.signals import EDIT_MARKER
from dataset_builder.sql import in_list, literal, one

# Bots: a maintained list of known Reddit bots (known_bots.txt), names of a clear bot shape (`…Bot`,
# `…_bot`, `bot-…`, `…_bot_2`; not `robot` or `abbot`) and the phrases bots sign their comments with.
BOT_AUTHOR = r"^(?i:auto_?moderator)$|(?i:(?:^|[-_])bot(?:[-_]?\d+)?)$|^(?i:bot[-_])|[a-z0-9]Bot\d*$"
BOT_BODY = (
    r"(?i)(\bi am an? (?:ro)?bot\b|\bi'?m an? (?:ro)?bot\b|\bi am an automated\b|\bbeep,? boop\b"
    r"|this action was performed automatically|\bthis (?:is an )?automated (?:message|response|reply|comment)\b"
    r"|\^\(?i'?m\)? \^\(?a\)? \^\(?bot)"
)
KNOWN_BOTS_FILE = Path(__file__).with_name("known_bots.txt")


def known_bots() -> list[str]:
    """Lower-case names of `known_bots.txt` (one a line; `#` starts a comment)."""
    lines = KNOWN_BOTS_FILE.read_text(encoding="utf-8").splitlines()
    return sorted({line.split("#", 1)[0].strip().lower() for line in lines} - {""})


def _is_bot(author: str, text: str) -> str:
    """SQL: the author is a known bot or has a bot's name, or the text carries a bot's signature."""
    return (
        f"(lower({author}) IN ({in_list(known_bots())}) OR regexp_matches({author}, {literal(BOT_AUTHOR)}) "
        f"OR regexp_matches({text}, {literal(BOT_BODY)}))"
    )


SPAM_TITLE = (
    r"(?i)\b(survey|questionnaire|participants needed|research study|promo code|discount code|giveaway)\b"
)


def assemble(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> None:
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


PRESET_REQUIREMENTS = (
    ("require_edited", "not_edited"),
    ("drop_threads_with_deleted", "has_deleted_comments"),
    ("require_op_reply", "no_op_reply"),
)
"""Selection requirements (BuildConfig field) and the drop reason each gives a post, in the order applied."""


def requirement_drops(cfg: BuildConfig, drops: dict[str, dict[str, int]]) -> str:
    """Which selection requirements removed how many posts, in words, e.g.
    "require_edited removed 31,188 posts (not_edited); require_op_reply removed 2 (no_op_reply)"."""
    parts = [
        f"{name} removed {drops['submission'].get(reason, 0):,} posts ({reason})"
        for name, reason in PRESET_REQUIREMENTS
        if getattr(cfg, name)
    ]
    return "; ".join(parts)
