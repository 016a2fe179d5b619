-- Self-revisions (dataset_builder/revisions.py): for each kept top-level comment retrieved more than once,
-- its earliest retrieval whose text differs from the kept one (ignoring surrounding spaces:
-- trim() strips spaces only, in DuckDB and Spark alike), unless
-- that text is a deletion placeholder. Ties on `retrieved` (NULL first) go to the earlier file and line.
CREATE TABLE earlier_versions AS
SELECT comment_id, post_id, earlier_score, earlier_retrieved, body
FROM (
    SELECT t.comment_id, t.post_id, r.score AS earlier_score, r.retrieved AS earlier_retrieved, r.body,
           row_number() OVER (PARTITION BY r.id ORDER BY r.retrieved ASC NULLS FIRST, r.file_idx, r.line) AS rn
    FROM top_comments t
    JOIN raw_comments r ON r.id = t.comment_id
    WHERE t.comment_id IN (SELECT id FROM raw_comments GROUP BY id HAVING count(*) > 1)
      AND trim(r.body) <> trim(t.body) AND r.body NOT IN ('[deleted]', '[removed]')
) v
WHERE rn = 1;
