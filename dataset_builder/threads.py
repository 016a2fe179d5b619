"""Threads: deduplicate, select posts and top-level comments, find the OP's direct replies.

All of it is SQL in portable steps (`sql/dedup_*.sql`, `sql/threads.sql`, `sql/thread_counts.sql`), so the
same logic runs on a distributed engine for all-Reddit dumps. Every exclusion gets exactly one reason (the
first that applies, in the order of the CASE expressions of `sql/threads.sql`) so the manifest's drop counts
add up.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from dataset_builder import steps
from dataset_builder.config import BuildConfig
from dataset_builder.signals import EDIT_MARKER
from dataset_builder.sql import one

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


SPAM_TITLE = (
    r"(?i)\b(survey|questionnaire|participants needed|research study|promo code|discount code|giveaway)\b"
)


DEDUP = {
    kind: steps.Step(f"dedup_{kind}", inputs=(f"raw_{kind}",), outputs=(kind,))
    for kind in ("submissions", "comments")
}
THREADS = steps.Step(
    "threads",
    inputs=("submissions", "comments"),
    outputs=(
        "post_status", "comment_status", "op_replies", "thread_facts", "posts", "top_comments",
        "comment_drops", "kept_posts",
    ),
)  # fmt: skip
THREAD_COUNTS = steps.Step(
    "thread_counts",
    inputs=(
        "raw_submissions", "submissions", "raw_comments", "comments", "comment_status", "kept_posts",
        "top_comments", "posts", "comment_drops",
    ),
    outputs=("thread_counts", "thread_drops"),
)  # fmt: skip


def params(cfg: BuildConfig) -> dict[str, steps.Param]:
    """The parameters of `sql/threads.sql`."""
    return {
        "subreddits_selected": bool(cfg.subreddits),
        "subreddits": list(cfg.subreddits or []),
        "known_bots": known_bots(),
        "bot_author": BOT_AUTHOR,
        "bot_body": BOT_BODY,
        "spam_title": SPAM_TITLE,
        "edit_marker": EDIT_MARKER,
        "min_post_chars": int(cfg.min_post_chars),
        "min_comment_chars": int(cfg.min_comment_chars),
        "require_edited": bool(cfg.require_edited),
        "drop_threads_with_deleted": bool(cfg.drop_threads_with_deleted),
        "require_op_reply": bool(cfg.require_op_reply),
    }


def assemble(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> None:
    """Create tables `posts` (with drop_reason), `kept_posts`, `comment_status`, `op_replies`,
    `top_comments` (kept, with op_reply_text), `comment_drops` and the figures `thread_counts`,
    `thread_drops`."""
    for kind, step in DEDUP.items():
        total, unique = one(con, f"SELECT count(*), count(DISTINCT id) FROM raw_{kind}")
        if total == unique:  # the usual case: no copy, later steps read the staged files directly
            con.execute(f"CREATE OR REPLACE VIEW {kind} AS SELECT * FROM raw_{kind}")
        else:
            steps.run(con, step, {})
    steps.run(con, THREADS, params(cfg))
    steps.run(con, THREAD_COUNTS, {})


def drop_counts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Exclusions by reason: `submission` (posts) and `comment` (top-level comments and orphans)."""
    drops: dict[str, dict[str, int]] = {"submission": {}, "comment": {}}
    for kind, reason, n in con.sql(
        "SELECT kind, reason, n FROM thread_drops ORDER BY kind, reason"
    ).fetchall():
        drops[kind][reason] = int(n)
    return drops


def thread_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Counts for the manifest (the columns of `thread_counts`, see `sql/thread_counts.sql`)."""
    cursor = con.execute("SELECT * FROM thread_counts")
    names = [column[0] for column in cursor.description]
    (row,) = cursor.fetchall()
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
