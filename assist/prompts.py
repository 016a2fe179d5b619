"""The conversations the assistant sends to a model: the same turns the models were trained on.

The prompts come from `redditess_core.prompts`, the templates the builder renders into the
`preference` / `sft` / `improvement` configs (tests/publish/test_assist.py checks them against rows of a
built dataset). The system turn a model was trained with, and whether it is folded into the user turn,
come from the model's run record (`redditess_core.chat.ChatFormat`, applied in `assist.model.generate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from redditess_core import prompts


@dataclass(frozen=True)
class Post:
    title: str
    body: str

    @property
    def text(self) -> str:
        """Title and body as the dataset's user turn joins them."""
        return prompts.post_turn(self.title, self.body)


def read_post(path: str | Path) -> Post:
    """A post file: its first line is the title, the rest the body (blank lines around it are dropped)."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"post file not found: {path}") from None
    if not raw.strip():
        raise ValueError(f"{path}: the post file is empty")
    return parse_post(raw)


def parse_post(text: str) -> Post:
    """A post as pasted or stored: the first non-blank line is the title, the rest the body."""
    title, _, body = text.strip().partition("\n")
    return Post(title.strip(), body.strip())


def read_draft(path: str | Path) -> str:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise FileNotFoundError(f"draft file not found: {path}") from None
    if not text:
        raise ValueError(f"{path}: the draft file is empty")
    return text


def draft_messages(post: Post) -> list[dict[str, str]]:
    """Generation Model: system + the post (as in the `sft` / `preference` configs)."""
    return prompts.draft_messages(post.title, post.body)


def improve_messages(post: Post, draft: str) -> list[dict[str, str]]:
    """Improvement Model: system + the post and the draft to revise (as in the `improvement` config)."""
    return prompts.improve_messages(post.title, post.body, draft)
