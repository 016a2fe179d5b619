-- The `ess` table (dataset_builder/pipeline.py): one row per kept top-level comment with its signals, label,
-- support-seeking flag, pseudonym, crisis flags and split. Texts stay in `clean_posts` / `clean_comments` and
-- are joined in only when rows are written (`export_rows`), so no text is copied into intermediate tables.
CREATE TABLE ess AS
SELECT c.post_id, c.comment_id, t.subreddit,
       t.score AS comment_score, k.score AS post_score,
       k.created_utc AS post_created_utc, t.created_utc AS comment_created_utc,
       t.op_reply_text IS NOT NULL AS op_replied,
       s.reception, s.op_signal, s.op_evidence, s.post_feedback,
       l.label, l.label_confidence, l.label_source, u.seeks_support,
       a.pseudonym AS author,
       p.post_sensitive, p.post_sensitive OR c.comment_sensitive AS is_sensitive,
       sp.split
FROM clean_comments c
JOIN top_comments t ON t.comment_id = c.comment_id
JOIN clean_posts p ON p.post_id = c.post_id
JOIN kept_posts k ON k.post_id = c.post_id
JOIN comment_signals s ON s.comment_id = c.comment_id
JOIN comment_labels l ON l.comment_id = c.comment_id
JOIN post_support u ON u.post_id = c.post_id
JOIN pseudonyms a ON a.author = t.author
JOIN post_splits sp ON sp.post_id = c.post_id;
