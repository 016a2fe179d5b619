-- Step `stats` (dataset_builder/stats.py): the figures of a built folder, read back from its rows.
-- Inputs: one view per config, `rows_<config>`, every row of the config with its `split` (empty views for
-- configs without rows). Parameters: $bin_1 .. $bin_4 (float): the inner edges of the label_confidence bins
-- [0, bin_1), [bin_1, bin_2), ..., [bin_4, 1] (the last bin closed).

CREATE TABLE stats_rows AS
SELECT 'effective_support' AS config, split, count(*) AS n FROM rows_effective_support GROUP BY split
UNION ALL SELECT 'comments' AS config, split, count(*) AS n FROM rows_comments GROUP BY split
UNION ALL SELECT 'preference' AS config, split, count(*) AS n FROM rows_preference GROUP BY split
UNION ALL SELECT 'sft' AS config, split, count(*) AS n FROM rows_sft GROUP BY split
UNION ALL SELECT 'improvement' AS config, split, count(*) AS n FROM rows_improvement GROUP BY split;

CREATE TABLE stats_label_balance AS
SELECT split, label, count(*) AS n FROM rows_effective_support GROUP BY split, label;

CREATE TABLE stats_label_sources AS
SELECT label_source || ' -> ' || CASE label WHEN 1 THEN 'effective' ELSE 'not_effective' END AS source,
       count(*) AS n
FROM rows_effective_support
GROUP BY label_source || ' -> ' || CASE label WHEN 1 THEN 'effective' ELSE 'not_effective' END;

-- label_confidence per label: n, mean, the quartiles/deciles by linear interpolation between the two
-- nearest ranks, lo * (1 - d) + hi * d (DuckDB's quantile_cont written out, because sqlglot maps quantiles to
-- Spark functions with other semantics; DuckDB's own fuses the first product, so it can differ in the last
-- bit, never after the rounding to 4 decimals except at an exact tie), and the counts per bin.
CREATE TABLE stats_confidence AS
WITH ranked AS (
    SELECT label, label_confidence AS v,
           row_number() OVER (PARTITION BY label ORDER BY label_confidence) - 1 AS i,
           count(*) OVER (PARTITION BY label) AS n
    FROM rows_effective_support
    WHERE label_confidence IS NOT NULL
),
probabilities AS (
    SELECT 'p10' AS name, CAST(0.1 AS DOUBLE) AS p
    UNION ALL SELECT 'p25' AS name, CAST(0.25 AS DOUBLE) AS p
    UNION ALL SELECT 'median' AS name, CAST(0.5 AS DOUBLE) AS p
    UNION ALL SELECT 'p75' AS name, CAST(0.75 AS DOUBLE) AS p
    UNION ALL SELECT 'p90' AS name, CAST(0.9 AS DOUBLE) AS p
),
positions AS (
    SELECT DISTINCT r.label, q.name, (r.n - 1) * q.p AS pos, floor((r.n - 1) * q.p) AS lo,
           ceil((r.n - 1) * q.p) AS hi
    FROM ranked r CROSS JOIN probabilities q
),
quantiles AS (
    SELECT q.label, q.name,
           max(CASE WHEN r.i = q.lo THEN r.v END) * (1 - (q.pos - q.lo))
             + max(CASE WHEN r.i = q.hi THEN r.v END) * (q.pos - q.lo) AS value
    FROM positions q JOIN ranked r ON r.label = q.label AND (r.i = q.lo OR r.i = q.hi)
    GROUP BY q.label, q.name, q.pos, q.lo
),
summary AS (
    SELECT label, count(*) AS n, avg(label_confidence) AS mean,
           count(*) FILTER (WHERE label_confidence >= 0 AND label_confidence < $bin_1) AS bin_1,
           count(*) FILTER (WHERE label_confidence >= $bin_1 AND label_confidence < $bin_2) AS bin_2,
           count(*) FILTER (WHERE label_confidence >= $bin_2 AND label_confidence < $bin_3) AS bin_3,
           count(*) FILTER (WHERE label_confidence >= $bin_3 AND label_confidence < $bin_4) AS bin_4,
           count(*) FILTER (WHERE label_confidence >= $bin_4 AND label_confidence <= 1) AS bin_5
    FROM rows_effective_support
    WHERE label IS NOT NULL
    GROUP BY label
)
SELECT s.label, s.n, s.mean,
       max(CASE WHEN q.name = 'p10' THEN q.value END) AS p10,
       max(CASE WHEN q.name = 'p25' THEN q.value END) AS p25,
       max(CASE WHEN q.name = 'median' THEN q.value END) AS median,
       max(CASE WHEN q.name = 'p75' THEN q.value END) AS p75,
       max(CASE WHEN q.name = 'p90' THEN q.value END) AS p90,
       s.bin_1, s.bin_2, s.bin_3, s.bin_4, s.bin_5
FROM summary s LEFT JOIN quantiles q ON q.label = s.label
GROUP BY s.label, s.n, s.mean, s.bin_1, s.bin_2, s.bin_3, s.bin_4, s.bin_5;

CREATE TABLE stats_pairs_per_post AS
SELECT 'preference' AS config, avg(n) AS mean, max(n) AS top, count(*) AS posts
FROM (SELECT post_id, count(*) AS n FROM rows_preference GROUP BY post_id) per_post
UNION ALL
SELECT 'improvement' AS config, avg(n) AS mean, max(n) AS top, count(*) AS posts
FROM (SELECT post_id, count(*) AS n FROM rows_improvement GROUP BY post_id) per_post
UNION ALL
SELECT 'sft' AS config, avg(n) AS mean, max(n) AS top, count(*) AS posts
FROM (SELECT post_id, count(*) AS n FROM rows_sft GROUP BY post_id) per_post;

CREATE TABLE stats_pair_sources AS
SELECT 'preference' AS config, pair_source, count(*) AS n FROM rows_preference GROUP BY pair_source
UNION ALL
SELECT 'improvement' AS config, pair_source, count(*) AS n FROM rows_improvement GROUP BY pair_source;

-- Share of preference pairs whose chosen reply is longer (characters): votes favour length or its opposite.
CREATE TABLE stats_chosen_longer AS
SELECT pair_source, avg(CAST(length(chosen[1].content) > length(rejected[1].content) AS INT)) AS share
FROM rows_preference
GROUP BY pair_source;

CREATE TABLE stats_subreddits AS
SELECT subreddit, count(*) AS n FROM rows_comments GROUP BY subreddit;

CREATE TABLE stats_comments AS
SELECT count(*) FILTER (WHERE is_sensitive) AS sensitive_rows,
       count(*) FILTER (WHERE label IS NULL) AS unlabeled_comments,
       count(*) FILTER (WHERE NOT seeks_support) AS comments_on_posts_not_seeking_support
FROM rows_comments;
