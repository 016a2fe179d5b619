-- Earlier texts that may name a participant of their thread: the same token filter as
-- `privacy_name_hits` (sql/privacy_name_hits.sql), over the scrubbed earlier versions.
CREATE TABLE earlier_name_hits AS
WITH tokens AS (
    SELECT comment_id AS key, post_id,
           unnest(regexp_extract_all(lower(comment_text), $name_token, 0)) AS token
    FROM clean_earlier_versions
)
SELECT DISTINCT key, post_id, token AS name FROM tokens
WHERE token IN (SELECT name FROM participants);
