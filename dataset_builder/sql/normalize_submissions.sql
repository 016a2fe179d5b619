-- Step `normalize_submissions` (dataset_builder/normalize.py): raw submission fields (all text) become the
-- typed staging columns. Same rules as normalize_comments.sql (read its header; keep the two in step), with
-- the placeholder texts looked for in the title and the selftext; `edited` is false / an epoch number / true
-- in the dumps and becomes a boolean; over_18 and stickied are booleans defaulting to false.
-- Parameter: $file_idx (int), the input file's index.
CREATE TABLE staged_submissions AS
WITH chunk AS (
    SELECT *,
           CASE WHEN ltrim(coalesce(title, '')) LIKE '[%' THEN lower(trim(coalesce(title, ''))) END AS gone_title,
           CASE WHEN ltrim(coalesce(selftext, '')) LIKE '[%' THEN lower(trim(coalesce(selftext, ''))) END
               AS gone_selftext,
           lower(json_extract_string(_meta, '$.removal_type')) AS meta_removal,
           lower(trim(removed_by_category)) AS category
    FROM chunk_submissions
)
SELECT regexp_replace(lower(trim(id)), '^t[1-6]_', '', 'g') AS id,
       lower(trim(subreddit)) AS subreddit,
       author,
       coalesce(title, '') AS title,
       coalesce(selftext, '') AS selftext,
       TRY_CAST(TRY_CAST(created_utc AS DOUBLE) AS BIGINT) AS created_utc,
       TRY_CAST(TRY_CAST(score AS DOUBLE) AS BIGINT) AS score,
       (edited IS NOT NULL AND lower(trim(edited)) NOT IN ('false', '0', '0.0', '', 'null')) AS edited,
       coalesce(lower(trim(over_18)) IN ('true', '1', '1.0'), FALSE) AS over_18,
       distinguished,
       removed_by_category,
       CASE
           WHEN author = '[deleted]'
                OR gone_title IN ('[deleted]', '[deleted by user]')
                OR gone_selftext IN ('[deleted]', '[deleted by user]')
                OR category IN ('deleted', 'author') OR meta_removal = 'deleted'
                OR coalesce(lower(trim(json_extract_string(_meta, '$.was_deleted_later'))) IN ('true', '1', '1.0'), FALSE)
               THEN 'deleted'
           WHEN gone_title LIKE '[ removed by reddit%' OR gone_title LIKE '[removed by reddit%'
                OR gone_selftext LIKE '[ removed by reddit%' OR gone_selftext LIKE '[removed by reddit%'
                OR category IN ('reddit', 'anti_evil_ops', 'copyright_takedown', 'content_takedown', 'legal', 'admin')
                OR meta_removal LIKE '%reddit%'
               THEN 'removed_by_reddit'
           WHEN regexp_matches(gone_title, '^\[\s*(deleted|deleted by user|removed|removed by [a-z]+[^\]]*|unavailable)\s*\]\z')
                OR regexp_matches(gone_selftext, '^\[\s*(deleted|deleted by user|removed|removed by [a-z]+[^\]]*|unavailable)\s*\]\z')
                OR category IS NOT NULL
                OR lower(trim(coalesce(removed_by, ''))) NOT IN ('', 'false', 'null', 'none', '0')
                OR lower(trim(coalesce(banned_by, ''))) NOT IN ('', 'false', 'null', 'none', '0')
                OR meta_removal IS NOT NULL
               THEN 'removed'
           ELSE NULL END AS removal,
       coalesce(lower(trim(stickied)) IN ('true', '1', '1.0'), FALSE) AS stickied,
       coalesce(
           TRY_CAST(TRY_CAST(json_extract_string(_meta, '$.retrieved_2nd_on') AS DOUBLE) AS BIGINT),
           TRY_CAST(TRY_CAST(retrieved_utc AS DOUBLE) AS BIGINT),
           TRY_CAST(TRY_CAST(retrieved_on AS DOUBLE) AS BIGINT),
           0
       ) AS retrieved,
       CAST($file_idx AS INTEGER) AS file_idx,
       _line AS line
FROM chunk;
