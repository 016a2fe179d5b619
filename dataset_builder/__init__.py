"""Build RedditESS (effective social support) from raw Reddit dumps into a Hub dataset folder.

`python -m dataset_builder build --input DUMPS --out redditess` is the entry point; the stages are
sources -> ingest/normalize -> threads -> signals -> labels -> privacy -> splits -> pairs -> export.
`RedditESS` (a `datasets` builder) is imported lazily so the build path never imports `datasets`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RedditESS"]


def __getattr__(name: str) -> Any:
    if name == "RedditESS":
        from dataset_builder.builder import RedditESS

        return RedditESS
    raise AttributeError(name)
