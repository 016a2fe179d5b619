-- Preference pairs (dataset_builder/pairs.py holds the rules' documentation): `votes` pairs (Stanford Human
-- Preferences rules plus the length, engagement, label and coverage margins) and `label` pairs (an effective and a
-- not-effective reply of one post, both labeled on the OP's reply). Every candidate keeps the first rule that
-- drops it as `reason` (NULL: kept); the CASE order is the rules' order.

-- One row per kept comment with what the pair rules read: eligibility, length, the OP's thanks (gratitude as the
-- label rule reads it: contrast and negation removed first).
CREATE TABLE comment_facts AS
SELECT
    e.post_id, e.comment_id, e.comment_score, e.post_score, e.comment_created_utc, e.label, e.label_confidence,
    coalesce(strpos(e.label_source, 'op_signal') > 0, FALSE) AS on_op_reply,
    pe.post_reason, pe.post_chars, re.reply_reason, re.reply_chars, re.reply_words, re.engagement, re.is_pointer,
    coalesce(regexp_matches(regexp_replace(lower(c.op_reply_text), $not_gratitude, ' ', 'g'), $gratitude), FALSE)
        AS op_thanked,
    lower(trim(c.comment_text)) AS norm_text
FROM ess e
JOIN post_eligibility pe ON pe.post_id = e.post_id
JOIN reply_eligibility re ON re.comment_id = e.comment_id
JOIN clean_comments c ON c.comment_id = e.comment_id;

-- Votes: A preferred to B when A was written later yet scores at least min_score_ratio times higher.
CREATE TABLE vote_pairs AS
WITH cand AS (
    SELECT * FROM comment_facts WHERE comment_score >= $comment_min_score AND post_score >= $post_min_score
),
pairs AS (
    SELECT
        a.post_id, a.comment_id AS chosen_id, b.comment_id AS rejected_id,
        a.comment_score AS chosen_score, b.comment_score AS rejected_score,
        CAST(a.comment_score AS DOUBLE) / b.comment_score AS score_ratio,
        a.comment_created_utc - b.comment_created_utc AS seconds_difference,
        a.reply_chars > b.reply_chars AS chosen_longer,
        CASE
            WHEN a.post_reason IS NOT NULL THEN a.post_reason
            WHEN a.reply_reason IS NOT NULL THEN 'chosen_' || a.reply_reason
            WHEN b.reply_reason IS NOT NULL THEN 'rejected_' || b.reply_reason
            WHEN $drop_pointer_replies AND a.is_pointer THEN 'chosen_pointer_reply'
            WHEN a.reply_chars < $min_chosen_length_ratio * b.reply_chars THEN 'chosen_much_shorter'
            WHEN b.op_thanked THEN 'rejected_thanked_by_op'
            WHEN $votes_agree_with_labels AND (coalesce(a.label = 0, FALSE) OR coalesce(b.label = 1, FALSE))
                THEN 'labels_contradict_votes'
            WHEN a.norm_text = b.norm_text THEN 'same_text'
            WHEN $votes_min_engagement_margin > 0 AND a.engagement - b.engagement < $votes_min_engagement_margin
                THEN 'no_engagement_margin'
            -- the chosen reply covers the post: min_post_coverage x its characters, capped
            WHEN NOT (a.reply_chars >= least($min_post_coverage * a.post_chars, $post_coverage_cap_chars))
                THEN 'chosen_short_for_post'
            WHEN $votes_need_label_evidence AND NOT (coalesce(a.label = 1, FALSE) OR coalesce(b.label = 0, FALSE))
                THEN 'no_label_evidence'
            ELSE NULL
        END AS reason
    FROM cand a JOIN cand b ON a.post_id = b.post_id
    WHERE a.comment_created_utc > b.comment_created_utc
      AND a.comment_score >= $min_score_ratio * b.comment_score
      AND a.comment_score > b.comment_score
),
ranked AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY post_id, reason IS NULL
            ORDER BY score_ratio DESC, seconds_difference DESC, chosen_id, rejected_id
        ) AS rk
    FROM pairs
)
SELECT
    post_id, chosen_id, rejected_id, chosen_score, rejected_score, score_ratio, seconds_difference, chosen_longer,
    CASE WHEN reason IS NULL AND rk > $max_pairs_per_post THEN 'per_post_cap' ELSE reason END AS reason
FROM ranked;

-- With length_balanced_votes, as many chosen-longer as chosen-not-longer kept pairs: a seeded subsample of the
-- larger group, ordered by md5('<chosen>/<rejected>/<seed>').
CREATE TABLE vote_candidates AS
WITH kept AS (
    SELECT
        chosen_id, rejected_id,
        row_number() OVER (
            PARTITION BY chosen_longer
            ORDER BY md5(chosen_id || '/' || rejected_id || '/' || CAST($seed AS VARCHAR)), chosen_id, rejected_id
        ) AS rk,
        CAST(sum(CASE WHEN chosen_longer THEN 1 ELSE 0 END) OVER () AS BIGINT) AS n_longer,
        CAST(sum(CASE WHEN chosen_longer THEN 0 ELSE 1 END) OVER () AS BIGINT) AS n_other
    FROM vote_pairs
    WHERE reason IS NULL
)
SELECT
    v.post_id, v.chosen_id, v.rejected_id, v.chosen_score, v.rejected_score, v.score_ratio, v.seconds_difference,
    v.chosen_longer,
    CASE WHEN $length_balanced_votes AND k.rk > least(k.n_longer, k.n_other) THEN 'length_balance' ELSE v.reason END
        AS reason,
    'votes' AS pair_source
FROM vote_pairs v
LEFT JOIN kept k ON k.chosen_id = v.chosen_id AND k.rejected_id = v.rejected_id;

-- Label pairs: an effective (e) and a not-effective (n) reply of one post, both labels resting on the OP's reply.
CREATE TABLE label_candidates AS
WITH pairs AS (
    SELECT
        e.post_id, e.comment_id AS chosen_id, n.comment_id AS rejected_id,
        e.comment_score AS chosen_score, n.comment_score AS rejected_score,
        CASE WHEN n.comment_score > 0 THEN CAST(e.comment_score AS DOUBLE) / n.comment_score END AS score_ratio,
        e.comment_created_utc - n.comment_created_utc AS seconds_difference,
        e.reply_chars > n.reply_chars AS chosen_longer,
        e.label_confidence * n.label_confidence AS confidence,
        CASE
            WHEN e.post_reason IS NOT NULL THEN e.post_reason
            WHEN e.reply_reason IS NOT NULL THEN 'chosen_' || e.reply_reason
            WHEN n.reply_reason IS NOT NULL THEN 'rejected_' || n.reply_reason
            WHEN NOT (e.on_op_reply AND n.on_op_reply) THEN 'not_on_op_reply'
            WHEN n.op_thanked THEN 'rejected_thanked_by_op'
            WHEN n.comment_score > e.comment_score AND n.comment_score >= 2 * e.comment_score THEN 'votes_contradict'
            WHEN $drop_pointer_replies AND e.is_pointer THEN 'chosen_pointer_reply'
            WHEN e.reply_chars < $min_chosen_length_ratio * n.reply_chars THEN 'chosen_much_shorter'
            WHEN $min_engagement_margin > 0 AND e.engagement - n.engagement < $min_engagement_margin
                THEN 'no_engagement_margin'
            WHEN v.chosen_id IS NOT NULL THEN 'paired_by_votes'
            WHEN e.norm_text = n.norm_text THEN 'same_text'
            ELSE NULL
        END AS reason
    FROM comment_facts e
    JOIN comment_facts n ON e.post_id = n.post_id AND e.label = 1 AND n.label = 0
    LEFT JOIN (SELECT chosen_id, rejected_id FROM vote_candidates WHERE reason IS NULL) v
        ON least(v.chosen_id, v.rejected_id) = least(e.comment_id, n.comment_id)
       AND greatest(v.chosen_id, v.rejected_id) = greatest(e.comment_id, n.comment_id)
),
ranked AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY post_id, reason IS NULL ORDER BY confidence DESC, chosen_id, rejected_id
        ) AS rk
    FROM pairs
)
SELECT
    post_id, chosen_id, rejected_id, chosen_score, rejected_score, score_ratio, seconds_difference, chosen_longer,
    CASE WHEN reason IS NULL AND rk > $max_label_pairs_per_post THEN 'per_post_cap' ELSE reason END AS reason,
    'label' AS pair_source
FROM ranked;

-- The kept pairs of both sources.
CREATE TABLE preference AS
SELECT
    x.post_id, x.chosen_id, x.rejected_id, x.chosen_score, x.rejected_score, x.score_ratio, x.seconds_difference,
    x.pair_source, c.is_sensitive OR r.is_sensitive AS is_sensitive, c.split
FROM (
    SELECT post_id, chosen_id, rejected_id, chosen_score, rejected_score, score_ratio, seconds_difference,
           pair_source, reason
    FROM vote_candidates
    UNION ALL
    SELECT post_id, chosen_id, rejected_id, chosen_score, rejected_score, score_ratio, seconds_difference,
           pair_source, reason
    FROM label_candidates
) x
JOIN ess c ON c.comment_id = x.chosen_id
JOIN ess r ON r.comment_id = x.rejected_id
WHERE x.reason IS NULL;
