"""Readers: one per input format, all yielding records in one raw shape.

Formats:
- Pushshift / Arctic Shift NDJSON, zstd-compressed (2 GiB window) or plain (`.zst`, `.jsonl`, `.ndjson`).
  These are streamed as newline-aligned byte chunks and parsed by DuckDB's JSON reader (see `ingest`).
- Reddit API thread JSON (`GET /comments/<id>`: a pair of Listings) and `/api/morechildren` responses
  (`.json`). These are small; they are flattened here into the same raw record shape.

A damaged dump must fail loudly: a truncated zstd stream does not raise in `zstandard`, so the frame
end is checked explicitly and the error names the file and the compressed byte offset.
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard

ZSTD_MAX_WINDOW = 2**31
READ_BYTES = 1 << 22
CHUNK_BYTES = 1 << 24
NDJSON_SUFFIXES = (".zst", ".jsonl", ".ndjson")
JSON_SUFFIXES = (".json",)

# Raw fields read from dumps, all as text (real dumps change types between years: `created_utc` is a
# string in 2007-2015 files, `edited` is false / an epoch / true). `normalize` casts them in SQL.
SUBMISSION_FIELDS = (
    "id", "subreddit", "author", "title", "selftext", "created_utc", "score", "edited", "over_18",
    "distinguished", "removed_by_category", "removed_by", "banned_by", "stickied", "retrieved_on",
    "retrieved_utc",
)  # fmt: skip
COMMENT_FIELDS = (
    "id", "link_id", "parent_id", "subreddit", "author", "body", "created_utc", "score", "is_submitter",
    "distinguished", "removed_by_category", "removed_by", "banned_by", "stickied", "retrieved_on",
    "retrieved_utc",
)  # fmt: skip
REQUIRED_FIELDS = {
    "submissions": ("id", "title"),
    "comments": ("id", "link_id", "parent_id", "body"),
}
FIELDS = {"submissions": SUBMISSION_FIELDS, "comments": COMMENT_FIELDS}

_SUBMISSION_NAME = re.compile(r"(^RS_|_submissions\b|^submissions)", re.IGNORECASE)
_COMMENT_NAME = re.compile(r"(^RC_|_comments\b|^comments)", re.IGNORECASE)


class InputError(Exception):
    """Bad input that stops the build; the message names the file (and position where known)."""


@dataclass(frozen=True)
class InputFile:
    path: Path
    format: str  # "ndjson-zst" | "ndjson" | "reddit-api-json"
    kind: str  # "submissions" | "comments" | "thread" (API files hold both)


@dataclass
class Rejects:
    """Input records that could not be used, with file and line, so nothing is lost silently."""

    count: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    max_examples: int = 100

    def add(self, file: str, line: int, reason: str) -> None:
        self.count += 1
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1
        if len(self.examples) < self.max_examples:
            self.examples.append({"file": file, "line": line, "reason": reason})

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "by_reason": dict(sorted(self.by_reason.items())),
            "examples": self.examples,
        }


def discover(inputs: list[Path]) -> list[InputFile]:
    """Expand files and directories (recursively) into a sorted list of typed input files."""
    if not inputs:
        raise InputError("no --input given")
    paths: list[Path] = []
    for item in inputs:
        if item.is_dir():
            found = sorted(p for p in item.rglob("*") if p.is_file() and not p.name.startswith("."))
            paths.extend(p for p in found if p.suffix.lower() in NDJSON_SUFFIXES + JSON_SUFFIXES)
        elif item.is_file():
            if item.suffix.lower() not in NDJSON_SUFFIXES + JSON_SUFFIXES:
                raise InputError(
                    f"{item}: unknown file type {item.suffix or '(none)'!r}; "
                    f"expected one of {', '.join(NDJSON_SUFFIXES + JSON_SUFFIXES)}"
                )
            paths.append(item)
        else:
            raise InputError(f"{item}: no such file or directory")
    if not paths:
        raise InputError(
            f"no input files (.zst, .jsonl, .ndjson, .json) found under {', '.join(map(str, inputs))}"
        )
    files = []
    for path in sorted(set(paths)):
        if path.stat().st_size == 0:
            raise InputError(f"{path}: empty file")
        files.append(_classify(path))
    return files


def _classify(path: Path) -> InputFile:
    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES:
        return InputFile(path, "reddit-api-json", "thread")
    fmt = "ndjson-zst" if suffix == ".zst" else "ndjson"
    if _SUBMISSION_NAME.search(path.name):
        return InputFile(path, fmt, "submissions")
    if _COMMENT_NAME.search(path.name):
        return InputFile(path, fmt, "comments")
    return InputFile(path, fmt, _sniff_kind(path, fmt))


def _sniff_kind(path: Path, fmt: str) -> str:
    """Kind of an NDJSON file whose name does not say: the first parseable record decides."""
    for _, chunk, _ in iter_ndjson_chunks(InputFile(path, fmt, "unknown"), chunk_bytes=1 << 16, max_chunks=1):
        for line in chunk.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "title" in record:
                return "submissions"
            if isinstance(record, dict) and "body" in record:
                return "comments"
    raise InputError(
        f"{path}: cannot tell submissions from comments (name it RS_*/ *_submissions or RC_*/ *_comments, "
        "or make records carry `title` / `body`)"
    )


def _raw_bytes(path: Path, fmt: str) -> Iterator[tuple[int, bytes]]:
    """(compressed bytes consumed so far, decompressed bytes) pairs; raises on damaged zstd data."""
    with open(path, "rb") as handle:
        if fmt != "ndjson-zst":
            while block := handle.read(READ_BYTES):
                yield handle.tell(), block
            return
        dctx = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        dobj = dctx.decompressobj()
        fed = False  # has the current frame's decompressor received any input?
        offset = 0
        while block := handle.read(READ_BYTES):
            while block:
                try:
                    out = dobj.decompress(block)
                except zstandard.ZstdError as exc:
                    raise InputError(f"{path}: corrupt zstd data near byte {offset}: {exc}") from exc
                fed = True
                offset += len(block)
                block = b""
                if dobj.eof:  # a frame ended; more frames may follow in the same file
                    block = dobj.unused_data
                    offset -= len(block)
                    dobj, fed = dctx.decompressobj(), False
                if out:
                    yield offset, out
        if fed and not dobj.eof:
            raise InputError(
                f"{path}: truncated zstd stream: the last frame ends early at byte {offset} "
                f"of {os.path.getsize(path)} (damaged or incomplete download)"
            )


def iter_ndjson_chunks(
    source: InputFile, chunk_bytes: int = CHUNK_BYTES, max_chunks: int | None = None
) -> Iterator[tuple[int, bytes, int]]:
    """Newline-aligned chunks of an NDJSON file: (the chunk's first line number, bytes, bytes of the
    file consumed so far, for progress)."""
    buffer = bytearray()
    line_no = 1
    emitted = 0
    offset = 0
    for offset, data in _raw_bytes(source.path, source.format):
        buffer += data
        if len(buffer) >= chunk_bytes:
            cut = buffer.rfind(b"\n") + 1
            if cut:
                chunk = bytes(buffer[:cut])
                del buffer[:cut]
                yield line_no, chunk, offset
                line_no += chunk.count(b"\n")
                emitted += 1
                if max_chunks is not None and emitted >= max_chunks:
                    return
    if buffer.strip():
        yield line_no, bytes(buffer), offset


def prefetch(iterator: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """Run a (decompressing) iterator in a thread so decompression overlaps parsing."""
    items: queue.Queue[Any] = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def work() -> None:
        try:
            for item in iterator:
                while not stop.is_set():
                    try:
                        items.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            items.put(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


# --- Reddit API JSON -----------------------------------------------------------------------------


def read_api_json(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Flatten a thread listing pair or a morechildren response into (submissions, comments, n_more).

    `more` placeholders are counted, not loaded: their children arrive in morechildren files and are
    re-attached by `parent_id` like any other comment.
    """
    try:
        data = json.loads(path.read_bytes())
    except ValueError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from exc
    things: list[dict[str, Any]]
    if isinstance(data, list) and len(data) == 2 and all(_is_listing(x) for x in data):
        things = data[0]["data"]["children"] + data[1]["data"]["children"]
    elif isinstance(data, dict) and isinstance(data.get("json"), dict):
        things = ((data["json"].get("data") or {}).get("things")) or []
    elif _is_listing(data):
        things = data["data"]["children"]
    else:
        raise InputError(
            f"{path}: unknown JSON layout (expected a Reddit API thread listing pair or a "
            "morechildren response; NDJSON dumps should be named .jsonl/.ndjson)"
        )
    submissions: list[dict[str, Any]] = []
    comments: list[dict[str, Any]] = []
    n_more = 0
    stack = list(reversed(things))
    while stack:
        thing = stack.pop()
        kind, payload = thing.get("kind"), thing.get("data") or {}
        if kind == "t3":
            submissions.append(_as_text_record(payload, SUBMISSION_FIELDS))
        elif kind == "t1":
            comments.append(_as_text_record(payload, COMMENT_FIELDS))
            replies = payload.get("replies")
            if _is_listing(replies):
                stack.extend(reversed(replies["data"]["children"]))
        elif kind == "more":
            n_more += 1
    return submissions, comments, n_more


def _is_listing(value: Any) -> bool:
    return isinstance(value, dict) and value.get("kind") == "Listing" and isinstance(value.get("data"), dict)


def _as_text_record(payload: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The record as DuckDB's JSON reader would give it with every field read as text."""
    record: dict[str, Any] = {}
    for name in fields:
        value = payload.get(name)
        if value is None or isinstance(value, str):
            record[name] = value
        else:
            record[name] = json.dumps(value)
    record["_meta"] = json.dumps(payload["_meta"]) if isinstance(payload.get("_meta"), dict) else None
    return record
