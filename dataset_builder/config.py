"""Every parameter of a build, in one dataclass, so the manifest and card can record all of them.

The CLI parses this dataclass (`cli_args`, HfArgumentParser conventions); presets only change defaults, and anything
given explicitly on the command line wins over the preset.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataset_builder.record_filter import RecordFilter
from redditess_core.prompts import IMPROVE_SYSTEM_PROMPT, SYSTEM_PROMPT

LABEL_RULE_VERSION = "2.0"


@dataclass
class BuildConfig:
    """Parameters of one RedditESS build (README.md "How comments are labeled"; each field's `--help`)."""

    inputs: list[Path] = field(
        default_factory=list,
        metadata={"help": "Dump files or directories (searched recursively).", "aliases": ["--input"]},
    )
    out: Path | None = field(default=None, metadata={"help": "Output folder (a Hub dataset repository)."})
    overwrite: bool = field(default=False, metadata={"help": "Replace an existing output folder."})
    version: str = field(default="0.1.0", metadata={"help": "Dataset version (semver), written to the card."})
    name: str = field(default="redditess", metadata={"help": "Dataset name used in the card."})
    preset: str = field(
        default="kit",
        metadata={
            "help": "kit: the kit's defaults. paper: the RedditESS paper's selection "
            "(edited posts, OP replied to a comment, no deleted comments in the thread)."
        },
    )
    seed: int = field(default=0, metadata={"help": "Seed of the split hash."})
    keep_reddit_ids: bool = field(
        default=False,
        metadata={
            "help": "Keep raw Reddit post/comment ids (they lead to each author's profile) instead of keyed "
            "hashes, for researchers who must re-hydrate threads. Splits do not depend on this choice."
        },
    )
    subreddits: list[str] | None = field(
        default=None,
        metadata={
            "help": "Keep only these subreddits (case-insensitive); default all. Applied while reading: "
            "lines without a selected name are skipped before JSON parsing."
        },
    )
    since: str | None = field(
        default=None,
        metadata={
            "help": "Keep only records created at or after this UTC date (YYYY-MM-DD, an ISO date-time, or "
            "epoch seconds), on each record's own created_utc; inclusive."
        },
    )
    until: str | None = field(
        default=None,
        metadata={
            "help": "Keep only records created before this UTC date (same forms as --since); exclusive, so "
            "--since 2021-12-01 --until 2022-01-01 is December 2021."
        },
    )
    # selection
    require_edited: bool = field(default=False, metadata={"help": "Keep only posts the OP edited."})
    require_op_reply: bool = field(
        default=False, metadata={"help": "Keep only posts whose OP replied to a top-level comment."}
    )
    drop_threads_with_deleted: bool = field(
        default=False, metadata={"help": "Drop posts with any deleted or removed comment."}
    )
    min_post_chars: int = field(default=20, metadata={"help": "Minimum post text length (title excluded)."})
    min_comment_chars: int = field(default=20, metadata={"help": "Minimum comment length."})
    # support-seeking posts (dataset_builder/support.py)
    label_only_support_seeking: bool = field(
        default=True,
        metadata={
            "help": "Label only comments on posts that seek support (support.py's rule); comments on other "
            "posts (celebrations, guides, announcements, memes, polls, link-only posts) stay unlabeled."
        },
    )
    support_min_text_chars: int = field(
        default=20,
        metadata={
            "help": "A post with fewer characters once URLs and markdown are removed is link/media-only."
        },
    )
    # labeling ensemble (rule 2.0: dataset_builder/labels.py states it in words)
    reception_min_comments: int = field(
        default=3, metadata={"help": "Reception votes only in posts with at least this many scored comments."}
    )
    reception_effective_min: float = field(default=0.75, metadata={"help": "Percentile voting effective."})
    reception_not_effective_max: float = field(
        default=0.25,
        metadata={"help": "Percentile at or below which a net-downvoted comment votes not effective."},
    )
    negative_reception_max_score: int = field(
        default=-1,
        metadata={
            "help": "Clearly negative reception also needs a score at most this (Reddit starts comments at 1)."
        },
    )
    op_effective_min: float = field(default=0.6, metadata={"help": "op_signal voting effective."})
    op_not_effective_max: float = field(default=0.4, metadata={"help": "op_signal voting not effective."})
    benefit_strength: float = field(
        default=0.8, metadata={"help": "Evidence strength of an OP reply saying the comment helped."}
    )
    gratitude_strength: float = field(
        default=0.6, metadata={"help": "Evidence strength of an OP reply thanking the commenter."}
    )
    gratitude_bonus: float = field(
        default=0.1, metadata={"help": "Added to benefit_strength when the reply also thanks."}
    )
    rejection_strength: float = field(
        default=0.7, metadata={"help": "Evidence strength of an OP reply rejecting the comment."}
    )
    sentiment_strength: float = field(
        default=0.3,
        metadata={
            "help": "How far the reply's sentiment (compound, -1..1) moves the strength of OP evidence; "
            "sentiment alone never votes."
        },
    )
    no_gratitude_weight: float = field(
        default=0.5, metadata={"help": "post_feedback: factor of feedback without gratitude (gratitude = 1)."}
    )
    feedback_effective_min: float = field(default=0.3, metadata={"help": "post_feedback voting effective."})
    feedback_not_effective_max: float = field(
        default=-0.3, metadata={"help": "post_feedback voting not effective."}
    )
    thread_feedback_votes: bool = field(
        default=False,
        metadata={
            "help": "Let thread-wide feedback vote on every comment (rule 1.0); by default post_feedback votes "
            "only on comments whose author the OP's feedback names (u/name)."
        },
    )
    weight_op_signal: float = field(default=2.0, metadata={"help": "Vote weight of op_signal."})
    weight_reception: float = field(default=1.0, metadata={"help": "Vote weight of good reception."})
    weight_negative_reception: float = field(
        default=1.5, metadata={"help": "Vote weight of clearly negative reception."}
    )
    weight_post_feedback: float = field(
        default=2.0, metadata={"help": "Vote weight of post_feedback naming the comment's author."}
    )
    label_margin: float = field(
        default=1.5,
        metadata={"help": "|weighted vote| needed to label; below it the comment stays unlabeled."},
    )
    sentiment: str = field(
        default="vader",
        metadata={
            "help": "Sentiment scorer: `vader` (VADER lexicon, bundled) or `module:function` (a hook)."
        },
    )
    # eligibility of the training configs (preference, sft, improvement)
    min_reply_chars: int = field(
        default=100,
        metadata={
            "help": "Minimum reply length (characters, privacy placeholders removed) of an sft reply and of "
            "both sides of a preference or improvement pair."
        },
    )
    max_post_chars: int = field(
        default=8000, metadata={"help": "Posts with a longer text (megathreads) feed no training config."}
    )
    max_post_comments: int = field(
        default=150,
        metadata={"help": "Posts with more kept top-level comments (megathreads) feed no training config."},
    )
    max_sft_rows_per_post: int = field(default=5, metadata={"help": "At most this many sft rows per post."})
    sft_min_engagement: int = field(
        default=2,
        metadata={
            "help": "An sft reply needs at least this many engagement markers (words addressing the OP or giving "
            "guidance: you/your, should, try, recommend, make sure, talk to, ...; eligibility.ENGAGEMENT): a "
            "me-too or a story about oneself teaches no support."
        },
    )
    min_post_coverage: float = field(
        default=0.4,
        metadata={
            "help": "An sft reply, and the chosen reply of a votes pair, needs at least this x the post's length "
            "(title + text characters, capped at post_coverage_cap_chars): a few lines under a long, many-part "
            "post answer only part of it. 0 disables."
        },
    )
    post_coverage_cap_chars: int = field(
        default=1000,
        metadata={"help": "The length min_post_coverage asks of a reply is at most this many characters."},
    )
    drop_pointer_replies: bool = field(
        default=True,
        metadata={
            "help": "Drop sft replies (and the chosen side of preference pairs, the revision of improvement "
            "pairs) that mainly point elsewhere: a link or another subreddit in a reply with fewer than "
            "pointer_reply_chars other characters. A crisis line or counselling referral is kept."
        },
    )
    pointer_reply_chars: int = field(
        default=300,
        metadata={
            "help": "A reply with a link or an r/ pointer needs this many characters besides the link."
        },
    )
    system_prompt: str = field(
        default=SYSTEM_PROMPT,
        metadata={"help": "System turn of the `preference` and `sft` prompts (name your community's kind)."},
    )
    improve_system_prompt: str = field(
        default=IMPROVE_SYSTEM_PROMPT, metadata={"help": "System turn of the `improvement` prompts."}
    )
    # preference pairs (SHP rules)
    post_min_score: int = field(
        default=2, metadata={"help": "SHP uses 10; small support communities need less."}
    )
    comment_min_score: int = field(default=2, metadata={"help": "Minimum score of both comments of a pair."})
    min_score_ratio: float = field(default=2.0, metadata={"help": "chosen score / rejected score at least."})
    max_pairs_per_post: int = field(default=5, metadata={"help": "At most this many vote pairs per post."})
    max_label_pairs_per_post: int = field(
        default=5, metadata={"help": "At most this many label pairs per post."}
    )
    min_chosen_length_ratio: float = field(
        default=0.75,
        metadata={
            "help": "A votes or label pair needs len(chosen) >= this x len(rejected): votes reward one-liners and "
            "jokes over fuller replies, and an effective label can sit on a thinner reply than the guidance it "
            "is preferred to."
        },
    )
    min_engagement_margin: int = field(
        default=2,
        metadata={
            "help": "A label pair needs the chosen reply to carry at least this many more engagement markers "
            "(words addressing the OP or giving guidance; eligibility.ENGAGEMENT) than the rejected one: the "
            "OP thanked a me-too and pushed back on the guidance. 0 disables."
        },
    )
    votes_min_engagement_margin: int = field(
        default=4,
        metadata={
            "help": "A votes pair needs the chosen reply to carry at least this many more engagement markers than "
            "the rejected one: two equally sound replies, or a joke up-voted over a warm reply, teach nothing "
            "(the third pair audit: at margin 2, a third of the vote pairs were two equally sound replies). "
            "0 disables."
        },
    )
    votes_need_label_evidence: bool = field(
        default=True,
        metadata={
            "help": "A votes pair needs the labels' support too: the chosen reply labeled effective or the "
            "rejected one labeled not effective (the OP's own reaction). Without it, votes between two sound "
            "replies are close to a coin flip; on reddit-college this keeps about a tenth of the vote pairs."
        },
    )
    votes_agree_with_labels: bool = field(
        default=True,
        metadata={
            "help": "Drop votes pairs whose labels contradict the votes (chosen labeled not effective, or "
            "rejected labeled effective)."
        },
    )
    length_balanced_votes: bool = field(
        default=False,
        metadata={
            "help": "Keep as many votes pairs whose chosen reply is shorter as pairs whose chosen is longer "
            "(a seeded subsample of the larger group), so length cannot predict the preference."
        },
    )
    # improvement pairs
    similarity: str = field(
        default="auto",
        metadata={
            "help": "auto (the encoder when installed, else lexical with a warning), encoder (MiniLM cosine; "
            "imports torch) or lexical (word-set Jaccard, no model)."
        },
    )
    min_similarity: float | None = field(
        default=None,
        metadata={
            "help": "Similarity a draft/revision pair needs (default: 0.68 with the encoder, chosen from the pair "
            "audit, benchmarks/pair_audit/README.md; 0.3 lexical, never audited)."
        },
    )
    min_improvement_words: int = field(
        default=20, metadata={"help": "Both the draft and the revision need at least this many words."}
    )
    improvement_max_candidates: int = field(
        default=30, metadata={"help": "Only the top-scored N comments of a post are compared."}
    )
    max_improvement_pairs_per_post: int = field(default=3, metadata={"help": "At most this many per post."})
    min_revision_length_ratio: float = field(
        default=1.5,
        metadata={
            "help": "A similar_reply pair needs len(revision) >= this x len(draft): the revision must add "
            "something (a reason, a step); two equally sound or equally thin replies are not a revision."
        },
    )
    min_revision_engagement_gain: int = field(
        default=2,
        metadata={
            "help": "A similar_reply pair needs the revision to carry at least this many more engagement markers "
            "than the draft (it addresses the OP or gives guidance more). 0 disables."
        },
    )
    # splits
    validation_fraction: float = field(default=0.05, metadata={"help": "Share of posts in validation."})
    test_fraction: float = field(default=0.05, metadata={"help": "Share of posts in test."})
    # engine
    memory_limit: str = field(default="1GB", metadata={"help": "DuckDB memory limit; beyond it, it spills."})
    threads: int = field(default=0, metadata={"help": "DuckDB threads (0: all cores)."})
    engine: str = field(
        default="duckdb",
        metadata={
            "help": "Where the build runs: `duckdb` (embedded, one machine) or `spark` (Apache Spark, for data "
            "one machine cannot hold; needs the `spark` extra and Java 17+). Same rows either way."
        },
    )
    spark_master: str = field(
        default="local[2]",
        metadata={
            "help": "The Spark master with --engine spark: local[N], spark://HOST:PORT, yarn, ... A Spark "
            "session already running in this process is used as it is."
        },
    )

    def __post_init__(self) -> None:
        self.inputs = [Path(p) for p in self.inputs]
        self.out = Path(self.out) if self.out is not None else None
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; choose one of {sorted(PRESETS)}")
        if self.subreddits:
            self.subreddits = sorted(
                {s.strip().lower().removeprefix("r/") for s in self.subreddits if s.strip()}
            )
        record_filter = RecordFilter.from_config(self)  # checks the names and dates up front
        if (
            None not in (record_filter.since, record_filter.until)
            and record_filter.since >= record_filter.until
        ):
            raise ValueError(f"--since {self.since} must be before --until {self.until}")
        if not 0 <= self.validation_fraction + self.test_fraction < 1:
            raise ValueError("validation_fraction + test_fraction must be in [0, 1)")
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        if self.similarity not in ("auto", "lexical", "encoder"):
            raise ValueError(f"similarity must be `auto`, `lexical` or `encoder`, not {self.similarity!r}")

    def with_preset(self, explicit: set[str] | frozenset[str] = frozenset()) -> BuildConfig:
        """Apply the preset's defaults to every field the user did not set explicitly."""
        updates = {k: v for k, v in PRESETS[self.preset].items() if k not in explicit}
        return dataclasses.replace(self, **updates)

    def parameters(self) -> dict[str, Any]:
        """The parameters as recorded in the manifest (inputs and output path are recorded apart)."""
        data = dataclasses.asdict(self)
        for key in ("inputs", "out", "overwrite", "threads", "memory_limit", "engine", "spark_master"):
            data.pop(key)
        data["label_rule_version"] = LABEL_RULE_VERSION
        return data


# The engines a build runs on (`--engine`): the embedded one (the default) and Apache Spark.
ENGINES = ("duckdb", "spark")

# Default similarity floor of an improvement pair, per method (MiniLM cosine; word-set Jaccard). The encoder's
# 0.68 is chosen from the pair audit (benchmarks/pair_audit/threshold.py on the r4 build, section "Choosing the
# intent threshold from the audit" of benchmarks/pair_audit/README.md): the lowest cosine whose judged pairs are
# revision-like and better in >= 55% (57%, in-sample on those judgments). The lexical 0.3 was never audited.
MIN_SIMILARITY = {"encoder": 0.68, "lexical": 0.3}

PRESETS: dict[str, dict[str, Any]] = {
    "kit": {},
    "paper": {"require_edited": True, "require_op_reply": True, "drop_threads_with_deleted": True},
}
