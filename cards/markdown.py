"""Small Markdown helpers shared by the dataset and model cards.

Tables are built in Python rather than in Jinja so the templates stay readable prose and
every cell is escaped the same way (a `|` inside a value would otherwise break the table).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def cell(value: Any) -> str:
    """One table cell: None as an em dash, floats rounded, lists joined, pipes and newlines escaped."""
    if value is None:
        text = "—"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, list | tuple):
        text = ", ".join(cell(v) for v in value) if value else "—"
    elif isinstance(value, Mapping):
        text = ", ".join(f"{k}={cell(v)}" for k, v in value.items()) if value else "—"
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table; an empty body renders as a single italic line."""
    rows = [list(r) for r in rows]
    if not rows:
        return "_none_"
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dict -> {"a.b": value}; lists stay values (they render as one cell)."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, prefix=f"{name}."))
        else:
            out[name] = value
    return out


_SIZE_CATEGORIES = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
]


def size_category(num_rows: int) -> str:
    """The Hub's `size_categories` bucket for a row count."""
    for limit, name in _SIZE_CATEGORIES:
        if num_rows < limit:
            return name
    return "1B<n<10B"
