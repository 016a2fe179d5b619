"""Readers: one per input format, all yielding records in one raw shape.

Formats:
- Pushshift / Arctic Shift NDJSON, zstd-compressed (2 GiB window) or plain (`.zst`, `.jsonl`, `.ndjson`).
  These are streamed as newline-aligned byte chunks and parsed by DuckDB's JSON reader (see `ingest`).
- Reddit API thread JSON (`GET /comments/<id>`: a pair of Listings) and `/api/morechildren` responses
  (`.json`). These are small; they are flattened here into the same raw record shape.

A damaged dump must fail loudly: a truncated zstd stream does not raise in `zstandard`, so the frame
end is checked explicitly, and the error names the file and the compressed byte offsets of the block
where decoding fails (`locate_zstd_damage`).
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

from redditess_core.contract import MANIFEST_FILE

ZSTD_MAX_WINDOW = 2**31
# Compressed bytes fed to the decompressor at a time (and the read size of plain files). Small feeds give
# small outputs that stay in cache until they are joined into a chunk: 128 KiB costs 12% less CPU than
# 4 MiB feeds on the monthly-style reddit-college file (0.56 vs 0.64 s to decompress and chunk RC).
READ_BYTES = 1 << 17
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


def discover(inputs: list[Path], exclude: list[Path] | tuple[Path, ...] = ()) -> list[InputFile]:
    """Expand files and directories (recursively) into a sorted list of typed input files, checking
    up front that each one can be read (InputError naming the path otherwise).

    Never inputs: hidden files and folders (a build's temporary `.<name>.tmp-*` siblings among them),
    folders in `exclude` (the build's own output) and earlier RedditESS builds (a folder holding a
    `manifest.json` beside `data/`)."""
    if not inputs:
        raise InputError("no --input given")
    excluded = [Path(os.path.abspath(e)) for e in exclude]
    paths: list[Path] = []
    for item in inputs:
        if item.is_dir():
            paths.extend(_walk(item, excluded))
        elif item.is_file():
            if item.suffix.lower() not in NDJSON_SUFFIXES + JSON_SUFFIXES:
                raise InputError(
                    f"{item}: unknown file type {item.suffix or '(none)'!r}; "
                    f"expected one of {', '.join(NDJSON_SUFFIXES + JSON_SUFFIXES)}"
                )
            paths.append(item)
        elif os.path.lexists(item) or _unreachable(item):
            raise InputError(f"{item}: cannot read (not a file or folder this user can open)")
        else:
            raise InputError(f"{item}: no such file or directory")
    if not paths:
        raise InputError(
            f"no input files (.zst, .jsonl, .ndjson, .json) found under {', '.join(map(str, inputs))}"
        )
    files = []
    for path in sorted(set(paths)):
        _check_readable(path)
        if path.stat().st_size == 0:
            raise InputError(f"{path}: empty file")
        files.append(_classify(path))
    return files


def _walk(folder: Path, excluded: list[Path]) -> list[Path]:
    """Input files under `folder`; an unreadable subfolder is an error, not a silent skip."""

    def fail(error: OSError) -> None:
        raise InputError(f"{error.filename}: cannot read folder ({error.strerror})") from error

    found: list[Path] = []
    for root, dirs, names in os.walk(folder, onerror=fail):
        here = Path(root)
        if is_build_output(here) or Path(os.path.abspath(here)) in excluded:
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = here / name
            if name.startswith(".") or path.suffix.lower() not in NDJSON_SUFFIXES + JSON_SUFFIXES:
                continue
            if path.is_file() or not path.exists():  # a dangling link is reported by _check_readable
                found.append(path)
    return found


def is_build_output(folder: Path) -> bool:
    """A RedditESS folder written by this builder (its files are never inputs)."""
    return (folder / MANIFEST_FILE).is_file() and (folder / "data").is_dir()


def _unreachable(path: Path) -> bool:
    try:
        os.stat(path)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return False


def _check_readable(path: Path) -> None:
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc


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
    for chunk, _ in iter_ndjson_chunks(InputFile(path, fmt, "unknown"), chunk_bytes=1 << 16, max_chunks=1):
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
        frame_start = 0
        while block := handle.read(READ_BYTES):
            while block:
                try:
                    out = dobj.decompress(block)
                except zstandard.ZstdError as exc:
                    start, end = locate_zstd_damage(path, frame_start)
                    raise InputError(
                        f"{path}: corrupt zstd data: decoding fails in the block at compressed bytes "
                        f"{start:,}-{end:,} (the damage lies there or earlier in the frame that starts "
                        f"at byte {frame_start:,}): {exc}"
                    ) from exc
                fed = True
                offset += len(block)
                block = b""
                if dobj.eof:  # a frame ended; more frames may follow in the same file
                    block = dobj.unused_data
                    offset -= len(block)
                    frame_start = offset
                    dobj, fed = dctx.decompressobj(), False
                if out:
                    yield offset, out
        if fed and not dobj.eof:
            raise InputError(
                f"{path}: truncated zstd stream: the last frame ends early at byte {offset} "
                f"of {os.path.getsize(path)} (damaged or incomplete download)"
            )


def locate_zstd_damage(path: Path, frame_start: int, step: int = 1024) -> tuple[int, int]:
    """Compressed byte range [start, end) of the zstd block in which decoding of the frame starting at
    `frame_start` fails. zstd decodes whole blocks (up to 128 KiB of output), so the damage is known to
    the block: the frame is decoded again in `step`-byte feeds to find where the error is raised, and
    the block headers (RFC 8878, 3.1.1.2) are walked to find the block holding that point."""
    dobj = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW).decompressobj()
    failed = frame_start
    with open(path, "rb") as handle:
        handle.seek(frame_start)
        header = handle.read(18)
        handle.seek(frame_start)
        try:
            while piece := handle.read(step):
                failed += len(piece)
                dobj.decompress(piece)
                if dobj.eof:
                    break
        except zstandard.ZstdError:
            pass
        blocks_start = _first_block(header, frame_start)
        if blocks_start is None:  # the frame header itself is damaged
            return frame_start, min(failed, frame_start + len(header))
        position = blocks_start
        while position < failed:
            handle.seek(position)
            raw = handle.read(3)
            if len(raw) < 3:
                break
            value = int.from_bytes(raw, "little")
            kind, size = (value >> 1) & 3, value >> 3
            end = position + 3 + (1 if kind == 1 else size)
            if kind == 3 or end >= failed or value & 1:  # reserved type, or the block holding the failure
                return position, min(end, failed) if kind == 3 else end
            position = end
        return max(frame_start, failed - step), failed


def _first_block(header: bytes, frame_start: int) -> int | None:
    """File offset of a zstd frame's first block header, from its frame header; None if not a frame."""
    if len(header) < 6 or header[:4] != b"\x28\xb5\x2f\xfd":
        return None
    descriptor = header[4]
    single_segment = (descriptor >> 5) & 1
    size = 5 + (0 if single_segment else 1) + (0, 1, 2, 4)[descriptor & 3]
    size += (1 if single_segment else 0, 2, 4, 8)[descriptor >> 6]
    return frame_start + size


def iter_ndjson_chunks(
    source: InputFile, chunk_bytes: int = CHUNK_BYTES, max_chunks: int | None = None
) -> Iterator[tuple[bytes, int]]:
    """Newline-aligned chunks of an NDJSON file, about `chunk_bytes` each: (bytes, bytes of the file
    consumed so far, for progress). The last chunk may lack a final newline. Lines are not counted here:
    the consumer counts them in a pass it makes anyway (the pre-filter's newline offsets).

    Each chunk is made with one copy: the decompressor's outputs are collected and joined once, the last
    one through a memoryview up to its last newline (the partial line after it starts the next chunk)."""
    pieces: list[bytes] = []
    held = 0
    emitted = 0
    offset = 0
    for offset, data in _raw_bytes(source.path, source.format):
        pieces.append(data)
        held += len(data)
        if held < chunk_bytes:
            continue
        cut = data.rfind(b"\n") + 1
        if not cut:  # no line ends in this piece yet: keep collecting
            continue
        if len(pieces) == 1 and cut == len(data):
            chunk = data  # already a whole chunk: no copy
        else:
            with memoryview(data) as view:
                chunk = b"".join([*pieces[:-1], view[:cut]])
        rest = data[cut:]
        pieces, held = ([rest], len(rest)) if rest else ([], 0)
        yield chunk, offset
        emitted += 1
        if max_chunks is not None and emitted >= max_chunks:
            return
    tail = b"".join(pieces)
    if tail.strip():
        yield tail, offset


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

    thread = threading.Thread(target=work, daemon=True, name="reader-prefetch")
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
