"""Snapshots that pin each portable step's output tables (`dataset_builder/sql/<step>.sql`).

Each step runs on the synthetic sample (`dataset_builder.synthetic`, no real Reddit data) under the
configurations of `VARIANTS`, plus its own crafted inputs where the sample does not reach a rule (edge values
of the raw fields for `normalize_*`, duplicated records for `dedup_*`); `stats` runs on the demo folder
built from the sample. For every output table, `snapshots/<step>.json` holds its columns and types, its row
count, a sha256 of its sorted rows and its first rows, with the sha256 of the `.sql` file it came from.
`test_builder_sql_portable.py` recomputes them and fails on any difference.

A deliberate change of a rule (or of an upstream module whose tables a step reads) regenerates them, and the
diff of the snapshot files is reviewed with the rule change:

    PYTHONPATH=. python tests/builder/step_snapshots.py            # rewrite every snapshot
    PYTHONPATH=. python tests/builder/step_snapshots.py threads    # only these steps
    PYTHONPATH=. python tests/builder/step_snapshots.py --check    # compare, write nothing (exit 1 on a change)

Floats are hashed and shown with 12 significant digits, so the last bit of a parallel sum cannot make a
snapshot flaky.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import itertools
import json
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

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
from dataset_builder.ingest import ingest
from dataset_builder.sources import FIELDS, discover
from dataset_builder.synthetic import write_sample

SNAPSHOT_DIR = Path(__file__).with_name("snapshots")
REGENERATE = "PYTHONPATH=. python tests/builder/step_snapshots.py <step>"
HEAD_ROWS = 3
SNAPSHOT_KEY = b"step-snapshots-key-not-a-secret-0123456789"  # pseudonyms of the synthetic sample

STEPS: dict[str, steps.Step] = {
    step.name: step
    for step in (
        *normalize.NORMALIZE.values(),
        *threads.DEDUP.values(),
        threads.THREADS,
        threads.THREAD_COUNTS,
        support.SUPPORT,
        eligibility.POSTS,
        eligibility.REPLIES,
        privacy.PARTICIPANTS,
        privacy.NAME_HITS,
        revisions.EARLIER,
        revisions.NAME_HITS,
        export.ROWS,
        signals.FEEDBACK,
        signals.SIGNALS,
        labels.LABELS,
        splits.SPLITS,
        pairs.PREFERENCE,
        pairs.SFT,
        pairs.IMPROVEMENT_CANDIDATES,
        pairs.LEXICAL,
        pairs.IMPROVEMENT,
        pipeline.ESS,
        stats.STATS,
    )
}

# Configurations the sample's steps run under: the kit's defaults, a subreddit selection with its own
# thresholds/seed/fractions, the vote's weights/margins/switches, and the paper preset.
VARIANTS: dict[str, dict[str, Any]] = {
    "kit": {},
    "selected": {
        "subreddits": ["anxiety", "PTSD", "r/Depression"],
        "require_op_reply": True,
        "min_comment_chars": 40,
        "seed": 3,
        "test_fraction": 0.2,
        "validation_fraction": 0.15,
    },
    "votes": {
        "thread_feedback_votes": True,
        "label_only_support_seeking": False,
        "label_margin": 1.0,
        "weight_reception": 1.5,
        "weight_negative_reception": 2.5,
        "reception_min_comments": 2,
        "op_effective_min": 0.55,
        "require_edited": True,
    },
    "paper": {"preset": "paper", "require_edited": False},
}
# Steps whose tables do not depend on the configuration are pinned under "kit" only.
CONFIG_FREE = {"normalize_submissions", "normalize_comments", "dedup_submissions", "dedup_comments"}


def config(raw: Path, variant: str) -> BuildConfig:
    return BuildConfig(inputs=[raw], **VARIANTS[variant]).with_preset(set(VARIANTS[variant]))


def sql_sha256(step: steps.Step) -> str:
    return hashlib.sha256(step.path.read_bytes()).hexdigest()


def _value(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _value(v) for k, v in value.items()}
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)  # dates, decimals


def _shown(value: Any) -> Any:
    """A value as the snapshot's head shows it: long texts, and texts with an address or a link (the
    sample plants fake ones for the privacy tests), as their length and hash."""
    if isinstance(value, list):
        return [_shown(v) for v in value]
    if isinstance(value, str) and (len(value) > 40 or "@" in value or "://" in value):
        return f"<text: {len(value)} chars, sha256 {hashlib.sha256(value.encode()).hexdigest()[:12]}>"
    return value


def table_digest(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, Any]:
    """{columns: ["name TYPE"], rows: n, sha256: of the sorted JSON rows, head: the first sorted rows (one
    JSON line each, texts shown by `_shown`)}."""
    columns = [f"{name} {kind}" for name, kind, *_ in con.execute(f"DESCRIBE {table}").fetchall()]
    rows = sorted(
        json.dumps(_value(list(r)), ensure_ascii=False)
        for r in con.execute(f"SELECT * FROM {table}").fetchall()
    )
    return {
        "columns": columns,
        "rows": len(rows),
        "sha256": hashlib.sha256("\n".join(rows).encode()).hexdigest(),
        "head": [json.dumps(_shown(json.loads(r)), ensure_ascii=False) for r in rows[:HEAD_ROWS]],
    }


def _outputs(con: duckdb.DuckDBPyConnection, step: steps.Step) -> dict[str, Any]:
    return {output: table_digest(con, output) for output in step.outputs}


def edge_chunk(kind: str) -> pa.Table:
    """Raw text records crossing the edge values of the fields `normalize_<kind>` reads: placeholder texts
    (with spaces, case, trailing text), removal categories, removed_by/banned_by flags, Arctic Shift `_meta`,
    prefixed ids, numbers as strings/floats, booleans as text."""
    texts = [None, "", "  [deleted] ", "[Deleted by user]", "[ Removed by Reddit ]",
             "[removed by reddit on account of x ]", "[removed by moderator]", "[ removed ]", "[unavailable]",
             "[removed] extra", "x [removed]", "[REMOVED BY REDDIT] tail", "[removed by 9]", "[", "hello"]  # fmt: skip
    categories = [None, "deleted", "Reddit", "moderator"]
    flags = [None, "", "false", "None", "someone"]
    metas = [None, '{"removal_type": "deleted"}', '{"removal_type": "Removed by Reddit"}',
             '{"removal_type": "removed", "was_deleted_later": true, "retrieved_2nd_on": 1700000000.5}',
             '{"was_deleted_later": "1"}']  # fmt: skip
    values = [None, " T1_AbC ", "1.0", "true", "0", "False", "1600000000.0", "null", "x"]
    texts_of = ("body",) if kind == "comments" else ("title", "selftext")
    rows = []
    for i, (text, category, flag, meta, value) in enumerate(
        itertools.product(texts, categories, flags, metas, values)
    ):
        row: dict[str, Any] = dict.fromkeys(FIELDS[kind], value)
        row.update(
            author="[deleted]" if i % 7 == 0 else "someone",
            removed_by_category=category,
            removed_by=flag,
            banned_by=flags[i % len(flags)],
            _meta=meta,
            _line=i,
        )
        for j, column in enumerate(texts_of):
            row[column] = text if j == 0 else texts[i % len(texts)]
        rows.append(row)
    schema = pa.schema(
        [(name, pa.string()) for name in FIELDS[kind]] + [("_meta", pa.string()), ("_line", pa.int64())]
    )
    return pa.Table.from_pylist(rows, schema=schema)


# Titles and texts whose pairs reach every support reason, the markdown/URL measure and curly apostrophes.
SUPPORT_TITLES = [
    None,
    "",
    "Megathread: decisions",
    "Quick poll",
    "Share your setup",
    "PSA: deadline moved",
    "hello seniors, please read",
    "Starter pack meme",
    "Would you rather take a gap year",
    "Any advice?",
    "I got in!",
    "Tips for new students",
    "Rant about my lab",
    "What\u2019s your favorite class?",
    "Is the library open?",
    "My week",
    "Struggling with everything",
]
SUPPORT_TEXTS = [
    None,
    "",
    "https://i.example.invalid/abc.jpg",
    "[see this](https://example.invalid/x) ok",
    "[https://example.invalid/q](https://example.invalid/q)",
    "**bold** _it_ ~~s~~ `c` > q | x - y",
    "Take our survey please, it is short and helps a lot.",
    "I feel so lost and I don\u2019t know what to do.",
    "What do you guys think of the new policy on housing?",
    "Here are my notes, hope this helps everyone.",
    "We went to the game and it was loud and fun all night.",
    "Does the gym open at six on weekends?",
    "Should I drop this class? I\u2019m failing it.",
]


def support_posts() -> pa.Table:
    """Kept posts for the `support` step: every title with every text (string columns, ids in order)."""
    pairs = list(itertools.product(SUPPORT_TITLES, SUPPORT_TEXTS))
    return pa.table(
        {
            "post_id": [f"p{i}" for i in range(len(pairs))],
            "title": [t for t, _ in pairs],
            "selftext": [x for _, x in pairs],
        }
    )


def eligibility_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """Posts for `eligibility_posts` that reach every reason and the boundaries of both thresholds (kit
    defaults): texts NULL, empty, space/newline-padded, at and over `max_post_chars`; threads at and over
    `max_post_comments`; support NULL (no row), true and false."""
    cfg = BuildConfig(inputs=[Path(".")])
    long_chars, many = cfg.max_post_chars, cfg.max_post_comments
    texts = [None, "", "  \n padded text \n\n ", "x" * long_chars, "x" * (long_chars + 1), "\t\ttabs"]
    titles = [None, "", " a title "]
    comments = [1, many, many + 1]
    support_rows = [None, True, False]
    posts = list(itertools.product(texts, titles, comments, support_rows))
    ids = [f"p{i}" for i in range(len(posts))]
    con.register(
        "clean_posts",
        pa.table({"post_id": ids, "post_title": [p[1] for p in posts], "post_text": [p[0] for p in posts]}),
    )
    ess = [(pid, f"{pid}c{j}") for pid, post in zip(ids, posts, strict=True) for j in range(post[2])]
    con.register("ess", pa.table({"post_id": [e[0] for e in ess], "comment_id": [e[1] for e in ess]}))
    seeking = [(pid, post[3]) for pid, post in zip(ids, posts, strict=True) if post[3] is not None]
    con.register(
        "post_support",
        pa.table({"post_id": [s[0] for s in seeking], "seeks_support": [s[1] for s in seeking]}),
    )


def name_hit_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """Texts for the name-hit steps at the token rule's edges: names of 2 and 3 characters, `-` and `_`
    inside names, upper case, a name inside a longer token, a name of another thread, NULL texts and
    replies (the concatenated text is NULL when the post text is)."""
    con.register(
        "participants",
        pa.table(
            {
                "post_id": ["p1", "p1", "p1", "p1", "p2", "p2"],
                "name": ["ab", "abc", "x-y_z", "jo_2", "zed", None],
            }
        ),
    )
    texts = [
        "hi ab and abc",
        "ABC said",
        "thanks X-Y_Z!",
        "jo_2's point",
        "xabc abcx ab_c",
        "zed here",
        "abc-def",
        "",
        None,
    ]
    posts = [
        (f"p{1 + i % 2}", f"q{i}", title, text)
        for i, (title, text) in enumerate(itertools.product(["ABC", "none", None], texts))
    ]
    con.register(
        "clean_posts",
        pa.table(
            {
                "post_id": [p[1] for p in posts],
                "post_title": [p[2] for p in posts],
                "post_text": [p[3] for p in posts],
            }
        ),
    )
    con.register(
        "clean_comments",
        pa.table(
            {
                "comment_id": [f"c{i}" for i in range(len(texts) * 2)],
                "post_id": ["p1"] * len(texts) + ["p2"] * len(texts),
                "comment_text": texts * 2,
                "op_reply_text": ([None, "from abc", "zed"] * 6)[: len(texts) * 2],
            }
        ),
    )


def revision_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """Comments for `revisions_earlier`: one retrieval only, copies differing by spaces or a newline only, deletion
    placeholders, a NULL and a tied `retrieved` (the file and line decide), three differing copies."""
    con.register(
        "top_comments",
        pa.table(
            {
                "comment_id": ["a", "b", "c", "d", "e", "f"],
                "post_id": ["p"] * 6,
                "body": ["kept a", "kept b", "kept c", "kept d", "kept e", None],
            }
        ),
    )
    raw = [  # id, body, score, retrieved, file_idx, line
        ("a", "kept a", 1, 10, 0, 1),
        ("b", "  kept b ", 1, 5, 0, 2),  # spaces only: the same text
        ("b", " kept b\n", 1, 6, 0, 3),  # trim() strips spaces only, in both engines: a newline differs
        ("b", "kept b", 2, 10, 1, 2),
        ("c", "[deleted]", 0, 5, 0, 3),
        ("c", "[removed]", 0, 6, 0, 4),
        ("c", "kept c", 3, 10, 1, 3),
        ("d", "first d", 1, None, 1, 9),
        ("d", "second d", 2, None, 0, 9),
        ("d", "kept d", 3, 10, 2, 1),
        ("e", "third e", 1, 7, 0, 8),
        ("e", "early e", 1, 7, 0, 5),
        ("e", "later e", 2, 8, 0, 1),
        ("e", "kept e", 3, 10, 1, 1),
        ("f", "old f", 1, 5, 0, 1),
        ("f", "new f", 1, 6, 0, 2),
    ]
    names = ["id", "body", "score", "retrieved", "file_idx", "line"]
    con.register("raw_comments", pa.table({n: [r[i] for r in raw] for i, n in enumerate(names)}))


# OP replies reaching every evidence kind (and none), each under sentiments at and past the strengths' clamps.
SIGNAL_REPLIES = (
    None,
    "Thank you, this really helps!",
    "This helped. I'll try that tomorrow.",
    "thanks",
    "Thanks, you too!",
    "thanks to my mom I'm fine",
    "thanks but I already tried that",
    "I already tried that.",
    "Great advice, I already tried that.",
    "good point",
    "where did you find that?",
    "lol",
    "no thanks",
    "",
)
SIGNAL_COMPOUNDS = (None, -1.0, -0.9, -0.3, 0.0, 0.5, 1.0)
# (post, author, score): ties, NULL scores, a lone scored comment, a post of NULLs only.
SIGNAL_THREADS = (
    ("pa", "alice", 5),
    ("pa", "bob", 5),
    ("pa", "carol", 3),
    ("pa", None, None),
    ("pa", "dan", 1),
    ("pb", "erin", 2),
    ("pb", "frank", None),
    ("pc", "gina", None),
    ("pd", "hal", -1),
    ("pd", "ivy", -1),
)
# (post, feedback text, compound): thanks, contrast, none, naming an author (any case), empty, unscored.
SIGNAL_FEEDBACK = (
    ("pa", "EDIT: thanks u/Bob and everyone!", 0.8),
    ("pb", "update: thanks but nothing worked", -0.4),
    ("pc", "update: still sad", -0.6),
    ("pd", "", None),
    ("pe", "thank you all, u/alice too", None),
)

# Strengths under which benefit + thanks + warmth passes 1 and rejection + grimness passes 1 (clamped).
SIGNAL_STRENGTHS = {
    "benefit_strength": 0.9,
    "gratitude_bonus": 0.25,
    "gratitude_strength": 0.45,
    "rejection_strength": 0.85,
    "sentiment_strength": 0.5,
    "no_gratitude_weight": 0.2,
}


def signals_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """Inputs for `signals`: one comment per (reply, compound) in its own post, plus `SIGNAL_THREADS`
    for reception and `SIGNAL_FEEDBACK` for post_feedback and feedback_names_author."""
    rows = [
        (f"r{i:03d}", f"pr{i:03d}", 1, "someone", text, compound)
        for i, (text, compound) in enumerate(itertools.product(SIGNAL_REPLIES, SIGNAL_COMPOUNDS))
    ]
    rows += [
        (f"t{i:03d}", post, score, author, None, None)
        for i, (post, author, score) in enumerate(SIGNAL_THREADS)
    ]
    con.register(
        "top_comments",
        pa.table(
            {
                "comment_id": [r[0] for r in rows],
                "post_id": [r[1] for r in rows],
                "score": pa.array([r[2] for r in rows], pa.int64()),
                "author": pa.array([r[3] for r in rows], pa.string()),
                "op_reply_text": pa.array([r[4] for r in rows], pa.string()),
            }
        ),
    )
    scored = [(r[0], r[5]) for r in rows if r[4] is not None and r[5] is not None]
    con.register(
        "op_sentiment",
        pa.table({"key": [k for k, _ in scored], "compound": pa.array([c for _, c in scored], pa.float64())}),
    )
    con.register(
        "post_feedback_text",
        pa.table(
            {"post_id": [f[0] for f in SIGNAL_FEEDBACK], "feedback_text": [f[1] for f in SIGNAL_FEEDBACK]}
        ),
    )
    fed = [f for f in SIGNAL_FEEDBACK if f[2] is not None]
    con.register(
        "feedback_sentiment",
        pa.table({"key": [f[0] for f in fed], "compound": pa.array([f[2] for f in fed], pa.float64())}),
    )


def export_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """Tables for `export_rows`: comments labeled and not, in every split; a NULL title, an empty text and
    a comment missing from the scrubbed texts (inner joins drop it); preference, sft and improvement rows,
    the improvement pairs similar_reply, self_edit with an earlier version and self_edit without one."""
    con.execute("""
        CREATE TABLE clean_posts AS SELECT * FROM (VALUES
            ('p1', 'A title', 'A body'), ('p2', NULL, 'Body of an untitled post'), ('p3', 'Empty', ''))
            t(post_id, post_title, post_text);
        CREATE TABLE clean_comments AS SELECT * FROM (VALUES
            ('c1', 'first reply', 'thanks!'), ('c2', 'second reply', NULL), ('c3', NULL, NULL),
            ('c4', 'a revised reply', NULL), ('c5', 'another reply', 'ok'))
            t(comment_id, comment_text, op_reply_text);
        CREATE TABLE ess AS SELECT * FROM (VALUES
            ('train', 'p1', 'c1', 'anxiety', 5, 10, 100, 110, TRUE, 1.0, 0.9, 'benefit', 0.5, 'effective', 0.8,
             'op', TRUE, 'author-1', FALSE),
            ('test', 'p1', 'c2', 'anxiety', 1, 10, 100, 120, FALSE, 0.0, 0.5, NULL, NULL, NULL, NULL, NULL, TRUE,
             'author-2', TRUE),
            ('validation', 'p2', 'c3', 'ptsd', NULL, 3, 200, 210, FALSE, NULL, NULL, NULL, NULL, 'ineffective',
             0.6, 'votes', FALSE, NULL, FALSE),
            ('train', 'p3', 'c9', 'ptsd', 2, 1, 300, 301, FALSE, 0.5, 0.5, NULL, NULL, 'effective', 0.7, 'votes',
             TRUE, 'author-9', FALSE))
            t(split, post_id, comment_id, subreddit, comment_score, post_score, post_created_utc,
              comment_created_utc, op_replied, reception, op_signal, op_evidence, post_feedback, label,
              label_confidence, label_source, seeks_support, author, is_sensitive);
        CREATE TABLE preference AS SELECT * FROM (VALUES
            ('train', 'p1', 'c1', 'c2', 5, 1, 5.0, 10, 'votes', FALSE),
            ('test', 'p2', 'c3', 'c5', 4, 1, 4.0, -5, 'label', TRUE))
            t(split, post_id, chosen_id, rejected_id, chosen_score, rejected_score, score_ratio,
              seconds_difference, pair_source, is_sensitive);
        CREATE TABLE sft AS SELECT * FROM (VALUES
            ('train', 'p1', 'c1', 0.8, FALSE), ('validation', 'p2', 'c3', 0.6, FALSE), ('test', 'p3', 'c5', 0.9, TRUE))
            t(split, post_id, comment_id, label_confidence, is_sensitive);
        CREATE TABLE improvement AS SELECT * FROM (VALUES
            ('train', 'p1', 'c2', 'c1', 1, 5, 0.7, 'similar_reply', FALSE),
            ('train', 'p1', 'c4', 'c4', 2, 9, 0.9, 'self_edit', FALSE),
            ('test', 'p3', 'c5', 'c5', 1, 3, 0.8, 'self_edit', TRUE))
            t(split, post_id, draft_id, revision_id, draft_score, revision_score, similarity, pair_source,
              is_sensitive);
        CREATE TABLE clean_earlier_versions AS SELECT * FROM (VALUES ('c4', 'p1', 'an earlier reply'))
            t(comment_id, post_id, comment_text);
    """)
    decimals = con.execute(  # the pipeline's fractions are DOUBLE; VALUES reads 0.5 as DECIMAL
        "SELECT table_name, column_name FROM information_schema.columns WHERE data_type LIKE 'DECIMAL%'"
    ).fetchall()
    for table, column in decimals:
        con.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE DOUBLE")


def reply_texts(cfg: BuildConfig) -> list[str | None]:
    """Reply texts at the edges of the `eligibility_replies` rules under `cfg`: NULL, empty and blank texts; exactly
    `min_reply_chars` characters and one fewer, padded by newlines; placeholder shares just under, at and over
    one half; pointers (a placeholder link, an address, r/name) with other text one under and at
    `pointer_reply_chars`, and with a crisis-line referral; engagement markers with curly apostrophes."""
    n, p = cfg.min_reply_chars, cfg.pointer_reply_chars
    return [
        None,
        "",
        " \n\t ",
        "x" * n,
        "x" * (n - 1),
        "\n\n" + "y" * n + " \n",
        "x" * (n - 1) + "\n\n[url]",
        "a" * 10 + "[url]" + "b",  # placeholders 5 of 16 characters
        "ab" + "[url][user]",  # 10 of 12: mostly placeholders
        "abcde" + "[url]",  # exactly one half: not over
        "[email] [phone] [user]",
        "see [url] " + "z" * (p - 5),
        "see [url] " + "z" * p,
        "go to r/askreddit " + "w" * (p - 4),
        "https://example.org/x",
        "www.example.org and call the crisis hotline 988",
        "try r/college_help maybe",
        "You should talk to your advisor; if you’re stuck, I’d reach out and make sure you ask. " * 3,
        "YOU you're youre u. Consider it, look into it, check, focus, email them, I would. " * 2,
        "word " * 30,
    ]


def reply_inputs(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> None:
    """`clean_comments`, `ess` and `clean_earlier_versions` for `eligibility_replies`: every text of `reply_texts`
    as a kept comment, as a comment not in `ess` (not measured) and as an earlier retrieval."""
    texts = reply_texts(cfg)
    ids = [f"r{i}" for i in range(len(texts))]
    con.register(
        "clean_comments",
        pa.table(
            {
                "comment_id": ids + [f"x{i}" for i in ids],
                "post_id": ["p"] * 2 * len(ids),
                "comment_text": texts + texts,
            }
        ),
    )
    con.register("ess", pa.table({"comment_id": ids}))
    con.register(
        "clean_earlier_versions",
        pa.table(
            {
                "comment_id": ids,
                "post_id": ["p"] * len(ids),
                "earlier_score": list(range(len(ids))),
                "comment_text": texts[::-1],
            }
        ),
    )


# Reply profiles for the crafted `pairs_*` inputs: (score, label, label_source, reply_reason, reply_chars,
# engagement, is_pointer, OP's reply, text). Each crafted post holds two of them (the first written later), so
# every ordered pair of profiles meets every post kind; edges of the kit defaults: score ratio exactly 2,
# engagement margins exactly 4 (votes) and 2 (labels), length ratio exactly 0.75, coverage exactly the cap.
PAIR_PROFILES = {
    "good": (40, 1, "op_signal", None, 800, 8, False, None, "a full reply"),
    "half": (20, 1, "op_signal+vote", None, 800, 4, False, None, "half the votes"),
    "thin": (5, 0, "op_signal", None, 600, 2, False, None, "a thin reply"),
    "thanked": (5, 0, "op_signal", None, 120, 0, False, "Thank you so much!", "a thanked reply"),
    "thanks_anyway": (5, 0, "op_signal", None, 120, 0, False, "thanks anyway", "thanks anyway reply"),
    "too_short": (10, 0, "op_signal", "reply_too_short", 10, 0, False, None, "short"),
    "pointer": (90, 1, "op_signal", None, 800, 8, True, None, "see r/elsewhere"),
    "long_early": (2, 1, "vote", None, 1067, 4, False, None, "a long early reply"),
    "unlabeled": (100, None, None, None, 1000, 12, False, None, "an unlabeled reply"),
    "echo": (3, 0, "op_signal", None, 800, 0, False, None, "  The Same Text "),
    "echo_good": (30, 1, "op_signal", None, 800, 9, False, None, "the same text"),
    "popular_bad": (90, 0, "op_signal", None, 300, 0, False, None, "a popular bad reply"),
    "no_score": (None, 1, "op_signal", None, 800, 8, False, None, "a reply without score"),
    "effective_short": (15, 1, "op_signal", "reply_too_short", 10, 3, False, None, "ok"),
    "effective_thin": (8, 1, "op_signal", None, 449, 3, False, None, "an effective thin reply"),
}
# (post_reason, post_chars, post_score): eligible, not eligible, coverage capped (0.4 x 2500 = 1000 = the cap,
# 0.4 x 2600 capped at 1000), post score under post_min_score.
PAIR_POSTS = [
    (None, 200, 10),
    ("not_support_seeking", 200, 10),
    (None, 2500, 10),
    (None, 2600, 10),
    (None, 200, 1),
]
# Configurations of the crafted pairs: the kit's defaults, and every switch flipped with tight caps.
PAIR_VARIANTS: dict[str, dict[str, Any]] = {
    "kit": {},
    "switches": {
        "length_balanced_votes": True,
        "votes_agree_with_labels": False,
        "votes_need_label_evidence": False,
        "votes_min_engagement_margin": 0,
        "min_engagement_margin": 0,
        "drop_pointer_replies": False,
        "max_pairs_per_post": 2,
        "max_label_pairs_per_post": 1,
        "max_sft_rows_per_post": 1,
        "seed": 5,
    },
}


def pair_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """`ess`, `post_eligibility`, `reply_eligibility` and `clean_comments` for the `pairs_*` steps: one post per
    post kind and ordered pair of reply profiles (`PAIR_POSTS`, `PAIR_PROFILES`), plus per post kind a crowded
    thread of every profile twice (the per-post caps)."""
    ess, posts, replies, texts = [], [], [], []
    threads_: list[tuple[str, int, list[tuple[str, int]]]] = []
    names = list(PAIR_PROFILES)
    for k, _ in enumerate(PAIR_POSTS):
        for a, b in itertools.permutations(names, 2):
            threads_.append((f"k{k}-{a}-{b}", k, [(a, 2), (b, 1)]))
        threads_.append((f"k{k}-crowded", k, [(n, 1 + i) for i, n in enumerate(names + names)]))
    for post_id, k, comments in threads_:
        reason, chars, post_score = PAIR_POSTS[k]
        posts.append((post_id, reason, chars))
        for j, (name, created) in enumerate(comments):
            score, label, source, why, n_chars, engaged, pointer, op_reply, text = PAIR_PROFILES[name]
            cid = f"{post_id}-c{j}"
            if score is not None and j >= 2:  # the crowded thread: distinct scores and times
                score += j
            ess.append(
                (
                    post_id,
                    cid,
                    score,
                    post_score,
                    1000 * created + j,
                    label,
                    0.5 + 0.01 * j,
                    source,
                    j % 5 == 0,
                    ("train", "validation", "test")[j % 3],
                )
            )
            replies.append((cid, why, n_chars, n_chars // 5, engaged, pointer))
            texts.append((cid, op_reply, text))

    def table(rows: list[tuple], columns: str) -> pa.Table:
        return pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns.split())})

    con.register(
        "ess",
        table(
            ess,
            "post_id comment_id comment_score post_score comment_created_utc label "
            "label_confidence label_source is_sensitive split",
        ),
    )
    con.register("post_eligibility", table(posts, "post_id post_reason post_chars"))
    con.register(
        "reply_eligibility",
        table(replies, "comment_id reply_reason reply_chars reply_words engagement is_pointer"),
    )
    con.register("clean_comments", table(texts, "comment_id op_reply_text comment_text"))


# Configurations of the crafted improvement pairs: the kit's defaults (lexical), a loose threshold with tight caps,
# and the encoder's rules (few_shared_words) with the word-overlap similarity standing in for the cosine.
IMPROVEMENT_VARIANTS: dict[str, tuple[dict[str, Any], str]] = {
    "kit": ({}, "lexical"),
    "loose": (
        {
            "min_similarity": 0.2,
            "max_improvement_pairs_per_post": 1,
            "improvement_max_candidates": 3,
            "min_revision_engagement_gain": 0,
            "drop_pointer_replies": False,
        },
        "lexical",
    ),
    "encoder_rules": ({"min_similarity": 0.25}, "encoder"),
}


def improvement_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """The crafted pairs (`pair_inputs`) with `comment_facts` from `pairs_preference`, plus an earlier retrieval
    of every later comment: eligible or too short, with few or enough words, sharing many or few words."""
    pair_inputs(con)
    steps.run(con, pairs.PREFERENCE, pairs.preference_params(BuildConfig(inputs=[Path(".")])))
    later = [
        r[0] for r in con.sql("SELECT comment_id FROM ess WHERE comment_id LIKE '%-c0' ORDER BY 1").fetchall()
    ]
    reasons = [None, None, "reply_too_short", "mostly_placeholders"]
    words = [50, 4, 50, 50, 30]
    texts = ["an earlier full reply draft", "nothing alike whatsoever here", "a full reply"]
    rows = [
        (cid, cid.rsplit("-", 1)[0], i % 7, reasons[i % 4], 200, words[i % 5], texts[i % 3])
        for i, cid in enumerate(later)
    ]
    con.register(
        "earlier_reply_eligibility",
        pa.table(
            {
                "comment_id": [r[0] for r in rows],
                "post_id": [r[1] for r in rows],
                "earlier_score": [r[2] for r in rows],
                "reply_chars": [r[4] for r in rows],
                "reply_words": [r[5] for r in rows],
                "engagement": [1] * len(rows),
                "is_pointer": [False] * len(rows),
                "reply_reason": [r[3] for r in rows],
            }
        ),
    )
    con.register(
        "clean_earlier_versions",
        pa.table(
            {
                "comment_id": [r[0] for r in rows],
                "post_id": [r[1] for r in rows],
                "earlier_score": [r[2] for r in rows],
                "comment_text": [r[6] for r in rows],
            }
        ),
    )


def sample_outputs(raw: Path, workdir: Path, variant: str) -> dict[str, dict[str, Any]]:
    """{step: {output: digest}} for every step but `stats`, on the sample `raw` under `variant`."""
    cfg = config(raw, variant)
    con = duckdb.connect()
    ingest(con, discover([raw]), workdir / variant)
    found: dict[str, dict[str, Any]] = {}
    if variant == "kit":
        for kind, step in normalize.NORMALIZE.items():
            found[step.name] = {
                f"{output} (sample)": table_digest(con, f"raw_{kind}") for output in step.outputs
            }
            edge = duckdb.connect()
            edge.register(step.inputs[0], edge_chunk(kind))
            steps.run(edge, step, normalize.params(7))
            found[step.name].update({f"{o} (edge values)": table_digest(edge, o) for o in step.outputs})
        for kind, step in threads.DEDUP.items():
            dup = duckdb.connect()
            dup.register("staged", con.sql(f"SELECT * FROM raw_{kind}").to_arrow_table())
            dup.execute(
                f"CREATE TABLE raw_{kind} AS SELECT * FROM staged UNION ALL "  # every 4th record twice,
                "SELECT * REPLACE (retrieved + line % 3 - 1 AS retrieved, file_idx + 1 AS file_idx) "  # older,
                "FROM staged WHERE line % 4 = 0"  # as old or newer, from another file
            )
            steps.run(dup, step, {})
            found[step.name] = _outputs(dup, step)
    threads.assemble(con, cfg)
    found[threads.THREADS.name] = _outputs(con, threads.THREADS)
    found[threads.THREAD_COUNTS.name] = _outputs(con, threads.THREAD_COUNTS)
    support.compute(con, cfg)
    found[support.SUPPORT.name] = _outputs(con, support.SUPPORT)
    if variant == "kit":
        crafted = duckdb.connect()
        eligibility_inputs(crafted)
        steps.run(crafted, eligibility.POSTS, eligibility.params(cfg))
        found[eligibility.POSTS.name] = {
            f"{o} (crafted posts)": table_digest(crafted, o) for o in eligibility.POSTS.outputs
        }
    if variant == "kit":
        posts = duckdb.connect()
        posts.register(support.SUPPORT.inputs[0], support_posts())
        steps.run(posts, support.SUPPORT, support.params(cfg))
        found[support.SUPPORT.name].update(
            {f"{o} (crafted posts)": table_digest(posts, o) for o in support.SUPPORT.outputs}
        )
    privacy.create_participants(con)
    found[privacy.PARTICIPANTS.name] = _outputs(con, privacy.PARTICIPANTS)
    scrubber = privacy.Scrubber()
    privacy.scrub_table(
        con,
        "SELECT post_id, title AS post_title, selftext AS post_text FROM kept_posts",
        ["post_title", "post_text"],
        "clean_posts",
        scrubber,
    )
    privacy.scrub_table(
        con,
        "SELECT comment_id, post_id, body AS comment_text, op_reply_text FROM top_comments",
        ["comment_text", "op_reply_text"],
        "clean_comments",
        scrubber,
    )
    privacy.find_name_hits(con)
    found[privacy.NAME_HITS.name] = _outputs(con, privacy.NAME_HITS)
    steps.run(con, revisions.EARLIER, {})
    found[revisions.EARLIER.name] = _outputs(con, revisions.EARLIER)
    revisions.compute(con)
    found[revisions.NAME_HITS.name] = _outputs(con, revisions.NAME_HITS)
    if variant == "kit":
        crafted = duckdb.connect()
        name_hit_inputs(crafted)
        steps.run(crafted, privacy.NAME_HITS, privacy.name_hit_params())
        found[privacy.NAME_HITS.name].update(
            {f"{o} (crafted texts)": table_digest(crafted, o) for o in privacy.NAME_HITS.outputs}
        )
        crafted.execute(
            "CREATE TABLE clean_earlier_versions AS SELECT comment_id, post_id, comment_text FROM clean_comments"
        )
        steps.run(crafted, revisions.NAME_HITS, privacy.name_hit_params())
        found[revisions.NAME_HITS.name].update(
            {f"{o} (crafted texts)": table_digest(crafted, o) for o in revisions.NAME_HITS.outputs}
        )
        crafted = duckdb.connect()
        revision_inputs(crafted)
        steps.run(crafted, revisions.EARLIER, {})
        found[revisions.EARLIER.name].update(
            {f"{o} (crafted comments)": table_digest(crafted, o) for o in revisions.EARLIER.outputs}
        )
    signals.compute(con, cfg)
    if variant == "kit":
        crafted = duckdb.connect()
        export_inputs(crafted)
        steps.run(crafted, export.ROWS, {})
        found[export.ROWS.name] = {
            f"{o} (crafted rows)": table_digest(crafted, o) for o in export.ROWS.outputs
        }
    found[signals.FEEDBACK.name] = _outputs(con, signals.FEEDBACK)
    found[signals.SIGNALS.name] = _outputs(con, signals.SIGNALS)
    if variant == "kit":  # the crafted replies under the kit's strengths and under others that clamp
        strong = dataclasses.replace(cfg, **SIGNAL_STRENGTHS)
        for label, signal_cfg in (("crafted replies", cfg), ("crafted replies, other strengths", strong)):
            crafted = duckdb.connect()
            signals_inputs(crafted)
            steps.run(crafted, signals.SIGNALS, signals.params(signal_cfg))
            found[signals.SIGNALS.name].update(
                {f"{o} ({label})": table_digest(crafted, o) for o in signals.SIGNALS.outputs}
            )
    labels.compute(con, cfg)
    found[labels.LABELS.name] = _outputs(con, labels.LABELS)
    splits.compute(con, cfg)
    found[splits.SPLITS.name] = _outputs(con, splits.SPLITS)
    found.update(pair_outputs(raw, workdir, variant, cfg))
    return found


def pair_outputs(raw: Path, workdir: Path, variant: str, cfg: BuildConfig) -> dict[str, dict[str, Any]]:
    """{step: {output: digest}} of the reply-eligibility and pair steps, on a fresh connection that runs the
    pipeline's own stages up to the pairs' inputs (the privacy steps above run piecewise on theirs)."""
    con = duckdb.connect()
    ingest(con, discover([raw]), workdir / f"{variant}-pairs")
    threads.assemble(con, cfg)
    support.compute(con, cfg)
    signals.compute(con, cfg)
    labels.compute(con, cfg)
    splits.compute(con, cfg)
    found: dict[str, dict[str, Any]] = {}
    pipeline._privacy(con, SNAPSHOT_KEY)  # the pipeline's own stages up to the pairs' inputs
    pipeline._assemble_rows(con, cfg)
    found[pipeline.ESS.name] = _outputs(con, pipeline.ESS)
    revisions.compute(con)
    eligibility.compute(con, cfg)
    found[eligibility.REPLIES.name] = _outputs(con, eligibility.REPLIES)
    if variant == "kit":
        crafted = duckdb.connect()
        reply_inputs(crafted, cfg)
        steps.run(crafted, eligibility.REPLIES, eligibility.reply_params(cfg))
        found[eligibility.REPLIES.name].update(
            {f"{o} (crafted replies)": table_digest(crafted, o) for o in eligibility.REPLIES.outputs}
        )
    for step, step_params in ((pairs.PREFERENCE, pairs.preference_params), (pairs.SFT, pairs.sft_params)):
        steps.run(con, step, step_params(cfg))
        found[step.name] = _outputs(con, step)
    pairs.build_improvement(con, dataclasses.replace(cfg, similarity="lexical"))  # the encoder: not pinned
    for step in (pairs.IMPROVEMENT_CANDIDATES, pairs.LEXICAL, pairs.IMPROVEMENT):
        found[step.name] = _outputs(con, step)
    if variant == "kit":
        crafted = duckdb.connect()
        improvement_inputs(crafted)
        for name, (overrides, method) in IMPROVEMENT_VARIANTS.items():
            imp_cfg = BuildConfig(inputs=[Path(".")], **overrides)
            steps.run(crafted, pairs.IMPROVEMENT_CANDIDATES, pairs.improvement_params(imp_cfg))
            pairs._lexical_similarity(crafted)
            steps.run(crafted, pairs.IMPROVEMENT, pairs.intent_params(imp_cfg, method))
            for step in (pairs.IMPROVEMENT_CANDIDATES, pairs.LEXICAL, pairs.IMPROVEMENT):
                found[step.name].update(
                    {f"{o} (crafted pairs, {name})": table_digest(crafted, o) for o in step.outputs}
                )
    if variant == "kit":
        crafted = duckdb.connect()
        pair_inputs(crafted)
        for name, overrides in PAIR_VARIANTS.items():
            pair_cfg = BuildConfig(inputs=[Path(".")], **overrides)
            for step, step_params in (
                (pairs.PREFERENCE, pairs.preference_params),
                (pairs.SFT, pairs.sft_params),
            ):
                steps.run(crafted, step, step_params(pair_cfg))
                found[step.name].update(
                    {f"{o} (crafted pairs, {name})": table_digest(crafted, o) for o in step.outputs}
                )
    return found


def stats_outputs(folder: Path) -> dict[str, Any]:
    """{output: digest} of step `stats` on a built folder."""
    con = duckdb.connect()
    stats.register_rows(con, folder)
    steps.run(con, stats.STATS, stats.params())
    return _outputs(con, stats.STATS)


@dataclasses.dataclass(frozen=True)
class Run:
    """One `steps.run` call made while the snapshots are computed: the step, its bound parameters, and its
    input and output tables as the embedded engine (DuckDB) read and wrote them."""

    step: steps.Step
    params: dict[str, Any]
    where: str  # e.g. "kit #12": the snapshot configuration and the call's number in it
    inputs: dict[str, pa.Table]
    outputs: dict[str, pa.Table]


@contextlib.contextmanager
def recording(where: Callable[[], str]) -> Iterator[list[Run]]:
    """Within the block, every `steps.run` call (the pipeline modules' and this file's) is also recorded as a
    `Run` in the yielded list; `where()` labels each call. Tables are copied to Arrow before and after."""
    runs: list[Run] = []
    original = steps.run

    def read(con: Any, name: str) -> pa.Table:
        try:  # through a cursor: the caller may hold an unfinished result on `con`
            return con.cursor().sql(f"SELECT * FROM {name}").to_arrow_table()
        except duckdb.CatalogException:  # an Arrow table registered on `con` only
            return con.sql(f"SELECT * FROM {name}").to_arrow_table()

    def run(con: Any, step: steps.Step, params: Any) -> None:
        inputs = {name: read(con, name) for name in step.inputs}
        original(con, step, params)
        outputs = {name: read(con, name) for name in step.outputs}
        runs.append(Run(step, dict(params), f"{where()} #{len(runs)}", inputs, outputs))

    steps.run = run
    try:
        yield runs
    finally:
        steps.run = original


def recorded_runs(
    raw: Path, workdir: Path, variants: Iterable[str], demo_folder: Path | None = None
) -> list[Run]:
    """Every step run made by `sample_outputs` under `variants` (and by `stats_outputs` on `demo_folder`),
    with its input and output tables: the reference a second engine is compared against."""
    label = ""
    with recording(lambda: label) as runs:
        for variant in variants:
            label = variant
            sample_outputs(raw, workdir, variant)
        if demo_folder is not None:
            label = "demo"
            stats_outputs(demo_folder)
    return runs


def snapshot(step: steps.Step, variants: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "step": step.name,
        "sql": step.path.name,
        "sql_sha256": sql_sha256(step),
        "inputs": list(step.inputs),
        "regenerate": REGENERATE.replace("<step>", step.name),
        "variants": variants,
    }


def path(step: steps.Step) -> Path:
    return SNAPSHOT_DIR / f"{step.name}.json"


def load(step: steps.Step) -> dict[str, Any]:
    return json.loads(path(step).read_text(encoding="utf-8"))


def compute(
    names: Iterable[str], workdir: Path, demo_folder: Callable[[], Path]
) -> dict[str, dict[str, Any]]:
    """{step name: snapshot} for the steps `names`, computed now."""
    names = list(names)
    raw = workdir / "raw"
    write_sample(raw, seed=0)
    per_step: dict[str, dict[str, Any]] = {name: {} for name in names}
    for variant in VARIANTS:
        if all(n == "stats" or (n in CONFIG_FREE and variant != "kit") for n in names):
            continue
        for name, outputs in sample_outputs(raw, workdir, variant).items():
            if name in per_step:
                per_step[name][variant] = outputs
    if "stats" in per_step:
        per_step["stats"]["demo"] = stats_outputs(demo_folder())
    return {name: snapshot(STEPS[name], variants) for name, variants in per_step.items()}


def _demo_folder(workdir: Path) -> Callable[[], Path]:
    def build_demo() -> Path:  # the same build as tests/conftest.py's `demo_dataset`
        sys.path.insert(0, str(Path(__file__).parents[1]))
        from conftest import DEMO_KEY, DEMO_VERSION

        from dataset_builder.pipeline import build

        out = workdir / "demo" / "redditess"
        build(BuildConfig(inputs=[workdir / "raw"], out=out, version=DEMO_VERSION, seed=0), key=DEMO_KEY)
        return out

    return build_demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("steps", nargs="*", help=f"steps to regenerate (default: all): {', '.join(STEPS)}")
    parser.add_argument("--check", action="store_true", help="compare with the committed snapshots only")
    args = parser.parse_args(argv)
    names = args.steps or list(STEPS)
    if unknown := sorted(set(names) - set(STEPS)):
        parser.error(f"unknown steps {unknown}; declared: {', '.join(STEPS)}")
    with tempfile.TemporaryDirectory(prefix="step-snapshots-") as tmp:
        fresh = compute(names, Path(tmp), _demo_folder(Path(tmp)))
    changed = []
    for name, snap in fresh.items():
        old = load(STEPS[name]) if path(STEPS[name]).exists() else None
        if old != snap:
            changed.append(name)
            if not args.check:
                SNAPSHOT_DIR.mkdir(exist_ok=True)
                path(STEPS[name]).write_text(
                    json.dumps(snap, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
                )
    verb = "differ" if args.check else "rewritten"
    print(f"{len(changed)} of {len(fresh)} snapshots {verb}: {', '.join(changed) or '-'}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
