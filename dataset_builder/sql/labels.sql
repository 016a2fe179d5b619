-- Step `labels` (dataset_builder/labels.py): the label vote, rule version 2.0 (see labels.py's docstring).
-- Votes: +1 effective, -1 not effective, 0 abstains; strengths in [0, 1]. label NULL = undecided.
-- Parameters: thresholds and weights of BuildConfig (floats bind as DOUBLE), $reception_min_comments and
-- $negative_reception_max_score (int), $thread_feedback_votes and $label_only_support_seeking (bool).
CREATE TABLE comment_labels AS
WITH votes AS (
    SELECT s.comment_id,
           CASE WHEN NOT (s.scored_in_post >= $reception_min_comments AND s.reception IS NOT NULL) THEN 0
                WHEN s.reception >= $reception_effective_min THEN 1
                WHEN s.reception <= $reception_not_effective_max
                     AND s.score <= $negative_reception_max_score THEN -1
                ELSE 0 END AS v_reception,
           CASE WHEN s.op_signal IS NULL THEN 0
                WHEN s.op_signal >= $op_effective_min THEN 1
                WHEN s.op_signal <= $op_not_effective_max THEN -1
                ELSE 0 END AS v_op_signal,
           CASE WHEN s.post_feedback IS NULL OR NOT ($thread_feedback_votes OR s.feedback_names_author) THEN 0
                WHEN s.post_feedback >= $feedback_effective_min THEN 1
                WHEN s.post_feedback <= $feedback_not_effective_max THEN -1
                ELSE 0 END AS v_post_feedback,
           coalesce(abs(s.reception - CAST(0.5 AS DOUBLE)) * 2, 0) AS s_reception,
           coalesce(abs(s.op_signal - CAST(0.5 AS DOUBLE)) * 2, 0) AS s_op_signal,
           coalesce(abs(s.post_feedback), 0) AS s_post_feedback,
           CASE WHEN $label_only_support_seeking THEN u.seeks_support ELSE TRUE END AS may_label
    FROM comment_signals s
    JOIN top_comments t ON t.comment_id = s.comment_id
    JOIN post_support u ON u.post_id = t.post_id
),
weighted AS (
    SELECT *,
           CASE WHEN v_reception < 0 THEN $weight_negative_reception ELSE $weight_reception END AS w_reception
    FROM votes
),
summed AS (
    SELECT *,
           $weight_op_signal * v_op_signal + w_reception * v_reception
             + $weight_post_feedback * v_post_feedback AS score,
           $weight_op_signal * abs(v_op_signal) + w_reception * abs(v_reception)
             + $weight_post_feedback * abs(v_post_feedback) AS voting
    FROM weighted
),
labeled AS (
    SELECT *,
           CASE WHEN NOT may_label THEN NULL
                WHEN score >= $label_margin THEN 1
                WHEN score <= -$label_margin THEN 0
                ELSE NULL END AS label
    FROM summed
),
-- Weighted strength of the votes that agree / disagree with the label (2 * label - 1 is the label's vote).
agreement AS (
    SELECT *,
           $weight_op_signal * s_op_signal * CAST(v_op_signal = 2 * label - 1 AS INT)
             + w_reception * s_reception * CAST(v_reception = 2 * label - 1 AS INT)
             + $weight_post_feedback * s_post_feedback * CAST(v_post_feedback = 2 * label - 1 AS INT) AS agree,
           $weight_op_signal * s_op_signal * CAST(v_op_signal = 1 - 2 * label AS INT)
             + w_reception * s_reception * CAST(v_reception = 1 - 2 * label AS INT)
             + $weight_post_feedback * s_post_feedback * CAST(v_post_feedback = 1 - 2 * label AS INT)
             AS disagree
    FROM labeled
)
SELECT comment_id, label,
       CASE WHEN label IS NULL THEN NULL
            ELSE round(greatest(CAST(0 AS DOUBLE), agree - disagree) / voting * CAST(10000 AS DOUBLE))
                 / CAST(10000 AS DOUBLE) END AS label_confidence,
       CASE WHEN label IS NULL THEN NULL
            ELSE concat_ws('+', CASE WHEN v_op_signal = 2 * label - 1 THEN 'op_signal' END,
                                CASE WHEN v_reception = 2 * label - 1 THEN 'reception' END,
                                CASE WHEN v_post_feedback = 2 * label - 1 THEN 'post_feedback' END)
            END AS label_source
FROM agreement;
