-- A thread's participants (dataset_builder/privacy.py): the lower-cased authors of its post and of every
-- comment in it (any depth, deleted authors aside), for the kept posts. Their names are replaced by
-- `[user]` where written in a text of the same thread.
CREATE TABLE participants AS
SELECT DISTINCT post_id, lower(author) AS name FROM comment_status
WHERE author IS NOT NULL AND author <> '[deleted]' AND post_id IN (SELECT post_id FROM kept_posts)
UNION
SELECT post_id, lower(author) AS name FROM kept_posts;
