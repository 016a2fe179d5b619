-- Step `splits` (dataset_builder/splits.py): the split of every kept post.
-- One seeded hash of the post id, so a post lands in the same split in every config (no leakage between a
-- post's comments, pairs and SFT rows) and in every rebuild, on every engine:
--   h = the first 32 bits of md5('<seed>:<post_id>'), as an integer in [0, 2^32), read digit by digit
--       (DuckDB has no conv(), Spark no hex casts; instr() is 1-based in both, and an INT in Spark, whose
--       products wrap past 2^31: hence the BIGINT casts);
--   test when h < test_fraction * 2^32, validation when h < (test_fraction + validation_fraction) * 2^32,
--   else train. Multiplying by 2^32 is exact in DOUBLE, so this equals comparing h / 2^32 with the fractions.
-- Parameters: $seed (int), $test_fraction, $validation_fraction (float).
CREATE TABLE post_splits AS
WITH hashed AS (
    SELECT post_id, md5(CAST($seed AS VARCHAR) || ':' || post_id) AS digest
    FROM kept_posts
),
bucketed AS (
    SELECT post_id,
           CAST(
               (CAST(instr('0123456789abcdef', substr(digest, 1, 1)) AS BIGINT) - 1) * 268435456
               + (CAST(instr('0123456789abcdef', substr(digest, 2, 1)) AS BIGINT) - 1) * 16777216
               + (CAST(instr('0123456789abcdef', substr(digest, 3, 1)) AS BIGINT) - 1) * 1048576
               + (CAST(instr('0123456789abcdef', substr(digest, 4, 1)) AS BIGINT) - 1) * 65536
               + (CAST(instr('0123456789abcdef', substr(digest, 5, 1)) AS BIGINT) - 1) * 4096
               + (CAST(instr('0123456789abcdef', substr(digest, 6, 1)) AS BIGINT) - 1) * 256
               + (CAST(instr('0123456789abcdef', substr(digest, 7, 1)) AS BIGINT) - 1) * 16
               + (CAST(instr('0123456789abcdef', substr(digest, 8, 1)) AS BIGINT) - 1)
               AS DOUBLE) AS h
    FROM hashed
)
SELECT post_id,
       CASE WHEN h < $test_fraction * CAST(4294967296 AS DOUBLE) THEN 'test'
            WHEN h < ($test_fraction + $validation_fraction) * CAST(4294967296 AS DOUBLE) THEN 'validation'
            ELSE 'train' END AS split
FROM bucketed;
