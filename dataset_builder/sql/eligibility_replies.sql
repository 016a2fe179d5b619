-- Which replies may feed the training configs (dataset_builder/eligibility.py holds the regexes, bound as
-- $parameters): the measures of every kept comment's scrubbed text and of every earlier retrieval of one
-- (`clean_earlier_versions`, read by the improvement pairs' self_edit rule), measured by one definition.
-- `reply_chars`: characters once the privacy placeholders are removed, without surrounding whitespace;
-- `reply_words`: whitespace-separated words; `engagement`: engagement markers; `is_pointer`: mainly points
-- elsewhere; `reply_reason`: the first failing rule (NULL: eligible).
CREATE TABLE reply_measures AS
WITH texts AS (
    SELECT 'comment' AS version, comment_id, post_id, CAST(NULL AS BIGINT) AS earlier_score, comment_text AS text
    FROM clean_comments
    WHERE comment_id IN (SELECT comment_id FROM ess)
    UNION ALL
    SELECT 'earlier' AS version, comment_id, post_id, earlier_score, comment_text AS text
    FROM clean_earlier_versions
),
stripped AS (
    SELECT
        version, comment_id, post_id, earlier_score,
        regexp_replace(text, '^\s+|\s+\z', '', 'g') AS body,
        regexp_replace(regexp_replace(text, $placeholders, '', 'g'), '^\s+|\s+\z', '', 'g') AS kept,
        lower(coalesce(text, '')) AS low
    FROM texts
),
measured AS (
    SELECT
        version, comment_id, post_id, earlier_score,
        CAST(length(kept) AS BIGINT) AS reply_chars,
        CAST(length(body) AS BIGINT) AS total_chars,
        CAST(array_length(string_split_regex(body, '\s+')) AS BIGINT) * CAST(length(body) > 0 AS INT) AS reply_words,
        CAST(array_length(regexp_extract_all(low, $engagement)) AS BIGINT) AS engagement,
        regexp_matches(low, $pointer) AND NOT regexp_matches(low, $care_referral)
            AND length(regexp_replace(regexp_replace(low, $pointer, ' ', 'g'), '^\s+|\s+\z', '', 'g'))
                < $pointer_reply_chars AS is_pointer
    FROM stripped
)
SELECT
    version, comment_id, post_id, earlier_score, reply_chars, reply_words, engagement, is_pointer,
    CASE
        WHEN total_chars > 0 AND 1 - reply_chars / CAST(total_chars AS DOUBLE) > $max_placeholder_share
            THEN 'mostly_placeholders'
        WHEN reply_chars < $min_reply_chars THEN 'reply_too_short'
        ELSE NULL
    END AS reply_reason
FROM measured;

CREATE TABLE reply_eligibility AS
SELECT comment_id, post_id, reply_chars, reply_words, engagement, is_pointer, reply_reason
FROM reply_measures
WHERE version = 'comment';

CREATE TABLE earlier_reply_eligibility AS
SELECT comment_id, post_id, earlier_score, reply_chars, reply_words, engagement, is_pointer, reply_reason
FROM reply_measures
WHERE version = 'earlier';
