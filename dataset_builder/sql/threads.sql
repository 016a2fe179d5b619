-- Step `threads` (dataset_builder/threads.py): select posts and top-level comments, find the OP's direct
-- replies. Every exclusion gets exactly one reason (the first that applies, in the order of the CASE
-- expressions) so the manifest's drop counts add up.
-- Parameters: $subreddits_selected (bool) and $subreddits (list: the selected communities, lower case);
-- $known_bots (list, lower case), $bot_author, $bot_body, $spam_title, $edit_marker (regexes: RE2 in DuckDB,
-- Java in Spark; only the syntax both share); $min_post_chars, $min_comment_chars (int); $require_edited,
-- $drop_threads_with_deleted, $require_op_reply (bool).

-- Posts, first phase: the reasons a post is dropped on its own.
-- PRAW-scraped dumps carry `edited: false` on every submission; the EDIT/UPDATE marker is then the only trace.
CREATE TABLE post_status AS
SELECT s.*,
       CASE
         WHEN $subreddits_selected AND s.subreddit NOT IN ($subreddits) THEN 'subreddit_not_selected'
         WHEN s.author IS NULL THEN 'deleted'
         WHEN s.removal IS NOT NULL THEN s.removal
         WHEN s.over_18 THEN 'nsfw'
         WHEN lower(s.author) IN ($known_bots) OR regexp_matches(s.author, $bot_author)
              OR regexp_matches(s.title || ' ' || s.selftext, $bot_body) THEN 'bot'
         WHEN s.distinguished = 'moderator' OR s.stickied THEN 'moderator'
         WHEN regexp_matches(s.title, $spam_title) THEN 'spam_or_survey'
         WHEN length(trim(s.selftext)) < $min_post_chars THEN 'too_short'
         WHEN $require_edited AND NOT coalesce(s.edited, FALSE)
              AND NOT regexp_matches(coalesce(s.selftext, ''), $edit_marker) THEN 'not_edited'
         ELSE NULL END AS first_drop_reason,
       CASE WHEN coalesce(s.edited, FALSE) THEN 'flag'
            WHEN regexp_matches(coalesce(s.selftext, ''), $edit_marker) THEN 'marker' END AS edited_by
FROM submissions s;

-- Every comment without its text; drop_reason only for top-level comments (and orphans).
CREATE TABLE comment_status AS
SELECT c.id, c.post_id, c.parent_id, c.subreddit, c.author, c.created_utc, c.score, c.is_submitter,
       c.distinguished, c.removal, c.stickied, c.retrieved, c.file_idx, c.line,
       p.author AS post_author, p.first_drop_reason AS post_drop,
       c.parent_id LIKE 't3_%' AS top_level,
       coalesce(c.is_submitter, lower(c.author) = lower(p.author), FALSE) AS by_op,
       (c.author IS NULL OR coalesce(c.removal = 'deleted', FALSE)) AS is_deleted,
       coalesce(c.removal IN ('removed', 'removed_by_reddit'), FALSE) AS is_removed,
       CASE
         WHEN $subreddits_selected AND c.subreddit NOT IN ($subreddits) THEN 'subreddit_not_selected'
         WHEN p.id IS NULL THEN 'orphan'
         WHEN c.parent_id NOT LIKE 't3_%' THEN NULL
         WHEN p.first_drop_reason IS NOT NULL THEN 'post_dropped'
         WHEN c.author IS NULL THEN 'deleted'
         WHEN c.removal IS NOT NULL THEN c.removal
         WHEN coalesce(c.is_submitter, lower(c.author) = lower(p.author), FALSE) THEN 'by_op'
         WHEN lower(c.author) IN ($known_bots) OR regexp_matches(c.author, $bot_author)
              OR regexp_matches(c.body, $bot_body) THEN 'bot'
         WHEN c.distinguished = 'moderator' OR c.stickied THEN 'moderator'
         WHEN length(trim(c.body)) < $min_comment_chars THEN 'too_short'
         ELSE NULL END AS drop_reason
FROM comments c LEFT JOIN post_status p ON p.id = c.post_id;

-- The OP's direct replies to a kept top-level comment (the paper's third stage), in time order.
CREATE TABLE op_replies AS
SELECT t.id AS comment_id,
       string_agg(b.body, chr(10) || chr(10) ORDER BY r.created_utc, r.id) AS op_reply_text,
       count(*) AS op_reply_count
FROM comment_status r
JOIN comment_status t ON r.parent_id = 't1_' || t.id AND r.post_id = t.post_id
JOIN comments b ON b.id = r.id
WHERE NOT r.top_level AND r.by_op AND NOT r.is_deleted AND NOT r.is_removed
      AND t.top_level AND t.drop_reason IS NULL
GROUP BY t.id;

-- Post-level rules that need the comments: the paper preset's selection, and empty threads.
CREATE TABLE thread_facts AS
SELECT c.post_id,
       count(*) FILTER (WHERE c.top_level AND c.drop_reason IS NULL) AS kept_comments,
       count(*) FILTER (WHERE c.is_deleted OR c.is_removed) AS deleted_comments,
       count(r.comment_id) AS op_replied_comments
FROM comment_status c LEFT JOIN op_replies r ON r.comment_id = c.id
WHERE c.post_drop IS NULL
GROUP BY c.post_id;

-- Posts, second phase: drop_reason is final.
CREATE TABLE posts AS
SELECT p.*,
       CASE
         WHEN p.first_drop_reason IS NOT NULL THEN p.first_drop_reason
         WHEN $drop_threads_with_deleted AND coalesce(f.deleted_comments, 0) > 0 THEN 'has_deleted_comments'
         WHEN $require_op_reply AND coalesce(f.op_replied_comments, 0) = 0 THEN 'no_op_reply'
         WHEN coalesce(f.kept_comments, 0) = 0 THEN 'no_kept_comments'
         ELSE NULL END AS drop_reason
FROM post_status p LEFT JOIN thread_facts f ON f.post_id = p.id;

CREATE TABLE top_comments AS
SELECT c.id AS comment_id, c.post_id, c.subreddit, c.author, b.body, c.score, c.created_utc,
       r.op_reply_text, coalesce(r.op_reply_count, 0) AS op_reply_count
FROM comment_status c
JOIN posts p ON p.id = c.post_id AND p.drop_reason IS NULL
JOIN comments b ON b.id = c.id
LEFT JOIN op_replies r ON r.comment_id = c.id
WHERE c.top_level AND c.drop_reason IS NULL;

-- Comments of posts dropped only in the second phase are counted as post_dropped.
CREATE TABLE comment_drops AS
SELECT reason, count(*) AS n
FROM (
    SELECT CASE WHEN c.drop_reason IS NULL AND p.drop_reason IS NOT NULL THEN 'post_dropped'
                ELSE c.drop_reason END AS reason
    FROM comment_status c LEFT JOIN posts p ON p.id = c.post_id
    WHERE c.top_level OR c.drop_reason IN ('orphan', 'subreddit_not_selected')
) d
GROUP BY reason;

CREATE TABLE kept_posts AS
SELECT id AS post_id, subreddit, author, title, selftext, score, created_utc, edited, edited_by
FROM posts
WHERE drop_reason IS NULL;
