"""Which posts and replies may feed the training configs (`preference`, `sft`, `improvement`).

The `comments` and `effective_support` configs keep every kept comment; the training configs teach a
model to write, so they only take what is worth imitating (issue 16's audit of reddit-college builds):

- posts: support-seeking ones only (the `post_support` table of the support-seeking rule), and no megathreads: a post text longer than `max_post_chars` or a thread with more
  than `max_post_comments` kept top-level comments (a 14,500-character list of decision dates gave 242 rows);
- replies: at least `min_reply_chars` characters once the privacy placeholders (`[url]`, `[email]`,
  `[phone]`, `[user]`) are removed, and not mostly placeholders (a link-only reply becomes `[url]`).

Two content measures feed the pair and sft rules (`pairs`), read by the pair audit's failure kinds (benchmarks/
pair_audit/README.md: the better reply of a pair is the one that engages the OP and gives the asked-for guidance;
the thin side is a me-too, a joke, a one-liner or a pointer elsewhere):

- `engagement`: how many engagement markers a reply carries (`ENGAGEMENT`: words addressing the OP, "you",
  "your", and guidance verbs, "should", "try", "recommend", "make sure", "talk to", "reach out", "if you", ...);
- `is_pointer`: the reply mainly points elsewhere, a link (`[url]` once scrubbed) or another subreddit (`r/name`)
  with fewer than `pointer_reply_chars` other characters, unless it names a crisis line or counselling
  (`CARE_REFERRAL`: a hotline referral inside a short supportive reply is support).

Creates `post_eligibility(post_id, post_reason, post_chars)` (`post_chars`: title + text characters) and `reply_eligibility(comment_id, post_id, reply_chars,
reply_words, engagement, is_pointer, reply_reason)` where a NULL reason means eligible; the first failing rule
names the reason, so the counts of every reason add up; `earlier_reply_eligibility` (the same and `earlier_score`)
measures the earlier retrievals of revised comments (`clean_earlier_versions`) by the same definition.
"""

from __future__ import annotations

import duckdb

from dataset_builder import steps
from dataset_builder.config import BuildConfig

PLACEHOLDERS = r"\[(url|email|phone|user)\]"
ENGAGEMENT = (
    r"\b(you|your|you're|you’re|yours|yourself|u|should|recommend|suggest|make sure|try|talk to|reach out|"
    r"consider|i'd|i’d|i would|email|ask|if you|look into|check|focus)\b"
)
POINTER = r"\[url\]|https?://\S+|www\.\S+|(^|[^a-z0-9_])/?r/[a-z0-9_]+"
CARE_REFERRAL = (
    r"\b(hotline|helpline|crisis|lifeline|988|samaritans|suicide|counsel(l)?ing|counsel(l)?or|therap(y|ist)|"
    r"psychiatrist|mental health services)\b"
)
# A reply is "mostly placeholders" when they make up more than this share of its characters.
MAX_PLACEHOLDER_SHARE = 0.5


POSTS = steps.Step(
    "eligibility_posts", inputs=("clean_posts", "ess", "post_support"), outputs=("post_eligibility",)
)
REPLIES = steps.Step(
    "eligibility_replies",
    inputs=("clean_comments", "ess", "clean_earlier_versions"),
    outputs=("reply_measures", "reply_eligibility", "earlier_reply_eligibility"),
)


def params(cfg: BuildConfig) -> dict[str, steps.Param]:
    """The `eligibility_posts` step's parameters."""
    return {"max_post_chars": int(cfg.max_post_chars), "max_post_comments": int(cfg.max_post_comments)}


def reply_params(cfg: BuildConfig) -> dict[str, steps.Param]:
    """The `eligibility_replies` step's parameters: the regexes and the reply thresholds."""
    return {
        "placeholders": PLACEHOLDERS,
        "engagement": ENGAGEMENT,
        "pointer": POINTER,
        "care_referral": CARE_REFERRAL,
        "pointer_reply_chars": int(cfg.pointer_reply_chars),
        "max_placeholder_share": float(MAX_PLACEHOLDER_SHARE),
        "min_reply_chars": int(cfg.min_reply_chars),
    }


def compute(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> None:
    """Create `post_eligibility` (the portable step `eligibility_posts`, over `clean_posts`, `ess` and
    `post_support`) and `reply_eligibility` and `earlier_reply_eligibility` (the portable step
    `eligibility_replies`, over the scrubbed texts of the `ess` comments and of their earlier retrievals,
    `clean_earlier_versions`: the improvement pairs' self_edit rule measures an earlier text the same way)."""
    steps.run(con, POSTS, params(cfg))
    steps.run(con, REPLIES, reply_params(cfg))


def reason_counts(con: duckdb.DuckDBPyConnection, query: str) -> dict[str, int]:
    """{reason: rows} of a query yielding one `reason` per candidate row (NULL = kept, counted as `kept`)."""
    rows = con.sql(
        f"SELECT coalesce(reason, 'kept'), count(*) FROM ({query}) GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return {reason: int(n) for reason, n in rows}
