-- Which posts may feed the training configs (dataset_builder/eligibility.py): the first failing rule names
-- `post_reason` (NULL: eligible); `post_chars` counts the title and the text without its surrounding
-- whitespace, newlines included.
CREATE TABLE post_eligibility AS
SELECT
    p.post_id,
    CASE
        WHEN coalesce(NOT s.seeks_support, TRUE) THEN 'not_support_seeking'
        WHEN length(p.post_text) > $max_post_chars THEN 'megathread_long_post'
        WHEN n.comments > $max_post_comments THEN 'megathread_many_comments'
        ELSE NULL
    END AS post_reason,
    CAST(length(coalesce(p.post_title, '')) AS BIGINT)
        + CAST(length(regexp_replace(coalesce(p.post_text, ''), '^\s+|\s+\z', '', 'g')) AS BIGINT)
        AS post_chars
FROM clean_posts p
JOIN (SELECT post_id, count(*) AS comments FROM ess GROUP BY post_id) n ON n.post_id = p.post_id
LEFT JOIN post_support s ON s.post_id = p.post_id;
