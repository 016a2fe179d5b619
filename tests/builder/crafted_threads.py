"""Small invented threads written as zstd NDJSON dumps, built end to end (shared by the label tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import zstandard
from builder_rows import read_rows

from dataset_builder.config import BuildConfig
from dataset_builder.pipeline import build

KEY = b"test-key-for-crafted-threads"
OP = "op_person"


def write_zst(path: Path, records: list[dict]) -> None:
    data = ("\n".join(json.dumps(r) for r in records) + "\n").encode()
    path.write_bytes(zstandard.ZstdCompressor().compress(data))


def post(
    pid: str = "p1", title: str = "Feeling low", text: str = "I have been feeling low for weeks now.", **extra
) -> dict:
    return {
        "id": pid,
        "author": OP,
        "title": title,
        "selftext": text,
        "created_utc": 1000,
        "score": 20,
        "subreddit": "depression",
        "edited": False,
    } | extra


def comment(
    cid: str,
    parent: str,
    body: str,
    score: int | None = 5,
    author: str | None = None,
    pid: str = "p1",
    created: int | None = None,
) -> dict:
    """A comment; `parent` is a comment id (a reply) or None (top-level). Authors default to one per comment."""
    return {
        "id": cid,
        "link_id": f"t3_{pid}",
        "parent_id": f"t1_{parent}" if parent else f"t3_{pid}",
        "author": author or f"helper_{cid}",
        "body": body,
        "created_utc": created if created is not None else 1100 + len(cid),
        "score": score,
        "subreddit": "depression",
    }


def op_reply(cid: str, parent: str, body: str, pid: str = "p1") -> dict:
    return comment(cid, parent, body, score=1, author=OP, pid=pid)


def build_rows(
    tmp: Path, posts: list[dict], comments: list[dict], **cfg: Any
) -> tuple[dict[str, dict], dict]:
    """Build the thread(s); returns the `comments` rows by comment id and the manifest."""
    raw = tmp / "raw"
    raw.mkdir(parents=True)
    write_zst(raw / "RS_x.zst", posts)
    write_zst(raw / "RC_x.zst", comments)
    out = tmp / "redditess"
    # Rows are looked up by the invented Reddit ids: keep them (ids are hashed by default).
    manifest = build(BuildConfig(inputs=[raw], out=out, **({"keep_reddit_ids": True} | cfg)), key=KEY)
    return {r["comment_id"]: r for r in read_rows(out, "comments")}, manifest
