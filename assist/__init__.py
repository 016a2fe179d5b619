"""Use released adapters: draft a supportive reply to a post, or improve a human draft, crisis-screened first."""

from assist.output import AssistResult, assess
from assist.prompts import Post, draft_messages, improve_messages, read_draft, read_post

__all__ = ["AssistResult", "Post", "assess", "draft_messages", "improve_messages", "read_draft", "read_post"]
