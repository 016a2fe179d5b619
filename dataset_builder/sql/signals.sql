-- The evidence behind the label (rule 2.0), see dataset_builder/signals.py: the regexes are its constants,
-- the strengths the build configuration's, all bound as $parameters; the sentiment compounds (-1..1) come
-- from the Python scorer (`op_sentiment`, `feedback_sentiment`: key, compound).

-- post_feedback: g x compound, g = 1 when the feedback thanks (contrast and refusals removed first).
CREATE TABLE post_signals AS
SELECT f.post_id, f.feedback_text,
       CASE WHEN s.compound IS NULL THEN NULL
            ELSE (CASE WHEN regexp_matches(regexp_replace(lower(f.feedback_text), $not_gratitude, ' ', 'g'),
                                           $gratitude)
                       THEN CAST(1 AS DOUBLE) ELSE $no_gratitude_weight END) * s.compound END AS post_feedback
FROM post_feedback_text f LEFT JOIN feedback_sentiment s ON s.key = f.post_id;

-- One row per kept top-level comment: reception (mid-rank score percentile within the post, 0.5 alone),
-- the kind of evidence the OP's replies give (the first that applies) and its op_signal (0-1).
CREATE TABLE comment_signals AS
WITH replies AS (
    SELECT c.comment_id, c.post_id, c.score, c.author, c.op_reply_text, s.compound AS op_compound,
           lower(c.op_reply_text) AS low,
           regexp_replace(lower(c.op_reply_text), $not_gratitude, ' ', 'g') AS cleaned
    FROM top_comments c LEFT JOIN op_sentiment s ON s.key = c.comment_id
),
matched AS (
    SELECT comment_id, post_id, score, author, op_reply_text, op_compound,
           regexp_matches(low, $rejection) AS rejects,
           regexp_matches(cleaned, $gratitude) AS thanks,
           regexp_matches(cleaned, $benefit) AS benefits,
           regexp_matches(cleaned, $agreement) AS agrees,
           regexp_matches(cleaned, $courtesy) AS courteous,
           regexp_matches(op_reply_text, $question) AS asks
    FROM replies
),
evidence AS (
    SELECT comment_id, post_id, score, author, op_compound, thanks,
           CASE WHEN op_reply_text IS NULL THEN NULL
                WHEN rejects AND (thanks OR benefits OR agrees) THEN 'mixed'
                WHEN rejects THEN 'rejection'
                WHEN benefits THEN 'benefit'
                WHEN thanks AND courteous THEN 'courtesy'
                WHEN thanks THEN 'gratitude'
                WHEN agrees THEN 'agreement'
                WHEN asks THEN 'question'
                ELSE 'other' END AS op_evidence
    FROM matched
)
SELECT c.comment_id, c.score,
       count(c.score) OVER w AS scored_in_post,
       CASE WHEN c.score IS NULL THEN NULL
            WHEN count(c.score) OVER w < 2 THEN CAST(0.5 AS DOUBLE)
            ELSE ((rank() OVER ws - 1) + CAST(0.5 AS DOUBLE) * (count(c.score) OVER wt - 1))
                 / (count(c.score) OVER w - 1) END AS reception,
       c.op_evidence,
       CASE WHEN c.op_evidence IS NULL THEN NULL
            WHEN c.op_evidence IN ('benefit', 'gratitude') THEN CAST(0.5 AS DOUBLE) + least(CAST(1 AS DOUBLE),
                greatest(CAST(0 AS DOUBLE),
                    CASE WHEN c.op_evidence = 'gratitude' THEN $gratitude_strength
                         WHEN c.thanks THEN $thanked_benefit_strength
                         ELSE $benefit_strength END
                    + $sentiment_strength * coalesce(c.op_compound, 0))) / 2
            WHEN c.op_evidence = 'rejection' THEN CAST(0.5 AS DOUBLE) - least(CAST(1 AS DOUBLE),
                greatest(CAST(0 AS DOUBLE), $rejection_strength - $sentiment_strength * coalesce(c.op_compound, 0))) / 2
            ELSE CAST(0.5 AS DOUBLE) END AS op_signal,
       ps.post_feedback,
       ps.feedback_text IS NOT NULL AND c.author IS NOT NULL
         AND strpos(lower(ps.feedback_text), 'u/' || lower(c.author)) > 0 AS feedback_names_author
FROM evidence c
LEFT JOIN post_signals ps ON ps.post_id = c.post_id
WINDOW w AS (PARTITION BY c.post_id),
       ws AS (PARTITION BY c.post_id, c.score IS NULL ORDER BY c.score),
       wt AS (PARTITION BY c.post_id, c.score);
