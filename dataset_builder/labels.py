"""The label rule (version `LABEL_RULE_VERSION`, 2.0): a weighted vote of evidence about the comment itself.

Votes (each +1 effective, -1 not effective, or abstain), with the defaults of `BuildConfig`:
- op_signal (weight 2): the OP's direct replies acknowledge a benefit or thank the commenter (op_signal >= 0.6)
  or reject the comment (op_signal <= 0.4); questions, banter and sentiment without acknowledgement abstain
  (see `signals`).
- reception (weight 1 for, 1.5 against): in a post with at least `reception_min_comments` scored comments, a
  score percentile >= 0.75 votes effective; the comment is *clearly negatively received* (percentile <= 0.25
  and score <= `negative_reception_max_score`, i.e. net downvoted) votes not effective. Few or no upvotes is
  not evidence: a comment nobody voted on abstains.
- post_feedback (weight 2): only when the OP's general feedback (edit segments, own top-level comments) names
  the comment's author (u/name); thread-wide thanks never votes (`thread_feedback_votes` restores it).
The comment is labeled when |weighted sum| >= `label_margin` (1.5): OP evidence labels alone unless clearly
negative reception contradicts it; clearly negative reception labels `not_effective` alone; good reception
alone does not label. A missing OP reply is never evidence. Comments on posts that do not seek support stay
unlabeled (`support`, `label_only_support_seeking`).

label_confidence (0-1) = (sum over agreeing votes of weight x strength - the same over disagreeing votes) /
sum of the weights that voted, where a vote's strength is |op_signal - 0.5| x 2, |reception - 0.5| x 2 or
|post_feedback|: a lukewarm "thanks" alone gives ~0.6, "thank you, this really helps" with good reception
~0.9, and any contradicting vote lowers it.
"""

from __future__ import annotations

import duckdb

from dataset_builder.config import BuildConfig


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


def compute(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> None:
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
