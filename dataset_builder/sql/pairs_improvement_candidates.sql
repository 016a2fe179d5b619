-- Improvement pair candidates (dataset_builder/pairs.py documents the rules): similar_reply, among the top-scored
-- comments of a post a lower-scored draft and a better-received reply written after it; self_edit, the earlier
-- and the kept text of one comment. Every candidate keeps the first rule that drops it (NULL: kept so far; the
-- intent check follows in pairs_improvement).
CREATE TABLE improvement_pairs AS
WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY post_id ORDER BY comment_score DESC, comment_id) AS rk
    FROM comment_facts
    WHERE comment_score IS NOT NULL
),
cand AS (
    SELECT * FROM ranked WHERE rk <= $improvement_max_candidates
)
SELECT
    d.post_id, d.comment_id AS draft_id, r.comment_id AS revision_id,
    'c:' || d.comment_id AS draft_key, 'c:' || r.comment_id AS revision_key,
    'similar_reply' AS pair_source, d.comment_score AS draft_score, r.comment_score AS revision_score,
    CASE
        WHEN d.post_reason IS NOT NULL THEN d.post_reason
        WHEN d.reply_reason IS NOT NULL THEN 'draft_' || d.reply_reason
        WHEN r.reply_reason IS NOT NULL THEN 'revision_' || r.reply_reason
        WHEN d.comment_created_utc >= r.comment_created_utc THEN 'draft_after_revision'
        WHEN least(d.reply_words, r.reply_words) < $min_improvement_words THEN 'too_few_words'
        WHEN d.norm_text = r.norm_text THEN 'same_text'
        WHEN r.reply_chars < $min_revision_length_ratio * d.reply_chars THEN 'revision_not_longer'
        WHEN $min_revision_engagement_gain > 0 AND r.engagement - d.engagement < $min_revision_engagement_gain
            THEN 'no_engagement_gain'
        WHEN $drop_pointer_replies AND r.is_pointer THEN 'revision_pointer_reply'
        ELSE NULL
    END AS reason
FROM cand d JOIN cand r ON d.post_id = r.post_id AND d.comment_id <> r.comment_id
WHERE r.comment_score > d.comment_score AND r.comment_score >= $comment_min_score
UNION ALL
SELECT
    r.post_id, r.comment_id AS draft_id, r.comment_id AS revision_id,
    'e:' || r.comment_id AS draft_key, 'c:' || r.comment_id AS revision_key, 'self_edit' AS pair_source,
    v.earlier_score AS draft_score, r.comment_score AS revision_score,
    CASE
        WHEN r.post_reason IS NOT NULL THEN r.post_reason
        WHEN v.reply_reason IS NOT NULL THEN 'draft_' || v.reply_reason
        WHEN r.reply_reason IS NOT NULL THEN 'revision_' || r.reply_reason
        WHEN least(v.reply_words, r.reply_words) < $min_improvement_words THEN 'too_few_words'
        ELSE NULL
    END AS reason
FROM earlier_reply_eligibility v
JOIN comment_facts r ON r.comment_id = v.comment_id;

-- The texts of the candidates still kept, by key ('c:' a comment's kept text, 'e:' its earlier text).
CREATE TABLE improvement_texts AS
SELECT 'c:' || comment_id AS key, comment_text AS text
FROM clean_comments
WHERE comment_id IN (
    SELECT draft_id FROM improvement_pairs WHERE reason IS NULL
    UNION
    SELECT revision_id FROM improvement_pairs WHERE reason IS NULL
)
UNION ALL
SELECT 'e:' || comment_id AS key, comment_text AS text
FROM clean_earlier_versions
WHERE comment_id IN (SELECT draft_id FROM improvement_pairs WHERE reason IS NULL AND pair_source = 'self_edit');
