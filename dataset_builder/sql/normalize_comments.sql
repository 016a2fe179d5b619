-- Step `normalize_comments` (dataset_builder/normalize.py): raw comment fields (all text, as the dumps give
-- them) become the typed staging columns. The rules are the same as normalize_submissions.sql (keep the two
-- files in step):
--   ids lose a `t1_`..`t6_` prefix and are lower-cased; created_utc/score may be strings or floats (read as
--   DOUBLE, then BIGINT); is_submitter stays NULL when absent (before 2017-07; decided later against the post
--   author); retrieved = Arctic Shift's `_meta.retrieved_2nd_on`, else retrieved_utc, else retrieved_on, else 0.
--   removal: 'deleted' (by the author: `[deleted]` author or text, removed_by_category deleted/author,
--   `_meta.removal_type` deleted, `_meta.was_deleted_later`), 'removed_by_reddit' (`[ Removed by Reddit ]`
--   text, removed_by_category reddit/anti_evil_ops/copyright_takedown/content_takedown/legal/admin,
--   `_meta.removal_type` containing "reddit"), 'removed' (by moderators: a `[removed]`-like placeholder text,
--   any other removed_by_category, removed_by, banned_by, any other `_meta.removal_type`), else NULL.
-- Every placeholder text starts with `[` once trimmed, so `gone_body` (the lower-cased trimmed text) is
-- computed only for such rows and is NULL for the others: the regex then runs on a few rows, not on every
-- comment body (a NULL comparison is never true, so the CASE below is unchanged). The guard tests ltrim(),
-- whose first character is trim()'s, and which costs a tenth of trim() on long texts (measured in DuckDB).
-- Parameter: $file_idx (int), the input file's index.
CREATE TABLE staged_comments AS
WITH chunk AS (
    SELECT *,
           CASE WHEN ltrim(coalesce(body, '')) LIKE '[%' THEN lower(trim(coalesce(body, ''))) END AS gone_body,
           lower(json_extract_string(_meta, '$.removal_type')) AS meta_removal,
           lower(trim(removed_by_category)) AS category
    FROM chunk_comments
)
SELECT regexp_replace(lower(trim(id)), '^t[1-6]_', '', 'g') AS id,
       regexp_replace(lower(trim(link_id)), '^t[1-6]_', '', 'g') AS post_id,
       lower(trim(parent_id)) AS parent_id,
       lower(trim(subreddit)) AS subreddit,
       author,
       body,
       TRY_CAST(TRY_CAST(created_utc AS DOUBLE) AS BIGINT) AS created_utc,
       TRY_CAST(TRY_CAST(score AS DOUBLE) AS BIGINT) AS score,
       CASE WHEN lower(trim(is_submitter)) IN ('true', '1') THEN TRUE
            WHEN lower(trim(is_submitter)) IN ('false', '0') THEN FALSE
            ELSE NULL END AS is_submitter,
       distinguished,
       CASE
           WHEN author = '[deleted]' OR gone_body IN ('[deleted]', '[deleted by user]')
                OR category IN ('deleted', 'author') OR meta_removal = 'deleted'
                OR coalesce(lower(trim(json_extract_string(_meta, '$.was_deleted_later'))) IN ('true', '1', '1.0'), FALSE)
               THEN 'deleted'
           WHEN gone_body LIKE '[ removed by reddit%' OR gone_body LIKE '[removed by reddit%'
                OR category IN ('reddit', 'anti_evil_ops', 'copyright_takedown', 'content_takedown', 'legal', 'admin')
                OR meta_removal LIKE '%reddit%'
               THEN 'removed_by_reddit'
           WHEN regexp_matches(gone_body, '^\[\s*(deleted|deleted by user|removed|removed by [a-z]+[^\]]*|unavailable)\s*\]\z')
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
