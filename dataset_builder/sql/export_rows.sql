-- The rows of each config (dataset_builder/export.py), texts joined in from the scrubbed tables; `_split`
-- first. Chat turns are plain text columns here: export.py renders the user turn from the prompt template
-- and builds the `messages` lists of {role, content} in Arrow (list and struct literals differ between
-- engines). Rows are ordered by export.py (`ROW_ORDER`) when it reads each view.
CREATE VIEW export_effective_support AS
SELECT e.split AS _split, e.post_id, e.comment_id, e.subreddit, p.post_title, p.post_text, c.comment_text,
       e.comment_score, e.post_score, e.post_created_utc, e.comment_created_utc, e.op_replied, c.op_reply_text,
       e.reception, e.op_signal, e.op_evidence, e.post_feedback, e.label, e.label_confidence, e.label_source,
       e.seeks_support, e.author, e.is_sensitive
FROM ess e
JOIN clean_comments c ON c.comment_id = e.comment_id
JOIN clean_posts p ON p.post_id = e.post_id
WHERE e.label IS NOT NULL;

CREATE VIEW export_comments AS
SELECT e.split AS _split, e.post_id, e.comment_id, e.subreddit, p.post_title, p.post_text, c.comment_text,
       e.comment_score, e.post_score, e.post_created_utc, e.comment_created_utc, e.op_replied, c.op_reply_text,
       e.reception, e.op_signal, e.op_evidence, e.post_feedback, e.label, e.label_confidence, e.label_source,
       e.seeks_support, e.author, e.is_sensitive
FROM ess e
JOIN clean_comments c ON c.comment_id = e.comment_id
JOIN clean_posts p ON p.post_id = e.post_id;

CREATE VIEW export_preference AS
SELECT x.split AS _split, p.post_title, p.post_text, c.comment_text AS chosen_text, r.comment_text AS rejected_text,
       x.post_id, x.chosen_id, x.rejected_id, x.chosen_score, x.rejected_score, x.score_ratio,
       x.seconds_difference, x.pair_source, x.is_sensitive
FROM preference x
JOIN clean_posts p ON p.post_id = x.post_id
JOIN clean_comments c ON c.comment_id = x.chosen_id
JOIN clean_comments r ON r.comment_id = x.rejected_id;

CREATE VIEW export_sft AS
SELECT x.split AS _split, p.post_title, p.post_text, c.comment_text AS reply_text, x.post_id, x.comment_id,
       x.label_confidence, x.is_sensitive
FROM sft x
JOIN clean_posts p ON p.post_id = x.post_id
JOIN clean_comments c ON c.comment_id = x.comment_id;

-- A self_edit pair's draft is the earlier retrieval of the revised comment.
CREATE VIEW export_improvement AS
SELECT x.split AS _split, p.post_title, p.post_text, r.comment_text AS chosen_text,
       CASE WHEN x.pair_source = 'self_edit' THEN ev.comment_text ELSE d.comment_text END AS draft_text,
       x.similarity, x.post_id, x.draft_id, x.revision_id, x.draft_score, x.revision_score, x.pair_source,
       x.is_sensitive
FROM improvement x
JOIN clean_posts p ON p.post_id = x.post_id
JOIN clean_comments d ON d.comment_id = x.draft_id
JOIN clean_comments r ON r.comment_id = x.revision_id
LEFT JOIN clean_earlier_versions ev ON ev.comment_id = x.draft_id AND x.pair_source = 'self_edit';
