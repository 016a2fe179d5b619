"""The conversations of the `preference`, `sft` and `improvement` configs, in one place.

The builder renders them in SQL and the assistant (`assist`) in Python, from the same templates, so
a released model is prompted exactly as it was trained.
"""

from __future__ import annotations

import re

from dataset_builder.sql import literal

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
POST_TURN = "{title}\n\n{body}"
IMPROVE_TURN = "Post:\n{title}\n\n{body}\n\nDraft reply to revise:\n{draft}"


def draft_messages(title: str, body: str) -> list[dict[str, str]]:
    """Generation Model prompt: system + the post as the user turn."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": POST_TURN.format(title=title, body=body)},
    ]


def improve_messages(title: str, body: str, draft: str) -> list[dict[str, str]]:
    """Improvement Model prompt: system + the post and the draft to revise."""
    return [
        {"role": "system", "content": IMPROVE_SYSTEM_PROMPT},
        {"role": "user", "content": IMPROVE_TURN.format(title=title, body=body, draft=draft)},
    ]


def template_sql(template: str, **columns: str) -> str:
    """A SQL concatenation rendering `template` with SQL expressions for its {placeholders}."""
    parts = []
    for piece in re.split(r"(\{\w+\})", template):
        if re.fullmatch(r"\{\w+\}", piece):
            parts.append(columns[piece[1:-1]])
        elif piece:
            parts.append(literal(piece))
    return " || ".join(parts)


def messages_sql(system: str, user_template: str, **columns: str) -> str:
    """A DuckDB list of {role, content} structs: the system turn and the rendered user turn."""
    user = template_sql(user_template, **columns)
    return f"[{{'role': 'system', 'content': {literal(system)}}}, {{'role': 'user', 'content': {user}}}]"


def assistant_sql(text: str) -> str:
    return f"[{{'role': 'assistant', 'content': {text}}}]"
