"""The three signals of the labeling ensemble, per kept top-level comment.

- reception: the comment's score percentile within its post (mid-rank, ties share; 0.5 alone).
- op_signal: the OP's direct replies to the comment, gratitude x sentiment mapped to 0-1 (the
  paper's product): (1 + g * compound) / 2 with g = 1 when a gratitude pattern matches, else
  `no_gratitude_weight`, so a neutral reply sits at 0.5 and only gratitude reaches the top.
- post_feedback: the OP's general feedback on the thread (the post's EDIT/UPDATE text and the OP's
  own top-level comments): g * compound in -1..1.

Sentiment comes from `sentiment` (VADER by default; `module:function` plugs in another scorer).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from dataset_builder.config import BuildConfig
from dataset_builder.sentiment import Scorer, load_scorer
from dataset_builder.sql import literal

GRATITUDE = (
    r"(?i)\b(thanks?|thank you|thank u|thx|ty|tysm|appreciated?|appreciate (it|this|you|that)|grateful|"
    r"this (really |actually )?helps|(really |that |this |you )?helped|means a lot|great advice|"
    r"good advice|so helpful|very helpful|makes me feel better|feel better now)\b"
)
EDIT_TEXT = r"(?is)\b(?:edit|update)\s*\d*\s*:(.*)$"


def score_sentiment(con: duckdb.DuckDBPyConnection, query: str, table: str, scorer: Scorer) -> None:
    """Create `table(key, compound)` from `query` yielding (key, text); texts are scored once each."""
    rows = con.sql(query).to_arrow_table()
    keys, texts = rows.column(0), rows.column(1).to_pylist()
    scores = scorer(texts) if texts else []
    if len(scores) != len(texts):
        raise ValueError(f"sentiment scorer returned {len(scores)} scores for {len(texts)} texts")
    result = pa.table({"key": keys, "compound": pa.array(scores, pa.float64())})
    con.register("_scores", result)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _scores")
    finally:
        con.unregister("_scores")


def compute(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> None:
    """Create `comment_signals` (one row per kept top-level comment) and `post_signals`."""
    scorer = load_scorer(cfg.sentiment)
    con.execute(f"""
        CREATE OR REPLACE TABLE post_feedback_text AS
        SELECT p.post_id, concat_ws('\n\n', nullif(trim(regexp_extract(p.selftext, {literal(EDIT_TEXT)}, 1)), ''),
                                     o.text) AS feedback_text
        FROM kept_posts p LEFT JOIN (
            SELECT s.post_id, string_agg(b.body, '\n\n' ORDER BY s.created_utc, s.id) AS text
            FROM comment_status s JOIN comments b ON b.id = s.id
            WHERE s.top_level AND s.drop_reason = 'by_op' GROUP BY s.post_id) o
          ON o.post_id = p.post_id""")
    score_sentiment(
        con,
        "SELECT comment_id, op_reply_text FROM top_comments WHERE op_reply_text IS NOT NULL ORDER BY comment_id",
        "op_sentiment",
        scorer,
    )
    score_sentiment(
        con,
        "SELECT post_id, feedback_text FROM post_feedback_text WHERE feedback_text <> '' ORDER BY post_id",
        "feedback_sentiment",
        scorer,
    )
    g = float(cfg.no_gratitude_weight)
    con.execute(f"""
        CREATE OR REPLACE TABLE post_signals AS
        SELECT f.post_id,
               CASE WHEN s.compound IS NULL THEN NULL
                    ELSE (CASE WHEN regexp_matches(f.feedback_text, {literal(GRATITUDE)}) THEN 1.0 ELSE {g} END)
                         * s.compound END AS post_feedback
        FROM post_feedback_text f LEFT JOIN feedback_sentiment s ON s.key = f.post_id""")
    con.execute(f"""
        CREATE OR REPLACE TABLE comment_signals AS
        SELECT c.comment_id,
               count(c.score) OVER w AS scored_in_post,
               CASE WHEN c.score IS NULL THEN NULL
                    WHEN count(c.score) OVER w < 2 THEN 0.5
                    ELSE ((rank() OVER ws - 1) + 0.5 * (count(c.score) OVER wt - 1))
                         / (count(c.score) OVER w - 1) END AS reception,
               CASE WHEN c.op_reply_text IS NULL THEN NULL
                    ELSE (1 + (CASE WHEN regexp_matches(c.op_reply_text, {literal(GRATITUDE)}) THEN 1.0 ELSE {g} END)
                              * s.compound) / 2 END AS op_signal,
               ps.post_feedback
        FROM top_comments c
        LEFT JOIN op_sentiment s ON s.key = c.comment_id
        LEFT JOIN post_signals ps ON ps.post_id = c.post_id
        WINDOW w AS (PARTITION BY c.post_id),
               ws AS (PARTITION BY c.post_id, c.score IS NULL ORDER BY c.score),
               wt AS (PARTITION BY c.post_id, c.score)""")
