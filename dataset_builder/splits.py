"""Split assignment: one seeded hash of the post id, so a post lands in the same split in every
config (no leakage between a post's comments, pairs and SFT rows) and in every rebuild."""

from __future__ import annotations

import hashlib

from dataset_builder.config import BuildConfig


def bucket(seed: int, post_id: str) -> float:
    """Uniform in [0, 1): the first 32 bits of md5("<seed>:<post_id>")."""
    digest = hashlib.md5(f"{seed}:{post_id}".encode()).hexdigest()
    return int(digest[:8], 16) / 2**32


def split_of(cfg: BuildConfig, post_id: str) -> str:
    """The Python reference of `split_sql` (tests check that the two agree)."""
    u = bucket(cfg.seed, post_id)
    if u < cfg.test_fraction:
        return "test"
    if u < cfg.test_fraction + cfg.validation_fraction:
        return "validation"
    return "train"


def split_sql(cfg: BuildConfig, column: str = "post_id") -> str:
    """The same assignment as a SQL expression (md5 exists in DuckDB, Spark SQL and Postgres)."""
    u = f"(CAST(CONCAT('0x', substr(md5('{int(cfg.seed)}:' || {column}), 1, 8)) AS UBIGINT) / 4294967296.0)"
    return (
        f"CASE WHEN {u} < {cfg.test_fraction} THEN 'test' "
        f"WHEN {u} < {cfg.test_fraction + cfg.validation_fraction} THEN 'validation' ELSE 'train' END"
    )
