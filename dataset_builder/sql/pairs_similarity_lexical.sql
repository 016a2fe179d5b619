-- Word-set Jaccard of each kept improvement candidate's two texts (dataset_builder/pairs.py): words of at
-- least three letters (apostrophes inside), lowercased, stop words ignored.
CREATE TABLE imp_tokens AS
SELECT DISTINCT key, token
FROM (SELECT key, unnest(regexp_extract_all(lower(text), '[a-z][a-z'']{2,}')) AS token FROM improvement_texts) t
WHERE token NOT IN ($stopwords);

CREATE TABLE pair_similarity AS
WITH sizes AS (
    SELECT key, count(*) AS n FROM imp_tokens GROUP BY key
),
pairs AS (
    SELECT DISTINCT draft_key, revision_key FROM improvement_pairs WHERE reason IS NULL
),
shared AS (
    SELECT p.draft_key, p.revision_key, count(*) AS inter
    FROM pairs p
    JOIN imp_tokens a ON a.key = p.draft_key
    JOIN imp_tokens b ON b.key = p.revision_key AND b.token = a.token
    GROUP BY p.draft_key, p.revision_key
)
SELECT
    s.draft_key, s.revision_key,
    s.inter / CAST(da.n + db.n - s.inter AS DOUBLE) AS similarity,
    s.inter / CAST(da.n + db.n - s.inter AS DOUBLE) AS lexical
FROM shared s
JOIN sizes da ON da.key = s.draft_key
JOIN sizes db ON db.key = s.revision_key;
