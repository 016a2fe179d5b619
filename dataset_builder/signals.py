"""The evidence behind the label (rule 2.0), per kept top-level comment.

- reception: the comment's score percentile within its post (mid-rank, ties share; 0.5 alone).
- op_evidence / op_signal: what the OP's direct replies to the comment say *about the comment*, the first
  kind that applies: `mixed` (rejection and acknowledgement together), `rejection` (evidence directed at the
  comment: disagreement, correction, "that doesn't help", "I already tried that", "you don't understand",
  "that's not what I asked", "thanks anyway"), `benefit` (it helped: "this helps", "great advice", "I'll
  try that", "I didn't know that"), `courtesy` (thanks returned with well-wishes or commiseration: "thanks,
  you too"), `gratitude` (thanks that is not "thanks to ...", "thanks but ...", "no thanks", "thanks for
  nothing", "thanks anyway", "but thanks"), `agreement` ("good point", "I agree"), `question` (a follow-up
  question: engagement, not benefit) or `other` (banter, comforting the commenter, talk about the OP's own
  situation). Contrast and negation are removed before gratitude is looked for (`NOT_GRATITUDE`).
  op_signal maps it to 0-1: 0.5 + strength / 2 for benefit and gratitude, 0.5 - strength / 2 for rejection,
  0.5 (no evidence) for every other kind. The strength starts at the kind's base (`benefit_strength`,
  `gratitude_strength`, `rejection_strength`); benefit with thanks adds `gratitude_bonus`; the reply's
  sentiment moves it by `sentiment_strength` x compound, toward the kind's direction. Sentiment alone never
  makes evidence: a warm reply without acknowledgement stays at 0.5, and a grim reply about the OP's own
  week does not turn its thanks into rejection.
- post_feedback: the OP's general feedback on the thread (each EDIT/UPDATE segment of the post alone, see
  `edit_segments`, and the OP's own top-level comments): g x compound in -1..1, g = 1 when a gratitude
  pattern matches, else `no_gratitude_weight`. Thread-wide feedback ("thanks everyone") is not evidence
  about one comment: `feedback_names_author` marks the comments whose author the feedback names (u/name),
  and only those let post_feedback vote (unless `thread_feedback_votes`).

Sentiment comes from `sentiment` (VADER by default; `module:function` plugs in another scorer). The regular
expressions are written for both RE2 (DuckDB) and Python's `re`, and match lowercased text.

Engines: the relational rules are portable steps (`dataset_builder/steps.py`): `signals_feedback`
(sql/signals_feedback.sql → `post_feedback_text`) and `signals` (sql/signals.sql → `post_signals`,
`comment_signals`), the regexes and strengths bound as `$parameters` (`PATTERNS`, `params`). The Python parts
are batch functions over Arrow data (`dataset_builder.batches`) that either engine runs: `edit_texts` (`edit_segments`
per post text → `post_edit_text`), and the sentiment scorer `sentiment.SentimentBatch` (`start` / `compute` →
`op_sentiment`, `feedback_sentiment`: key, compound), in worker processes while privacy runs on the embedded
engine, on the executors of a distributed one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import duckdb
import pyarrow as pa

from dataset_builder import batches, steps
from dataset_builder.config import BuildConfig
from dataset_builder.sentiment import PendingBatches, SentimentBatch, map_later
from dataset_builder.sql import literal

# Removed before gratitude is looked for: thanks to a third party, thanks with a contrast, refusals.
NOT_GRATITUDE = (
    r"\b(thanks?|thank you|thx|ty) (to|goes to) (my|his|her|their|the|a|an|some|this|that|god|everyone|all|"
    r"[a-z0-9_-]+'s)\b|\bthank (god|goodness|heavens|the lord)\b|\b(no|nah|nope),? (thanks?|thank you)\b|"
    r"\b(thanks?|thank you) (for|4) nothing\b|\b(thanks?|thank you) any ?ways?\b|"
    r"\b(but|though|anyways?|regardless|still),? (thanks?|thank you|i appreciate)|"
    r"\b(thanks?|thank you|thx|ty|appreciate (it|this|that|you|the)|i appreciate|(good|fair|interesting|valid) point|"
    r"true|i see|i agree|makes sense|you'?re right)\b[^.!?\n]{0,60}?\b(but|however|though|although|except|"
    r"unfortunately)\b|\b(if|hope|hopefully|in case|not sure if|maybe) (this|that|it) (helps|will help|helped)"
)
# The OP returning well-wishes or commiserating: courtesy, not a sign the comment helped.
COURTESY = (
    r"\b((you|u) too|to you too|same to you|and you|sorry (that |this |it )*happened|sorry to hear|sorry (you|for your)|"
    r"(good )?luck to you|hope (you|yours|your)|congrat\w*)\b"
)
GRATITUDE = (
    r"\b(thanks?|thank you|thank u|thx|ty|tysm|tyvm|many thanks|appreciated?|appreciate (it|this|you|that|the)|"
    r"grateful|thankful|bless you)\b"
)
BENEFIT = (
    r"\b((this|that|it|you|your (comment|advice|reply|answer|words?)) (really |actually |definitely |truly )?"
    r"(helps|helped|help a lot|means a lot|made my day|cheered me up|puts? things in perspective)|"
    r"(very|so|super|really|extremely|incredibly) (helpful|useful|reassuring|comforting)|"
    r"(great|good|solid|excellent|helpful|useful|sound|wise) (advice|idea|suggestion|tips?|info|information|answer)|"
    r"(makes?|made) me feel (a lot |so much )?better|i feel (a lot |so much |a little )?better|feel better now|"
    r"(i'?ll|i will|i'?m going to|gonna|i might|i should|i definitely will) (definitely |probably |def )?"
    r"(try|do|look into|check|consider|give it a|keep that|take your)|will do|makes (a lot of |so much )?sense|"
    r"you'?re (right|so right|absolutely right)|you are (right|so right)|good to know|exactly what i (needed|was)|"
    r"that'?s reassuring|i needed (to hear )?this|i'?ll keep (that|this) in mind|hadn'?t thought (of|about)|"
    r"never thought (of|about)|didn'?t think (of|about)|(didn'?t|did not) know (that|this)|had no idea|"
    r"(i'?ll|i will|i'?m going to|gonna|i think i'?ll|i plan to|i should) (definitely |probably |def |try to )?"
    r"(look into|check (it|that|this|them|those) out|look (it|that|this) up|ask|email|reach out|talk to|contact|apply))"
)
# Agreement with the comment's opinion ("good point", "I agree"): engagement, not a sign it helped (on the
# label audit sample, 2 of 6 comments the OP agreed with were rated effective), so it abstains.
AGREEMENT = (
    r"\b(i (totally |completely |definitely |fully |100% )?agree|agreed|(good|fair|valid) point|"
    r"that'?s (fair|true|so true|a good point)|so true|you'?re (absolutely |totally )?correct|exactly this)\b"
)
REJECTION = (
    r"\b((i('ve| have)? already|already) (tried|did|done|do|have|know|knew|looked|applied|talked|asked)|"
    r"(tried|did) (that|this|it|those) already|"
    r"(that|this|it|which|your (advice|comment|suggestion)) (doesn'?t|does not|didn'?t|did not|won'?t|will not|"
    r"wouldn'?t|isn'?t going to) (help|work|apply|solve|answer|change)|"
    r"(not|isn'?t|wasn'?t|is not|was not) (really )?(helpful|useful|relevant|what i (asked|meant|said|was asking)|"
    r"the (point|issue|problem|question)|an option|possible for me|my (situation|question|point))|"
    r"you (don'?t|do not|didn'?t|did not|clearly don'?t|obviously didn'?t) (understand|get it|read|know (what|me|my))|"
    r"did(n'?t)? you (even )?read|i (disagree|don'?t agree|do not agree|never said|didn'?t say|did not say|didn'?t ask|"
    r"did not ask|wasn'?t asking)|(that'?s|that is|this is|you'?re|you are|it'?s) (just )?(not true|wrong|incorrect|"
    r"not correct|not the case|bad advice|terrible advice|not how|missing the point|misunderstanding)|"
    r"easier said than done|doesn'?t apply|does not apply|missed the point|(thanks?|thank you) any ?ways?|"
    r"(thanks?|thank you) (for|4) nothing|not helpful|unhelpful|that'?s not (it|what)|no offen[cs]e,? but|"
    r"with all due respect|i can'?t (do that|afford (that|it|to))|i cannot (do that|afford)|"
    r"(useless|pointless|sarcastic|condescending|rude|unhelpful|patronizing) (reply|comment|answer|advice|response|"
    r"suggestion)|what i (mean|meant) (is|was|by)|i'?m (not )?(talking|asking) about|i was (asking|talking) about|"
    r"that'?s not what i|^\W*(no|nope|nah)[,.!]* (that'?s|it'?s|its|i|i'?m|the|but|not|you|they))"
)
QUESTION = r"\?"
# An EDIT/UPDATE marker: at a line start or after a sentence, optional markdown, a number, then : or a dash.
EDIT_MARKER = r"(?im)(^|[.!?)]\s+)[ \t>*_#~\[(]*(edit|update|upd|eta)[ \t]*#?\d*[ \t]*[*_)\]]*[ \t]*(:|-|–|—)"
_EDIT = re.compile(EDIT_MARKER)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
EVIDENCE_KINDS = ("benefit", "gratitude", "agreement", "rejection", "mixed", "courtesy", "question", "other")
# The portable steps (sql/signals_feedback.sql, sql/signals.sql); the regexes are bound as $parameters.
FEEDBACK = steps.Step(
    "signals_feedback",
    inputs=("kept_posts", "post_edit_text", "comment_status", "comments"),
    outputs=("post_feedback_text",),
)
SIGNALS = steps.Step(
    "signals",
    inputs=("post_feedback_text", "feedback_sentiment", "top_comments", "op_sentiment"),
    outputs=("post_signals", "comment_signals"),
)
PATTERNS = {
    "not_gratitude": NOT_GRATITUDE,
    "courtesy": COURTESY,
    "gratitude": GRATITUDE,
    "benefit": BENEFIT,
    "agreement": AGREEMENT,
    "rejection": REJECTION,
    "question": QUESTION,
}


def edit_segments(text: str | None) -> list[str]:
    """The EDIT/UPDATE segments of a post text, each alone, in order.

    A segment runs from its marker to the next marker or the end of the text; a segment at the top of the
    post (nothing but other edits before it) ends at the first blank line, where the post's body begins.
    Empty segments are dropped. Example: "EDIT: thanks all!\\n\\nMy body..." gives ["thanks all!"].
    """
    if not text:
        return []
    marks = list(_EDIT.finditer(text))
    segments: list[str] = []
    top = bool(marks) and not text[: marks[0].start()].strip()  # only edits so far: the body has not begun
    for i, mark in enumerate(marks):
        following = marks[i + 1] if i + 1 < len(marks) else None  # keeps the sentence end it follows
        end = following.start() + len(following.group(1).rstrip()) if following else len(text)
        segment = text[mark.end() : end]
        if top and (blank := _BLANK_LINE.search(segment)):
            segment, top = segment[: blank.start()], False
        if segment := segment.strip().lstrip("*_~ ").strip():
            segments.append(segment)
    return segments


def _create_table(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    con.register(f"_{table}_rows", rows)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _{table}_rows")
    finally:
        con.unregister(f"_{table}_rows")


# The texts whose sentiment the signals read: (table created, query yielding key and text).
SENTIMENT_TEXTS = (
    (
        "op_sentiment",
        "SELECT comment_id, op_reply_text FROM top_comments WHERE op_reply_text IS NOT NULL ORDER BY comment_id",
    ),
    (
        "feedback_sentiment",
        "SELECT post_id, feedback_text FROM post_feedback_text WHERE feedback_text <> '' ORDER BY post_id",
    ),
)


@dataclass
class SentimentJob:
    """Sentiment scoring started by `start`: `pending` runs in worker processes (embedded engine), or is
    None when a distributed engine scores on its executors in `compute`; `close` stops the workers
    (idempotent)."""

    scorer: SentimentBatch
    pending: PendingBatches | None

    def close(self) -> None:
        if self.pending is not None:
            self.pending.close()


def start(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> SentimentJob:
    """Create `post_edit_text` and `post_feedback_text`, and start scoring the OP replies' and the
    feedback texts' sentiment (`SENTIMENT_TEXTS`, `sentiment.SentimentBatch`): in worker processes in the
    background on the embedded engine (`sentiment.map_later`); on a distributed engine (a connection with
    `map_batches`) `compute` scores them on the executors."""
    _edit_texts(con)
    steps.run(con, FEEDBACK, {})
    scorer = SentimentBatch(cfg.sentiment)
    if hasattr(con, "map_batches"):
        return SentimentJob(scorer, None)
    tables = [con.sql(query).to_arrow_table() for _, query in SENTIMENT_TEXTS]
    return SentimentJob(scorer, map_later(scorer, tables))


def compute(con: duckdb.DuckDBPyConnection, cfg: BuildConfig, job: SentimentJob | None = None) -> None:
    """Create `comment_signals` (one row per kept top-level comment) and `post_signals`, from the scores
    of `job` (started by `start`; started and awaited here when None)."""
    job = job or start(con, cfg)
    try:
        if job.pending is None:
            for table, query in SENTIMENT_TEXTS:
                batches.map_batches(con, query, job.scorer, job.scorer.schema, table)
        else:
            for (table, _), scores in zip(SENTIMENT_TEXTS, job.pending.result(), strict=True):
                _create_table(con, table, scores)
    finally:
        job.close()
    steps.run(con, SIGNALS, params(cfg))


def params(cfg: BuildConfig) -> dict[str, steps.Param]:
    """The `signals` step's parameters: the regexes (`PATTERNS`) and the evidence strengths of `cfg`.

    `thanked_benefit_strength` is benefit_strength + gratitude_bonus summed exactly in decimal (0.8 + 0.1 is
    0.9, not 0.9000000000000001), as the SQL summed the two numbers before they became parameters."""
    thanked = float(Decimal(repr(float(cfg.benefit_strength))) + Decimal(repr(float(cfg.gratitude_bonus))))
    return {
        **PATTERNS,
        "no_gratitude_weight": float(cfg.no_gratitude_weight),
        "sentiment_strength": float(cfg.sentiment_strength),
        "benefit_strength": float(cfg.benefit_strength),
        "thanked_benefit_strength": thanked,
        "gratitude_strength": float(cfg.gratitude_strength),
        "rejection_strength": float(cfg.rejection_strength),
    }


EDIT_TEXT_SCHEMA = pa.schema([("post_id", pa.string()), ("edit_text", pa.string())])


def edit_texts(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, dict[str, int]]:
    """A `batches.BatchFn`: rows (post_id, selftext) -> (post_id, edit_text) for the posts with edit
    segments (`edit_segments`, joined by blank lines); counts `posts_with_edits`."""
    ids, texts = [], []
    for post_id, selftext in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True):
        if segments := edit_segments(selftext):
            ids.append(post_id)
            texts.append("\n\n".join(segments))
    out = pa.RecordBatch.from_arrays(
        [pa.array(ids, pa.string()), pa.array(texts, pa.string())], schema=EDIT_TEXT_SCHEMA
    )
    return out, {"posts_with_edits": len(ids)}


def _edit_texts(con: duckdb.DuckDBPyConnection) -> None:
    """Create `post_edit_text(post_id, edit_text)`: each kept post's edit segments, joined by blank lines
    (`edit_texts` over the posts whose text has an edit marker)."""
    query = f"SELECT post_id, selftext FROM kept_posts WHERE regexp_matches(selftext, {literal(EDIT_MARKER)})"
    batches.map_batches(con, query, edit_texts, EDIT_TEXT_SCHEMA, "post_edit_text")
