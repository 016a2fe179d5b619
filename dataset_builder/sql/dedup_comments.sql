-- Step `dedup_comments` (dataset_builder/threads.py): one row per comments id, the latest retrieved copy
-- (ties: the later input file, then the later line). Run only when raw_comments holds duplicates; otherwise
-- `comments` is raw_comments itself. (file_idx, line) identifies a staged record, so the winners are joined back
-- instead of dropping the helper column with DuckDB's `* EXCLUDE`.
CREATE TABLE comments AS
SELECT r.*
FROM raw_comments r
JOIN (
    SELECT file_idx, line,
           row_number() OVER (PARTITION BY id ORDER BY retrieved DESC, file_idx DESC, line DESC) AS rn
    FROM raw_comments
) w ON w.file_idx = r.file_idx AND w.line = r.line
WHERE w.rn = 1;
