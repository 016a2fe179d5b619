"""The label rule (version `LABEL_RULE_VERSION`, 2.0): a weighted vote of evidence about the comment itself.

Votes (each +1 effective, -1 not effective, or abstain), with the defaults of `BuildConfig`:
- op_signal (weight 2): the OP's direct replies acknowledge a benefit or thank the commenter (op_signal >= 0.6)
  or reject the comment (op_signal <= 0.4); questions, banter and sentiment without acknowledgement abstain
  (see `signals`).
- reception (weight 1 for, 1.5 against): in a post with at least `reception_min_comments` scored comments, a
  score percentile >= 0.75 votes effective; the comment is *clearly negatively received* (percentile <= 0.25
  and score <= `negative_reception_max_score`, i.e. net downvoted) votes not effective. Few or no upvotes is
  not evidence: a comment nobody voted on abstains.
- post_feedback (weight 2): only when the OP's general feedback (edit segments, own top-level comments) names
  the comment's author (u/name); thread-wide thanks never votes (`thread_feedback_votes` restores it).
The comment is labeled when |weighted sum| >= `label_margin` (1.5): OP evidence labels alone unless clearly
negative reception contradicts it; clearly negative reception labels `not_effective` alone; good reception
alone does not label. A missing OP reply is never evidence. Comments on posts that do not seek support stay
unlabeled (`support`, `label_only_support_seeking`).

label_confidence (0-1) = (sum over agreeing votes of weight x strength - the same over disagreeing votes) /
sum of the weights that voted, where a vote's strength is |op_signal - 0.5| x 2, |reception - 0.5| x 2 or
|post_feedback|: a lukewarm "thanks" alone gives ~0.6, "thank you, this really helps" with good reception
~0.9, and any contradicting vote lowers it.
"""

from __future__ import annotations

import duckdb

from dataset_builder import steps
from dataset_builder.config import BuildConfig

# The vote is `sql/labels.sql`; `comment_signals` comes from `signals`, `post_support` from `support`.
LABELS = steps.Step(
    "labels", inputs=("comment_signals", "top_comments", "post_support"), outputs=("comment_labels",)
)


def params(cfg: BuildConfig) -> dict[str, steps.Param]:
    """The rule's parameters from `cfg` (thresholds and weights as DOUBLE, counts as int)."""
    floats = (
        "reception_effective_min", "reception_not_effective_max", "op_effective_min", "op_not_effective_max",
        "feedback_effective_min", "feedback_not_effective_max", "weight_op_signal", "weight_reception",
        "weight_negative_reception", "weight_post_feedback", "label_margin",
    )  # fmt: skip
    return {
        **{name: float(getattr(cfg, name)) for name in floats},
        "reception_min_comments": int(cfg.reception_min_comments),
        "negative_reception_max_score": int(cfg.negative_reception_max_score),
        "thread_feedback_votes": bool(cfg.thread_feedback_votes),
        "label_only_support_seeking": bool(cfg.label_only_support_seeking),
    }


def compute(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> None:
    """Create `comment_labels(comment_id, label, label_confidence, label_source)`; label NULL = undecided."""
    steps.run(con, LABELS, params(cfg))
