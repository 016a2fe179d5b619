"""The builder's `is_sensitive` is the Python crisis screen, row for row, on a real build of the sample."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from dataset_builder.synthetic import SCREEN_LINES
from redditess_core.safety import screen_texts


def test_is_sensitive_agrees_with_the_screen_on_every_row(demo_dataset: Path) -> None:
    rows = [
        r
        for f in sorted((demo_dataset / "data" / "comments").glob("*.parquet"))
        for r in pq.read_table(f).to_pylist()
    ]
    assert len(rows) > 100
    posts = screen_texts([f"{r['post_title']}\n{r['post_text']}" for r in rows])
    comments = screen_texts([r["comment_text"] for r in rows])
    expected = [p.high_risk or c.high_risk for p, c in zip(posts, comments, strict=True)]
    assert [r["is_sensitive"] for r in rows] == expected
    assert 0 < sum(expected) < len(rows)
    # the sample's crisis variants flag; its idioms and prevention lines alone do not
    for line in SCREEN_LINES:
        with_line = [p for r, p in zip(rows, posts, strict=True) if line in r["post_text"]]
        assert with_line, line
        if line.startswith(("This exam", "I volunteer", "I'd kill", "I'm dying")):
            assert not any(p.high_risk for p in with_line), line
        else:
            assert all(p.high_risk for p in with_line), line
