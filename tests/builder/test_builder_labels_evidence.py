"""Label rule 2.0, the OP-reply evidence and the edit segments, on invented texts (one kind per test).

The evidence kinds and op_signal come from the portable `signals` step (sql/signals.sql) run on crafted
`top_comments` and `op_sentiment` tables."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from dataset_builder import signals, steps
from dataset_builder.config import BuildConfig
from dataset_builder.signals import edit_segments


def _signals(
    texts: list[str | None], compounds: list[float | None] | None = None, cfg: BuildConfig | None = None
) -> list[tuple[str | None, float | None]]:
    """(op_evidence, op_signal) of one comment per OP reply text (in order), each in its own post."""
    con = duckdb.connect()
    ids = [f"c{i:04d}" for i in range(len(texts))]
    con.register(
        "top_comments",
        pa.table(
            {
                "comment_id": ids,
                "post_id": [f"p{i:04d}" for i in range(len(texts))],
                "score": pa.array([1] * len(texts), pa.int64()),
                "author": ["someone"] * len(texts),
                "op_reply_text": pa.array(texts, pa.string()),
            }
        ),
    )
    compounds = compounds or [0.0] * len(texts)
    con.register("op_sentiment", pa.table({"key": ids, "compound": pa.array(compounds, pa.float64())}))
    con.register(
        "post_feedback_text",
        pa.table({"post_id": pa.array([], pa.string()), "feedback_text": pa.array([], pa.string())}),
    )
    con.register(
        "feedback_sentiment",
        pa.table({"key": pa.array([], pa.string()), "compound": pa.array([], pa.float64())}),
    )
    steps.run(con, signals.SIGNALS, signals.params(cfg or BuildConfig()))
    return con.execute("SELECT op_evidence, op_signal FROM comment_signals ORDER BY comment_id").fetchall()


def _kinds(texts: list[str]) -> list[str]:
    return [kind for kind, _ in _signals(texts)]


def _kind(text: str) -> str:
    return _kinds([text])[0]


# Kind 5: gratitude patterns handle contrast, negation and thanks aimed elsewhere.
@pytest.mark.parametrize(
    "text",
    [
        "Thank you so much!",
        "thanks, I needed that",
        "Thx!! <3",
        "I really appreciate it.",
        "ty, will keep going",
        "Thanks to you I finally emailed my advisor.",
        "I'm so grateful you took the time.",
    ],
)
def test_gratitude(text: str) -> None:
    assert _kind(text) in ("gratitude", "benefit")


@pytest.mark.parametrize(
    "text",
    [
        "Thanks to my therapist I'm doing better now.",  # thanks aimed at a third party
        "thanks to the pandemic nothing is normal",
        "No thanks.",
        "nah thanks, not for me",
        "Thank god the semester is over",
        "Thanks but my school does not allow that",  # contrast: politeness, not acceptance
        "Thank you for the reply, however my situation is different.",
        "I appreciate it, though I still don't know.",
    ],
)
def test_not_gratitude(text: str) -> None:
    assert _kind(text) not in ("gratitude", "benefit")


@pytest.mark.parametrize("text", ["Thanks for nothing.", "thanks anyway", "Ok, thank you anyways."])
def test_sarcastic_or_resigned_thanks_is_rejection(text: str) -> None:
    assert _kind(text) == "rejection"


# Kind 4: rejection needs evidence directed at the comment; negativity about the OP's own life is not it.
@pytest.mark.parametrize(
    "text",
    [
        "I already tried that.",
        "I've already talked to my advisor, didn't change anything",
        "That doesn't help at all.",
        "You don't understand my situation.",
        "Did you even read my post?",
        "That's not true, my school has no such rule.",
        "I disagree, it is not that simple.",
        "Thanks, but I already tried that.",
        "This isn't what I asked.",
        "Easier said than done.",
    ],
)
def test_rejection(text: str) -> None:
    assert _kind(text) == "rejection"


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, it's just been a terrible week.",
        "Thank you. Everything is awful right now and I hate this semester.",
        "thank you, I'm so stressed and sad",
    ],
)
def test_negativity_about_own_situation_is_not_rejection(text: str) -> None:
    assert _kind(text) == "gratitude"


# Kind 3: follow-up questions are engagement.
@pytest.mark.parametrize(
    "text", ["Where did you find that?", "How long did it take you to hear back?", "wait, which form?"]
)
def test_follow_up_question_is_engagement(text: str) -> None:
    assert _kind(text) == "question"


# Kind 2: sentiment without acknowledgement is no evidence.
@pytest.mark.parametrize(
    "text",
    [
        "Haha yes, love that show so much!",  # banter
        "I'm so sorry that happened to you too, hugs.",  # the OP comforting the commenter
        "Wonderful, amazing, best day ever lol",
        "I respectfully see it differently, but I love your enthusiasm!",
    ],
)
def test_sentiment_alone_is_not_evidence(text: str) -> None:
    assert _kind(text) in ("other", "question")


@pytest.mark.parametrize(
    "text",
    [
        "This really helped, I'll talk to her tomorrow.",
        "Great advice.",
        "You're right, I'll email the department.",
        "That makes me feel so much better",
        "Good to know!",
    ],
)
def test_benefit(text: str) -> None:
    assert _kind(text) == "benefit"


def test_thanks_with_rejection_is_mixed() -> None:
    assert _kind("I already tried that and it helped, thanks!") == "mixed"


@pytest.mark.parametrize(
    "text",
    [
        "Thank you, good luck to you too!",
        "thanks, you too",
        "aww thank you, sorry that it happened to you",
        "Thanks! Congrats on your acceptance as well",
    ],
)
def test_thanks_returned_as_courtesy(text: str) -> None:
    assert _kind(text) == "courtesy"


@pytest.mark.parametrize(
    "text",
    [
        "She is not teaching next semester so it is possible. But thanks for your insight!",
        "Interesting point, but what I mean is the deadline itself.",
        "My EFC is 0 if it helps?",
        "I'm talking about the other application.",
        "No, that's the thing, I don't want grad school.",
        "Lol thanks for the useless sarcastic reply.",
    ],
)
def test_contrast_and_correction_are_not_acknowledgement(text: str) -> None:
    assert _kind(text) in ("rejection", "mixed", "question", "other")


@pytest.mark.parametrize("text", ["I agree, the first year is the hardest.", "Good point."])
def test_agreement_is_its_own_kind_and_carries_no_vote(text: str) -> None:
    assert _kind(text) == "agreement"


def test_op_signal_strength_follows_evidence_and_sentiment_only_moves_it() -> None:
    cfg = BuildConfig()
    rows = [
        ("benefit", "Thank you, this really helps", 0.8),
        ("benefit", "This helped.", 0.0),
        ("gratitude", "thanks", 0.0),
        ("gratitude", "thanks, terrible week", -0.9),
        ("rejection", "I already tried that", 0.0),
        ("rejection", "I already tried that, awful", -0.9),
        ("question", "where?", 0.9),
        ("agreement", "good point", 0.9),
        ("courtesy", "thanks, you too", 0.9),
        ("other", "lol amazing", 0.95),
        (None, None, None),
    ]
    found = _signals([t for _, t, _ in rows], [c for *_, c in rows], cfg)
    assert [kind for kind, _ in found] == [k for k, _, _ in rows]
    sig = [s for _, s in found]
    assert sig[10] is None  # no reply: no evidence kind and no signal
    assert sig[0] == 1.0 and 0.85 < sig[1] < sig[0]  # benefit + thanks + warmth is the strongest
    assert sig[2] == pytest.approx(0.8) and cfg.op_effective_min <= sig[3] < sig[2]  # grim week weakens only
    assert sig[4] == pytest.approx(0.15) and sig[5] < sig[4] <= cfg.op_not_effective_max
    assert sig[6] == sig[7] == sig[8] == sig[9] == 0.5  # no evidence, whatever the sentiment


# Kind 1: edit extraction.
@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("My story is long.\n\nEDIT: thanks everyone!", ["thanks everyone!"]),
        (
            "EDIT: solved, thank you all!\n\nI have a long story here.\nIt goes on.",
            ["solved, thank you all!"],
        ),
        (
            "Body one. Edit: first.\nUpdate 2: second\n\nmore of the second",
            ["first.", "second\n\nmore of the second"],
        ),
        ("**Update:** it worked\n**Edit 2**: really\n\nThe original body.", ["it worked", "really"]),
        ("Update - got in!\n\nBody", ["got in!"]),
        ("I edited my essay: it is fine. The credit: none. Updated: no", []),
        ("Nothing here", []),
        ("", []),
    ],
)
def test_edit_segments(text: str, segments: list[str]) -> None:
    assert edit_segments(text) == segments
