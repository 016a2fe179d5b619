-- Texts that may name a participant of their thread (dataset_builder/privacy.py): (key, post_id, name)
-- where a token of the text (a maximal run of at least 3 username characters, `$name_token`,
-- lower-cased) is some participant's name. The rewrite (`privacy.rewrite_names`, Python) then keeps only
-- the names taking part in the row's own thread and replaces them where used as a name. Filtering by the
-- set of all names first drops almost every token cheaply.
CREATE TABLE post_name_hits AS
WITH tokens AS (
    SELECT post_id AS key, post_id,
           unnest(regexp_extract_all(lower(post_title || ' ' || post_text), $name_token, 0)) AS token
    FROM clean_posts
)
SELECT DISTINCT key, post_id, token AS name FROM tokens
WHERE token IN (SELECT name FROM participants);

CREATE TABLE comment_name_hits AS
WITH tokens AS (
    SELECT comment_id AS key, post_id,
           unnest(regexp_extract_all(lower(comment_text || ' ' || coalesce(op_reply_text, '')), $name_token, 0))
               AS token
    FROM clean_comments
)
SELECT DISTINCT key, post_id, token AS name FROM tokens
WHERE token IN (SELECT name FROM participants);
