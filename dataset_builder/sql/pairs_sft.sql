-- SFT rows (dataset_builder/pairs.py): effective replies that engage the OP, do not mainly point elsewhere and
-- cover the post, at most max_sft_rows_per_post per post (highest label confidence first). Every effective
-- comment keeps the first rule that drops it as `reason` (NULL: kept).
CREATE TABLE sft_candidates AS
WITH cand AS (
    SELECT
        comment_id, post_id, label_confidence, comment_score,
        coalesce(post_reason, reply_reason, CASE
            WHEN $drop_pointer_replies AND is_pointer THEN 'pointer_reply'
            WHEN engagement < $sft_min_engagement THEN 'low_engagement'
            WHEN NOT (reply_chars >= least($min_post_coverage * post_chars, $post_coverage_cap_chars))
                THEN 'short_for_post'
        END) AS reason
    FROM comment_facts
    WHERE label = 1
),
ranked AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY post_id, reason IS NULL
            ORDER BY label_confidence DESC, comment_score DESC NULLS LAST, comment_id
        ) AS rk
    FROM cand
)
SELECT
    comment_id, post_id,
    CASE WHEN reason IS NULL AND rk > $max_sft_rows_per_post THEN 'per_post_cap' ELSE reason END AS reason
FROM ranked;

CREATE TABLE sft AS
SELECT e.post_id, e.comment_id, e.label_confidence, e.is_sensitive, e.split
FROM sft_candidates s JOIN ess e ON e.comment_id = s.comment_id
WHERE s.reason IS NULL;
