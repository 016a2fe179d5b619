"""The build's record selection (`--subreddits`, `--since`, `--until`), applied while reading.

Two steps, so that a month of all-Reddit dumps is not parsed to keep well under 1% of it:

1. `RecordFilter.prefilter` — a byte-level test on each decompressed, newline-aligned chunk, before
   any JSON parsing. A line is a *candidate* when it contains one of the selected names, ignoring ASCII
   case, anywhere in its bytes, or a JSON escape of an ASCII letter, digit or underscore (`\\u0041`…:
   a writer could spell a name that way; real dump writers never do, so such lines are rare). It runs
   as RE2 searches over an Arrow view of the chunk's lines (no copy, outside the GIL, so it overlaps
   the decompression thread). Everything else is pre-filtered out unparsed.
2. `RecordFilter.keep_mask` — the exact check on parsed records: the record's own `subreddit`, with
   surrounding spaces removed, equals a selected name ignoring ASCII case. Dates are checked exactly
   too (`date_sql`, on the normalized `created_utc`); they have no byte pre-filter, as dumps write
   `created_utc` as an integer, a float or a string.

The pre-filter never drops a record the exact check keeps: such a record's decoded `subreddit` is
spaces around the name in some ASCII case, so its raw line holds the name's bytes in that case unless a
character of the name is written as a `\\u00XX` escape, which makes the line a candidate. Names met in
other places (body text, permalinks, `subreddit_name_prefixed`, a crosspost's fields) only make extra
candidates, which the exact check drops.

`--since` is inclusive, `--until` exclusive, both UTC, on each record's own `created_utc`: a comment
made after `--until` on a post made before it is not kept (its thread is cut at the boundary), and a
record without a readable `created_utc` is not kept when either bound is set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# A JSON `\uXXXX` escape of an ASCII digit (30-39), upper-case letter (41-5A), underscore (5F) or
# lower-case letter (61-7A): the only way a name's characters reach a line other than as themselves.
ESCAPED_NAME_CHARACTER = r"\\u00(?:3[0-9]|4[1-9a-fA-F]|5[0-9aAfF]|6[1-9a-fA-F]|7[0-9aA])"


def parse_utc(text: str) -> int:
    """Epoch seconds of a UTC date (`2021-12-01`), date-time (`2021-12-01T06:00`, `...Z`, `...+02:00`:
    an offset is honoured, no offset means UTC) or plain epoch seconds (`1638316800`). ValueError names
    the text otherwise."""
    value = text.strip()
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(
            f"not a UTC date: {text!r} (expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM] "
            "or epoch seconds)"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


@dataclass(frozen=True)
class RecordFilter:
    """Selected subreddits (lower-case, without `r/`; empty: all) and the `[since, until)` window in
    epoch seconds (None: open). `byte_prefilter=False` parses every line and applies only the exact
    check (the reference the pre-filter is tested and benchmarked against)."""

    subreddits: tuple[str, ...] = ()
    since: int | None = None
    until: int | None = None
    byte_prefilter: bool = True

    def __post_init__(self) -> None:
        odd = [name for name in self.subreddits if not name.isascii() or name != name.lower()]
        if odd:
            raise ValueError(f"subreddit names must be ASCII and lower-case here (Reddit's are ASCII): {odd}")

    @classmethod
    def from_config(cls, cfg: object) -> RecordFilter:
        """The filter of a `BuildConfig` (`subreddits`, `since`, `until`)."""
        since, until = getattr(cfg, "since", None), getattr(cfg, "until", None)
        return cls(
            subreddits=tuple(sorted(getattr(cfg, "subreddits", None) or ())),
            since=parse_utc(since) if since else None,
            until=parse_utc(until) if until else None,
        )

    @property
    def active(self) -> bool:
        return bool(self.subreddits) or self.since is not None or self.until is not None

    @property
    def has_prefilter(self) -> bool:
        """Only subreddits have a byte pre-filter."""
        return bool(self.subreddits) and self.byte_prefilter

    def prefilter(self, chunk: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Byte pre-filter of a chunk of NDJSON lines. Returns (line start offsets of every line, int64
        array of n+1 values, the last one `len(chunk)`; indices of the candidate lines). A final line
        without a newline counts as a line."""
        lines = line_array(chunk)
        offsets = np.frombuffer(lines.buffers()[1], np.int64)[: len(lines) + 1]
        mask = pc.or_(
            pc.match_substring_regex(lines, self._names_regex),
            pc.match_substring_regex(lines, ESCAPED_NAME_CHARACTER),
        )
        return offsets, pc.indices_nonzero(mask).to_numpy().astype(np.int64)

    @property
    def _names_regex(self) -> str:
        return "(?i:" + "|".join(re.escape(name) for name in self.subreddits) + ")"

    def keep_mask(self, table: pa.Table) -> pa.Array | None:
        """Exact subreddit check on parsed records (the raw `subreddit` text column); None when no
        subreddit is selected."""
        if not self.subreddits:
            return None
        names = pc.ascii_lower(pc.utf8_trim(table["subreddit"], " "))
        return pc.fill_null(pc.is_in(names, value_set=pa.array(self.subreddits, pa.string())), False)

    def date_sql(self, column: str = "created_utc") -> str | None:
        """SQL condition of the date window on a normalized epoch-seconds column; None without bounds."""
        parts = []
        if self.since is not None:
            parts.append(f"{column} >= {int(self.since)}")
        if self.until is not None:
            parts.append(f"{column} < {int(self.until)}")
        return " AND ".join(parts) if parts else None

    def describe(self) -> dict[str, object]:
        """The filter as recorded in the manifest."""
        return {
            "subreddits": list(self.subreddits) or None,
            "since_utc": _iso(self.since),
            "until_utc": _iso(self.until),
            "byte_prefilter": "subreddit names (case-insensitive substring) or \\u00XX name escapes"
            if self.has_prefilter
            else None,
        }


def _iso(epoch: int | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def line_array(chunk: bytes) -> pa.Array:
    """The chunk's lines (each with its newline) as an Arrow binary array over the chunk's own memory."""
    newlines = np.flatnonzero(np.frombuffer(chunk, np.uint8) == 10)
    ends = newlines + 1
    if not chunk.endswith(b"\n") and chunk:
        ends = np.append(ends, len(chunk))
    offsets = np.empty(len(ends) + 1, np.int64)
    offsets[0] = 0
    offsets[1:] = ends
    return pa.Array.from_buffers(
        pa.large_binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(chunk)]
    )
