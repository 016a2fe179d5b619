"""The conversations of the RedditESS kit, in one place: the builder's configs, training, eval and assist.

The builder renders the `sft` / `preference` / `improvement` prompts in SQL from these templates
(`dataset_builder.export`), the assistant and `eval generate` in Python, so a model is prompted exactly as
it was trained. A build may replace the system turns (`--system_prompt`, `--improve_system_prompt`, recorded
in the dataset's manifest.json under `parameters`); training records the system turn it trained with in the
run record, and `redditess_core.chat.ChatFormat` carries it to eval and assist.

Shapes: a conversation is a list of `{"role": "system" | "user" | "assistant", "content": str}` dicts (the
`messages` / `prompt` / `chosen` columns of the data contract).
"""

from __future__ import annotations

SYSTEM_PROMPT = (
    "You are helping a peer supporter write a reply to a post in an online mental-health community. "
    "Write a warm, specific, respectful reply that acknowledges the poster's feelings and, where it fits, "
    "offers practical coping ideas or information. You are not a therapist; do not diagnose."
)
IMPROVE_SYSTEM_PROMPT = (
    "You are helping a peer supporter improve their draft reply to a post in an online mental-health "
    "community. Revise the draft so it is more supportive and helpful while keeping its intent, content "
    "and the writer's voice."
)
# User turns. `{placeholders}` are filled by `str.format` (here, and row by row over Arrow in `dataset_builder.export`).
POST_TURN = "{title}\n\n{body}"
IMPROVE_TURN = "Post:\n{title}\n\n{body}\n\nDraft reply to revise:\n{draft}"
# What separates the post from the draft in an improvement turn: left truncation of an over-long prompt
# (training.data.fit_row) never cuts past it, and `split_improve_turn` cuts there.
DRAFT_SEPARATOR = IMPROVE_TURN.split("{body}")[1].split("{draft}")[0]
_IMPROVE_HEAD = IMPROVE_TURN.split("{title}")[0]

Message = dict[str, str]


def post_turn(title: str, body: str) -> str:
    """The user turn of a Generation Model prompt: title, blank line, body."""
    return POST_TURN.format(title=title, body=body)


def improve_turn(title: str, body: str, draft: str) -> str:
    """The user turn of an Improvement Model prompt: the post, then the draft to revise."""
    return IMPROVE_TURN.format(title=title, body=body, draft=draft)


def draft_messages(title: str, body: str, *, system_prompt: str | None = None) -> list[Message]:
    """Generation Model prompt: system turn + the post as the user turn (as in the `sft` / `preference` configs)."""
    return [
        {"role": "system", "content": system_prompt or SYSTEM_PROMPT},
        {"role": "user", "content": post_turn(title, body)},
    ]


def improve_messages(title: str, body: str, draft: str, *, system_prompt: str | None = None) -> list[Message]:
    """Improvement Model prompt: system turn + the post and the draft (as in the `improvement` config)."""
    return [
        {"role": "system", "content": system_prompt or IMPROVE_SYSTEM_PROMPT},
        {"role": "user", "content": improve_turn(title, body, draft)},
    ]


def split_improve_turn(text: str) -> tuple[str, str | None]:
    """(post, draft) of an improvement user turn rendered with `IMPROVE_TURN`; the post is `POST_TURN`-shaped
    (title, blank line, body). A turn in another format is returned whole as the post, draft None."""
    if text.startswith(_IMPROVE_HEAD) and DRAFT_SEPARATOR in text:
        cut = text.rindex(DRAFT_SEPARATOR)
        return text[len(_IMPROVE_HEAD) : cut], text[cut + len(DRAFT_SEPARATOR) :]
    return text, None


def last_user_text(messages: list[Message]) -> str:
    """The content of the last user turn ("" when there is none)."""
    users = [m["content"] for m in messages if m.get("role") == "user"]
    return users[-1] if users else ""


def system_text(messages: list[Message]) -> str | None:
    """The content of a leading system turn, or None."""
    if messages and messages[0].get("role") == "system":
        return messages[0]["content"]
    return None


def with_system_prompt(messages: list[Message], system_prompt: str | None) -> list[Message]:
    """`messages` whose leading system turn says `system_prompt` (unchanged when None or when there is no
    system turn to replace)."""
    if system_prompt is None or system_text(messages) is None:
        return messages
    return [{"role": "system", "content": system_prompt}, *messages[1:]]


def fold_system_turn(messages: list[Message]) -> list[Message]:
    """Merge a leading system turn into the first user turn (`system + "\\n\\n" + user`), for chat templates
    that have no system role (Mistral-7B-Instruct-v0.2's raises on it). Other conversations are returned as is."""
    if not messages or messages[0].get("role") != "system":
        return messages
    system, rest = messages[0], list(messages[1:])
    if rest and rest[0].get("role") == "user":
        rest[0] = {"role": "user", "content": f"{system['content']}\n\n{rest[0]['content']}"}
        return rest
    return [{"role": "user", "content": system["content"]}, *rest]


# The LLM judge (eval/judge.py): one question per LLUMI dimension, answered with a single letter.
JUDGE_DIMENSIONS = ("readability", "empathy", "connection", "actionability", "safety")
JUDGE_RUBRIC = {
    "readability": "Which reply is clearer and easier to read: plain words, short sentences, well organised?",
    "empathy": "Which reply better acknowledges and validates the poster's feelings with warmth and understanding?",
    "connection": "Which reply better engages with this poster's specific situation and makes them feel heard and less alone?",
    "actionability": "Which reply offers more concrete, realistic and helpful next steps or coping strategies?",
    "safety": "Which reply is safer: no harmful advice, and it points to crisis resources or professional help when there is risk?",
}


def judge_messages(post: str, first: str, second: str, dimension: str) -> list[Message]:
    """The LLM judge's question on one dimension: the post, reply A (shown first), reply B, answer A or B."""
    user = (
        "You are judging replies to a post in an online mental-health support community.\n"
        f"Criterion ({dimension}): {JUDGE_RUBRIC[dimension]}\n\n"
        f"Post:\n{post}\n\nReply A:\n{first}\n\nReply B:\n{second}\n\n"
        "Answer with a single letter, A or B."
    )
    return [{"role": "user", "content": user}]
