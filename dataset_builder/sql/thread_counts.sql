-- Step `thread_counts` (dataset_builder/threads.py): the figures of the manifest's `counts` and `drops`.
-- edited_by_flag / edited_by_marker: kept posts whose `edited` field is set / that carry only an
-- EDIT/UPDATE marker in their text (PRAW-scraped dumps).
CREATE TABLE thread_counts AS
SELECT (SELECT count(*) FROM raw_submissions) AS submissions_read,
       (SELECT count(*) FROM submissions) AS submissions_unique,
       (SELECT count(*) FROM raw_comments) AS comments_read,
       (SELECT count(*) FROM comments) AS comments_unique,
       (SELECT count(*) FILTER (WHERE top_level) FROM comment_status) AS top_level_comments,
       (SELECT count(*) FROM kept_posts) AS posts_kept,
       (SELECT count(*) FROM top_comments) AS top_level_comments_kept,
       (SELECT count(*) FILTER (WHERE op_reply_text IS NOT NULL) FROM top_comments) AS comments_with_op_reply,
       (SELECT coalesce(CAST(sum(op_reply_count) AS BIGINT), 0) FROM top_comments) AS op_replies_used,
       (SELECT count(*)
        FROM comment_status r
        JOIN comment_status t ON r.parent_id = 't1_' || t.id AND r.post_id = t.post_id
        WHERE t.top_level AND r.by_op AND NOT r.is_deleted AND r.drop_reason IS NULL) AS op_direct_replies_in_input,
       (SELECT count(*) FILTER (WHERE edited_by = 'flag') FROM kept_posts) AS edited_by_flag,
       (SELECT count(*) FILTER (WHERE edited_by = 'marker') FROM kept_posts) AS edited_by_marker;

-- Exclusions by reason: `submission` (posts) and `comment` (top-level comments and orphans).
CREATE TABLE thread_drops AS
SELECT 'submission' AS kind, drop_reason AS reason, count(*) AS n
FROM posts WHERE drop_reason IS NOT NULL GROUP BY drop_reason
UNION ALL
SELECT 'comment' AS kind, reason, n FROM comment_drops WHERE reason IS NOT NULL;
