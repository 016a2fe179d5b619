"""The conversations of the `preference`, `sft` and `improvement` configs, rendered in SQL.

The templates and system turns live in `redditess_core.prompts` (training, eval and assist use the same
ones); this module turns them into DuckDB expressions.
"""

from __future__ import annotations

import re

from dataset_builder.sql import literal


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
