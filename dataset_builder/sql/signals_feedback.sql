-- The OP's general feedback on each kept post (dataset_builder/signals.py): the post's EDIT/UPDATE segments
-- (`post_edit_text`, cut by the Python function `signals.edit_segments`) and the OP's own top-level comments
-- in time order, joined by blank lines. concat_ws skips NULLs in both engines ('' when both are missing).
CREATE TABLE post_feedback_text AS
SELECT p.post_id, concat_ws(chr(10) || chr(10), e.edit_text, o.text) AS feedback_text
FROM kept_posts p
LEFT JOIN post_edit_text e ON e.post_id = p.post_id
LEFT JOIN (
    SELECT s.post_id, string_agg(b.body, chr(10) || chr(10) ORDER BY s.created_utc, s.id) AS text
    FROM comment_status s JOIN comments b ON b.id = s.id
    WHERE s.top_level AND s.drop_reason = 'by_op'
    GROUP BY s.post_id
) o ON o.post_id = p.post_id;
