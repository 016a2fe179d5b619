"""Reading the kit's JSON files (run records, manifests, evaluation reports, rater keys) with errors that name
the file: one place for "missing", "not valid JSON" and "not a JSON object"."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def read_json(path: str | os.PathLike[str]) -> Any:
    """The parsed content of a UTF-8 JSON file.

    Raises:
        FileNotFoundError: `path` is not a file (the message names it).
        ValueError: the text is not valid JSON (names the file, the parser's message and line).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None


def read_json_object(path: str | os.PathLike[str]) -> dict[str, Any]:
    """`read_json` for files that must hold one JSON object (a mapping).

    Raises:
        FileNotFoundError, ValueError: as `read_json`; ValueError also when the top level is not an object.
    """
    data = read_json(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a JSON object (found {type(data).__name__})")
    return data
