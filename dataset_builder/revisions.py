"""Self-revisions: a comment retrieved twice with different text (say a Pushshift copy, then a later
Arctic Shift copy after the author edited it) is a real draft and its revision by the same writer.

Ingest keeps every retrieval in the staged `raw_comments` view and `threads` keeps the latest one; this
module reads the earliest differing copy back from the staging view, so the improvement config can emit
it as a `self_edit` pair (earlier text = draft, kept text = revision). The earlier text is scrubbed by the
same privacy rules as every other text before anything reads it.

Creates `clean_earlier_versions(comment_id, post_id, earlier_score, earlier_retrieved, comment_text)`.

Portable steps: `revisions_earlier` (`sql/revisions_earlier.sql`: `earlier_versions` from `top_comments`
and `raw_comments`) and `revisions_name_hits` (`sql/revisions_name_hits.sql`: `earlier_name_hits` from
`clean_earlier_versions` and `participants`). Between and after them, batched Python over Arrow: the
scrubbing (`privacy.scrub_table`) and the participant-name rewrite (`privacy.rewrite_names`).
"""

from __future__ import annotations

import duckdb

from dataset_builder import privacy, steps

EARLIER = steps.Step(
    "revisions_earlier", inputs=("top_comments", "raw_comments"), outputs=("earlier_versions",)
)
NAME_HITS = steps.Step(
    "revisions_name_hits", inputs=("clean_earlier_versions", "participants"), outputs=("earlier_name_hits",)
)


def compute(con: duckdb.DuckDBPyConnection) -> int:
    """Create `clean_earlier_versions` for the kept top-level comments; returns its row count."""
    steps.run(con, EARLIER, {})
    privacy.scrub_table(
        con,
        "SELECT comment_id, post_id, earlier_score, earlier_retrieved, body AS comment_text FROM earlier_versions",
        ["comment_text"],
        "clean_earlier_versions",
        privacy.Scrubber(),
    )
    steps.run(con, NAME_HITS, privacy.name_hit_params())
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
