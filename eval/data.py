"""Prompts of a RedditESS split for generation, and posts/labels for classifier evaluation.

GM prompts come from the `sft` config (system + user turn with the post; the dataset's own effective reply
is kept as the human reference row of the linguistic analysis), one per post. IM prompts come from the
`improvement` config (system + user turn with the post and a draft); the reference is the better-received
revision, and `post` is the post alone (cut from the turn by `redditess_core.prompts.split_improve_turn`), so style matching
and similarity compare a revision with the post, and separately with the draft.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redditess_core.loading import load_split
from redditess_core.prompts import last_user_text, split_improve_turn

TASKS = ("gm", "im")
TASK_CONFIG = {"gm": "sft", "im": "improvement"}


@dataclass
class PromptItem:
    """One prompt to generate for, with what the analyses need beside it."""

    id: str
    post_id: str
    prompt: list[dict[str, str]]
    post: str
    reference: str | None = None
    draft: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def load_prompts(
    dataset: str | Path, task: str, split: str, max_samples: int | None = None
) -> list[PromptItem]:
    """The prompts of `split` for `task` ("gm" or "im"), in dataset order, ids unique."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    ds = load_split(dataset, TASK_CONFIG[task], split)
    items: list[PromptItem] = []
    seen: set[str] = set()
    for row in ds:
        if task == "gm":
            messages = row["messages"]
            if not messages or messages[-1].get("role") != "assistant":
                raise ValueError(
                    f"{dataset} [sft/{split}] post {row['post_id']}: last message is not the assistant's"
                )
            item = PromptItem(
                id=str(row["post_id"]),
                post_id=str(row["post_id"]),
                prompt=[dict(m) for m in messages[:-1]],
                post=last_user_text(messages[:-1]),
                reference=messages[-1]["content"],
            )
        else:
            post, _ = split_improve_turn(last_user_text(row["prompt"]))
            item = PromptItem(
                id=f"{row['post_id']}:{row['draft_id']}",
                post_id=str(row["post_id"]),
                prompt=[dict(m) for m in row["prompt"]],
                post=post,
                reference=row["chosen"][0]["content"] if row["chosen"] else None,
                draft=row["rejected"][0]["content"] if row["rejected"] else None,
            )
        if item.id in seen:
            continue
        seen.add(item.id)
        items.append(item)
        if max_samples is not None and len(items) >= max_samples:
            break
    if not items:
        raise ValueError(f"{dataset} [{TASK_CONFIG[task]}/{split}]: no prompts")
    return items
