"""Self-revisions: a comment retrieved twice with different text (say a Pushshift copy, then a later
Arctic Shift copy after the author edited it) is a real draft and its revision by the same writer.

Ingest keeps every retrieval in the staged `raw_comments` view and `threads` keeps the latest one; this
module reads the earliest differing copy back from the staging view, so the improvement config can emit
it as a `self_edit` pair (earlier text = draft, kept text = revision). The earlier text is scrubbed by the
same privacy rules as every other text before anything reads it.

Creates `clean_earlier_versions(comment_id, post_id, earlier_score, earlier_retrieved, comment_text)`.
"""

from __future__ import annotations

import duckdb

from dataset_builder import privacy


def compute(con: duckdb.DuckDBPyConnection) -> int:
    """Create `clean_earlier_versions` for the kept top-level comments; returns its row count."""
    con.execute("""
        CREATE OR REPLACE TABLE earlier_versions AS
        SELECT comment_id, post_id, earlier_score, earlier_retrieved, body FROM (
            SELECT t.comment_id, t.post_id, r.score AS earlier_score, r.retrieved AS earlier_retrieved, r.body,
                   row_number() OVER (PARTITION BY r.id ORDER BY r.retrieved ASC NULLS FIRST, r.file_idx, r.line) AS rn
            FROM top_comments t
            JOIN raw_comments r ON r.id = t.comment_id
            SEMI JOIN (SELECT id FROM raw_comments GROUP BY id HAVING count(*) > 1) d ON d.id = t.comment_id
            WHERE trim(r.body) <> trim(t.body) AND r.body NOT IN ('[deleted]', '[removed]'))
        WHERE rn = 1""")
    privacy.scrub_table(
        con,
        "SELECT comment_id, post_id, earlier_score, earlier_retrieved, body AS comment_text FROM earlier_versions",
        ["comment_text"],
        "clean_earlier_versions",
        privacy.Scrubber(),
    )
    tokens = privacy.tokens_sql("comment_text")
    hits = privacy.name_hits_sql(
        f"SELECT comment_id AS key, post_id, {tokens} AS token FROM clean_earlier_versions"
    )
    con.execute(f"CREATE OR REPLACE TABLE earlier_name_hits AS {hits}")
    privacy.rewrite_names(
        con,
        "clean_earlier_versions",
        "comment_id",
        ["comment_text"],
        "earlier_name_hits",
        privacy.common_word_names(con),
    )
    con.execute("DROP TABLE earlier_versions")
    return int(con.execute("SELECT count(*) FROM clean_earlier_versions").fetchone()[0])
