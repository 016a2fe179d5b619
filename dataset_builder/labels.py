"""The label rule (version `LABEL_RULE_VERSION`): a weighted vote of the three signals.

Each signal votes +1 (effective), -1 (not effective) or abstains, by its thresholds. The weighted sum
labels the comment when |sum| >= margin; otherwise the comment stays unlabeled (it is kept in the
`comments` config with a null label). With the default weights (op_signal 2, reception 1,
post_feedback 0.5, margin 1.5) the OP's direct reply decides alone unless reception and feedback
both contradict it, reception needs the OP's feedback to agree, and feedback never decides alone.
label_confidence = weight of the signals agreeing with the label / weight of all signals that voted.
"""

from __future__ import annotations

import duckdb

from dataset_builder.config import BuildConfig

LABEL_NAMES = ("not_effective", "effective")


def vote_sql(cfg: BuildConfig) -> str:
    """SQL expressions for the three votes over a row with reception, op_signal and post_feedback."""
    return f"""
        CASE WHEN scored_in_post < {int(cfg.reception_min_comments)} OR reception IS NULL THEN 0
             WHEN reception >= {cfg.reception_effective_min} THEN 1
             WHEN reception <= {cfg.reception_not_effective_max} THEN -1 ELSE 0 END AS v_reception,
        CASE WHEN op_signal IS NULL THEN 0
             WHEN op_signal >= {cfg.op_effective_min} THEN 1
             WHEN op_signal <= {cfg.op_not_effective_max} THEN -1 ELSE 0 END AS v_op_signal,
        CASE WHEN post_feedback IS NULL THEN 0
             WHEN post_feedback >= {cfg.feedback_effective_min} THEN 1
             WHEN post_feedback <= {cfg.feedback_not_effective_max} THEN -1 ELSE 0 END AS v_post_feedback"""


def compute(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> None:
    """Create `comment_labels(comment_id, label, label_confidence, label_source)`; label NULL = undecided."""
    w_op, w_rec, w_pf = cfg.weight_op_signal, cfg.weight_reception, cfg.weight_post_feedback
    con.execute(f"""
        CREATE OR REPLACE TABLE comment_labels AS
        WITH votes AS (
            SELECT s.comment_id, {vote_sql(cfg)},
                   {"u.seeks_support" if cfg.label_only_support_seeking else "true"} AS may_label
            FROM comment_signals s JOIN top_comments t ON t.comment_id = s.comment_id
            JOIN post_support u ON u.post_id = t.post_id),
        summed AS (
            SELECT *, {w_op} * v_op_signal + {w_rec} * v_reception + {w_pf} * v_post_feedback AS score,
                   {w_op} * abs(v_op_signal) + {w_rec} * abs(v_reception) + {w_pf} * abs(v_post_feedback) AS voting
            FROM votes),
        labeled AS (
            SELECT *, CASE WHEN NOT may_label THEN NULL
                           WHEN score >= {cfg.label_margin} THEN 1
                           WHEN score <= -{cfg.label_margin} THEN 0 ELSE NULL END AS label
            FROM summed)
        SELECT comment_id, label,
               CASE WHEN label IS NULL THEN NULL ELSE
                 ({w_op} * (v_op_signal = 2 * label - 1)::INT + {w_rec} * (v_reception = 2 * label - 1)::INT
                  + {w_pf} * (v_post_feedback = 2 * label - 1)::INT) / voting END AS label_confidence,
               CASE WHEN label IS NULL THEN NULL ELSE concat_ws('+',
                 CASE WHEN v_op_signal = 2 * label - 1 THEN 'op_signal' END,
                 CASE WHEN v_reception = 2 * label - 1 THEN 'reception' END,
                 CASE WHEN v_post_feedback = 2 * label - 1 THEN 'post_feedback' END) END AS label_source
        FROM labeled""")
