"""Figures of a built folder, read back from its parquet files: what `stats` prints and the card shows.

The figures are the portable step `sql/stats.sql` (`STATS`) over one view per config, `rows_<config>`;
reading the parquet files into those views is the engine's part (`register_rows` for DuckDB).
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from dataset_builder import steps
from dataset_builder.sql import literal
from redditess_core.contract import CONFIG_NAMES, SPLITS

CONFIDENCE_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
QUANTILES = ("p10", "p25", "median", "p75", "p90")

STATS = steps.Step(
    "stats",
    inputs=tuple(f"rows_{config}" for config in CONFIG_NAMES),
    outputs=(
        "stats_rows", "stats_label_balance", "stats_label_sources", "stats_confidence", "stats_pairs_per_post",
        "stats_pair_sources", "stats_chosen_longer", "stats_subreddits", "stats_comments",
    ),
)  # fmt: skip


def _files(folder: Path, config: str, split: str | None = None) -> list[str]:
    pattern = f"{split}-*.parquet" if split else "*.parquet"
    return sorted(str(p) for p in (folder / "data" / config).glob(pattern))


def register_rows(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """Views `rows_<config>`: every row of the config in `folder` with its `split` (from the file names);
    an empty view with the config's schema when the config has no file (empty splits get none)."""
    from dataset_builder.export import arrow_schema

    for config in CONFIG_NAMES:
        parts = [
            f"SELECT *, {literal(split)} AS split FROM read_parquet([{', '.join(map(literal, files))}])"
            for split in SPLITS
            if (files := _files(folder, config, split))
        ]
        if not parts:
            schema = arrow_schema(config).remove_metadata().append(pa.field("split", pa.string()))
            con.register(f"_empty_{config}", schema.empty_table())
            parts = [f"SELECT * FROM _empty_{config}"]
        con.execute(f"CREATE OR REPLACE VIEW rows_{config} AS " + " UNION ALL ".join(parts))


def params() -> dict[str, steps.Param]:
    """The inner edges of CONFIDENCE_BINS (the outer ones, 0 and 1, are in the SQL)."""
    return {f"bin_{i}": float(edge) for i, edge in enumerate(CONFIDENCE_BINS[1:-1], start=1)}


def _table(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {name}").fetchall()


def compute_stats(folder: Path) -> dict[str, Any]:
    con = duckdb.connect()
    register_rows(con, folder)
    steps.run(con, STATS, params())
    stats: dict[str, Any] = {"rows": {}, "label_balance": {}, "pairs_per_post": {}, "pair_sources": {}}
    rows = {(config, split): int(n) for config, split, n in _table(con, "stats_rows")}
    for config in CONFIG_NAMES:
        stats["rows"][config] = {split: rows.get((config, split), 0) for split in SPLITS}
    balance = {(split, label): int(n) for split, label, n in _table(con, "stats_label_balance")}
    for split in SPLITS:
        if rows.get(("effective_support", split)):
            stats["label_balance"][split] = {
                "not_effective": balance.get((split, 0), 0),
                "effective": balance.get((split, 1), 0),
            }
    if any(rows.get(("effective_support", split)) for split in SPLITS):
        stats["label_confidence"] = confidence_distribution(con)
        sources = sorted(_table(con, "stats_label_sources"), key=lambda r: (-r[1], r[0] is None, r[0]))
        stats["label_sources"] = {source: int(n) for source, n in sources}
    for config, mean, top, posts in sorted(
        _table(con, "stats_pairs_per_post"), key=lambda r: ("preference", "improvement", "sft").index(r[0])
    ):
        if posts:
            stats["pairs_per_post"][config] = {
                "mean": round(float(mean), 3),
                "max": int(top),
                "posts": int(posts),
            }
    pair_sources = sorted(_table(con, "stats_pair_sources"), key=lambda r: (r[0], r[1] is None, r[1]))
    if preference := {source: int(n) for config, source, n in pair_sources if config == "preference"}:
        stats["pair_sources"] = preference
        stats["chosen_longer_share"] = {
            source: round(float(share), 4)
            for source, share in sorted(
                _table(con, "stats_chosen_longer"), key=lambda r: (r[0] is None, r[0])
            )
        }
    if improvement := {source: int(n) for config, source, n in pair_sources if config == "improvement"}:
        stats["improvement_sources"] = improvement
    if any(rows.get(("comments", split)) for split in SPLITS):
        subreddits = sorted(_table(con, "stats_subreddits"), key=lambda r: (-r[1], r[0] is None, r[0]))
        stats["subreddits"] = {name: int(n) for name, n in subreddits}
        ((sensitive, unlabeled, not_seeking),) = _table(con, "stats_comments")
        stats["sensitive_rows"] = sensitive
        stats["unlabeled_comments"] = unlabeled
        stats["comments_on_posts_not_seeking_support"] = not_seeking
    return stats


def confidence_distribution(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """`label_confidence` per label from `stats_confidence`: n, mean, quantiles and counts in CONFIDENCE_BINS
    (the last bin closed)."""
    result: dict[str, dict[str, Any]] = {}
    by_label = {row[0]: row[1:] for row in _table(con, "stats_confidence")}
    for value, name in ((1, "effective"), (0, "not_effective")):
        if value not in by_label or not by_label[value][0]:
            continue
        n, mean, *rest = by_label[value]
        quantiles, counts = rest[: len(QUANTILES)], rest[len(QUANTILES) :]
        result[name] = {
            "n": int(n),
            "mean": round(float(mean), 4),
            **{k: round(float(q), 4) for k, q in zip(QUANTILES, quantiles, strict=True)},
            "bins": {
                f"{lo:.1f}-{hi:.1f}": int(c)
                for (lo, hi), c in zip(pairwise(CONFIDENCE_BINS), counts, strict=True)
            },
        }
    return result


def format_stats(manifest: dict[str, Any], stats: dict[str, Any]) -> str:
    """A plain-text report of a folder's figures (the same figures the card embeds)."""
    lines = [
        f"{manifest.get('pretty_name', 'RedditESS')} {manifest.get('version', '?')} "
        f"(preset {manifest.get('preset', '?')}, label rule {manifest.get('label_rule_version', '?')})",
        "",
    ]
    lines.append(f"{'config':<20}" + "".join(f"{s:>12}" for s in SPLITS))
    for config, splits in stats["rows"].items():
        lines.append(f"{config:<20}" + "".join(f"{splits.get(s, 0):>12,}" for s in SPLITS))
    empty = [f"{c}/{s}" for c, v in manifest.get("configs", {}).items() for s in v.get("empty_splits", [])]
    if empty:
        lines.append(f"empty splits (left out of the card's configs): {', '.join(empty)}")
    lines += ["", "label balance (effective_support):"]
    for split, counts in stats["label_balance"].items():
        total = counts["effective"] + counts["not_effective"]
        share = counts["effective"] / total if total else 0.0
        lines.append(
            f"  {split:<12} effective {counts['effective']:>8,}  not_effective {counts['not_effective']:>8,}"
            f"  ({share:.1%} effective)"
        )
    for name, dist in stats.get("label_confidence", {}).items():
        lines.append(
            f"  label_confidence {name:<14} mean {dist['mean']:.2f}  p10 {dist['p10']:.2f}  median "
            f"{dist['median']:.2f}  p90 {dist['p90']:.2f}  bins {dist['bins']}"
        )
    lines += ["", "rows per post:"]
    for config, figures in stats["pairs_per_post"].items():
        lines.append(
            f"  {config:<12} mean {figures['mean']:.2f}  max {figures['max']}  posts {figures['posts']:,}"
        )
    if stats.get("pair_sources"):
        lines.append(f"  preference pair sources: {stats['pair_sources']}")
    if stats.get("chosen_longer_share"):
        shares = ", ".join(f"{k} {v:.1%}" for k, v in stats["chosen_longer_share"].items())
        lines.append(f"  preference pairs whose chosen reply is longer: {shares}")
    if stats.get("improvement_sources"):
        lines.append(f"  improvement pair sources: {stats['improvement_sources']}")
    lines += ["", "subreddits (comments config):"]
    for name, count in list(stats.get("subreddits", {}).items())[:20]:
        lines.append(f"  r/{name:<24} {count:>10,}")
    lines.append(
        f"sensitive rows: {stats.get('sensitive_rows', 0):,}   unlabeled comments: {stats.get('unlabeled_comments', 0):,}"
        f" (on posts not seeking support: {stats.get('comments_on_posts_not_seeking_support', 0):,})"
    )
    for kind, reasons in manifest.get("drops", {}).items():
        lines += ["", f"{kind} exclusions:"]
        lines += [f"  {reason:<24} {count:>10,}" for reason, count in reasons.items()]
    training = manifest.get("training_rows", {})
    for config, reasons in training.get("drops", {}).items():
        if reasons:
            lines += ["", f"{config} candidates (kept or the rule that removed them):"]
            lines += [f"  {reason:<28} {count:>10,}" for reason, count in reasons.items()]
    if training.get("similarity_method"):
        lines.append(
            f"improvement intent check: {training['similarity_method']} similarity >= {training['min_similarity']}"
        )
    rejected = manifest.get("rejected", {})
    lines += ["", f"rejected input records: {rejected.get('count', 0):,} {rejected.get('by_reason', {})}"]
    return "\n".join(lines)
