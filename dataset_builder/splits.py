"""Split assignment: one seeded hash of the post id, so a post lands in the same split in every config (no
leakage between a post's comments, pairs and SFT rows), in every rebuild and on every engine.

The rule has one definition, `sql/splits.sql` (step `SPLITS`); `split_of` is its Python oracle for tests.
"""

from __future__ import annotations

import hashlib

import duckdb

from dataset_builder import steps
from dataset_builder.config import BuildConfig

SPLITS = steps.Step("splits", inputs=("kept_posts",), outputs=("post_splits",))


def params(cfg: BuildConfig) -> dict[str, steps.Param]:
    return {
        "seed": int(cfg.seed),
        "test_fraction": float(cfg.test_fraction),
        "validation_fraction": float(cfg.validation_fraction),
    }


def compute(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> None:
    """Create `post_splits(post_id, split)`, one row per row of `kept_posts`."""
    steps.run(con, SPLITS, params(cfg))


def bucket(seed: int, post_id: str) -> float:
    """Uniform in [0, 1): the first 32 bits of md5("<seed>:<post_id>") / 2^32 (test oracle)."""
    digest = hashlib.md5(f"{seed}:{post_id}".encode()).hexdigest()
    return int(digest[:8], 16) / 2**32


def split_of(cfg: BuildConfig, post_id: str) -> str:
    """The split `sql/splits.sql` gives `post_id`, computed in Python: the oracle the tests compare with."""
    u = bucket(cfg.seed, post_id)
    if u < cfg.test_fraction:
        return "test"
    if u < cfg.test_fraction + cfg.validation_fraction:
        return "validation"
    return "train"
