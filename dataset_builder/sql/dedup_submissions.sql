-- Step `dedup_submissions` (dataset_builder/threads.py): one row per submissions id, the latest retrieved copy
-- (ties: the later input file, then the later line). Run only when raw_submissions holds duplicates; otherwise
-- `submissions` is raw_submissions itself. (file_idx, line) identifies a staged record, so the winners are joined back
-- instead of dropping the helper column with DuckDB's `* EXCLUDE`.
CREATE TABLE submissions AS
SELECT r.*
FROM raw_submissions r
JOIN (
    SELECT file_idx, line,
           row_number() OVER (PARTITION BY id ORDER BY retrieved DESC, file_idx DESC, line DESC) AS rn
    FROM raw_submissions
) w ON w.file_idx = r.file_idx AND w.line = r.line
WHERE w.rn = 1;
