-- Improvement pairs (dataset_builder/pairs.py): the candidates of pairs_improvement_candidates that say the same
-- thing (similarity >= $min_similarity; with the encoder, pairs sharing too few words were not embedded), at
-- most $max_improvement_pairs_per_post per post (self_edit first, then the most similar).
CREATE TABLE improvement_candidates AS
WITH scored AS (
    SELECT
        c.post_id, c.draft_id, c.revision_id, c.draft_key, c.revision_key, c.pair_source, c.draft_score,
        c.revision_score, coalesce(s.similarity, CAST(0.0 AS DOUBLE)) AS similarity,
        CASE
            WHEN c.reason IS NOT NULL THEN c.reason
            WHEN $lexical_prefilter AND coalesce(s.lexical, CAST(0.0 AS DOUBLE)) < $min_shared_words
                THEN 'few_shared_words'
            WHEN coalesce(s.similarity, CAST(0.0 AS DOUBLE)) < $min_similarity THEN 'below_similarity'
            ELSE NULL
        END AS reason
    FROM improvement_pairs c
    LEFT JOIN pair_similarity s ON s.draft_key = c.draft_key AND s.revision_key = c.revision_key
),
ranked AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY post_id, reason IS NULL
            ORDER BY pair_source = 'self_edit' DESC, similarity DESC, draft_key, revision_key
        ) AS rk
    FROM scored
)
SELECT
    post_id, draft_id, revision_id, draft_key, revision_key, pair_source, draft_score, revision_score, similarity,
    CASE WHEN reason IS NULL AND rk > $max_improvement_pairs_per_post THEN 'per_post_cap' ELSE reason END AS reason
FROM ranked;

CREATE TABLE improvement AS
SELECT
    x.similarity, x.post_id, x.draft_id, x.revision_id, x.draft_score, x.revision_score, x.pair_source,
    d.is_sensitive OR r.is_sensitive AS is_sensitive, r.split
FROM improvement_candidates x
JOIN ess d ON d.comment_id = x.draft_id
JOIN ess r ON r.comment_id = x.revision_id
WHERE x.reason IS NULL;
