"""Atomic file output and strict JSONL input shared by every eval command.

Every writer goes through a temp file in the target folder and `os.replace`, so an interrupted run never
leaves a half-written output that a later step could mistake for a finished one.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from redditess_core.atomic import atomic_path, write_text  # noqa: F401 - eval's writers and their callers


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write JSON atomically (indented, UTF-8, keys in insertion order)."""
    return write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default) + "\n")


def write_jsonl(path: str | os.PathLike[str], rows: Iterable[dict[str, Any]]) -> Path:
    """Write JSON lines atomically."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, default=_json_default) + "\n")
    return Path(path)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy / torch scalars
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def read_jsonl(path: str | os.PathLike[str], *, allow_empty: bool = False) -> list[dict[str, Any]]:
    """Read a JSONL file; bad lines and empty files raise a ValueError naming the file and line numbers."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    rows: list[dict[str, Any]] = []
    bad: list[str] = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                bad.append(f"line {lineno}: {exc.msg}")
                continue
            if not isinstance(row, dict):
                bad.append(f"line {lineno}: not a JSON object")
                continue
            rows.append(row)
    if bad:
        raise ValueError(f"{path}: {len(bad)} malformed line(s): " + "; ".join(bad[:20]))
    if not rows and not allow_empty:
        raise ValueError(f"{path}: file is empty (no records)")
    return rows


def open_sheet(
    path: str | os.PathLike[str], required: set[str], problems: list[str]
) -> csv.DictReader | None:
    """A filled rater sheet (CSV, UTF-8 with or without BOM) as a DictReader whose header holds `required`.

    A missing or empty file, or a header without some required column, is appended to `problems` (naming the
    file) and gives None, so an ingest can list every problem of every sheet at once.
    """
    path = Path(path)
    if not path.is_file():
        problems.append(f"{path}: no such file")
        return None
    text = path.read_text(encoding="utf-8-sig")
    if not text.strip():
        problems.append(f"{path}: file is empty")
        return None
    reader = csv.DictReader(io.StringIO(text))
    missing = sorted(required - set(reader.fieldnames or []))
    if missing:
        problems.append(f"{path}: missing column(s) {missing} (expected at least {sorted(required)})")
        return None
    return reader


def format_rows(problems: list[str], limit: int = 20) -> str:
    """Join offending-row descriptions for an error message, noting how many were left out."""
    shown = "\n  ".join(problems[:limit])
    more = f"\n  ... and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"\n  {shown}{more}"
