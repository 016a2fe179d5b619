"""Figures of a built folder, read back from its parquet files: what `stats` prints and the card shows."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb

from dataset_builder.sql import one
from redditess_core.contract import CONFIG_NAMES, SPLITS


def _files(folder: Path, config: str, split: str | None = None) -> list[str]:
    pattern = f"{split}-*.parquet" if split else "*.parquet"
    return sorted(str(p) for p in (folder / "data" / config).glob(pattern))


def compute_stats(folder: Path) -> dict[str, Any]:
    con = duckdb.connect()
    stats: dict[str, Any] = {"rows": {}, "label_balance": {}, "pairs_per_post": {}, "pair_sources": {}}
    for config in CONFIG_NAMES:
        stats["rows"][config] = {}
        for split in SPLITS:
            files = _files(folder, config, split)
            stats["rows"][config][split] = (
                one(con, "SELECT count(*) FROM read_parquet(?)", [files])[0] if files else 0
            )
    for split in SPLITS:
        files = _files(folder, "effective_support", split)
        if files:
            counts = dict(
                con.execute("SELECT label, count(*) FROM read_parquet(?) GROUP BY 1", [files]).fetchall()
            )
            stats["label_balance"][split] = {"not_effective": counts.get(0, 0), "effective": counts.get(1, 0)}
    if files := _files(folder, "effective_support"):
        stats["label_confidence"] = confidence_distribution(con, files)
        stats["label_sources"] = dict(
            con.execute(
                "SELECT label_source || ' -> ' || CASE label WHEN 1 THEN 'effective' ELSE 'not_effective' END, "
                "count(*) FROM read_parquet(?) GROUP BY 1 ORDER BY 2 DESC, 1",
                [files],
            ).fetchall()
        )
    for config in ("preference", "improvement", "sft"):
        files = _files(folder, config)
        if files:
            mean, top, posts = one(
                con,
                "SELECT avg(n), max(n), count(*) FROM (SELECT post_id, count(*) n FROM read_parquet(?) GROUP BY 1)",
                [files],
            )
            stats["pairs_per_post"][config] = {
                "mean": round(float(mean), 3),
                "max": int(top),
                "posts": int(posts),
            }
    if files := _files(folder, "preference"):
        stats["pair_sources"] = dict(
            con.execute(
                "SELECT pair_source, count(*) FROM read_parquet(?) GROUP BY 1 ORDER BY 1", [files]
            ).fetchall()
        )
    if files := _files(folder, "preference"):
        # Share of pairs whose chosen reply is longer (characters): votes favour length or its opposite.
        stats["chosen_longer_share"] = {
            source: round(float(share), 4)
            for source, share in con.execute(
                "SELECT pair_source, avg((length(chosen[1].content) > length(rejected[1].content))::INT) "
                "FROM read_parquet(?) GROUP BY 1 ORDER BY 1",
                [files],
            ).fetchall()
        }
    if files := _files(folder, "improvement"):
        stats["improvement_sources"] = dict(
            con.execute(
                "SELECT pair_source, count(*) FROM read_parquet(?) GROUP BY 1 ORDER BY 1", [files]
            ).fetchall()
        )
    if files := _files(folder, "comments"):
        stats["subreddits"] = dict(
            con.execute(
                "SELECT subreddit, count(*) FROM read_parquet(?) GROUP BY 1 ORDER BY 2 DESC, 1", [files]
            ).fetchall()
        )
        (
            stats["sensitive_rows"],
            stats["unlabeled_comments"],
            stats["comments_on_posts_not_seeking_support"],
        ) = one(
            con,
            "SELECT count(*) FILTER (WHERE is_sensitive), count(*) FILTER (WHERE label IS NULL), "
            "count(*) FILTER (WHERE NOT seeks_support) FROM read_parquet(?)",
            [files],
        )
    return stats


CONFIDENCE_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def confidence_distribution(con: duckdb.DuckDBPyConnection, files: list[str]) -> dict[str, dict[str, Any]]:
    """`label_confidence` per label: n, mean, quantiles and counts in CONFIDENCE_BINS (the last bin closed)."""
    result: dict[str, dict[str, Any]] = {}
    edges = CONFIDENCE_BINS
    bins = ", ".join(
        f"count(*) FILTER (WHERE label_confidence >= {lo} AND label_confidence "
        f"{'<=' if hi == edges[-1] else '<'} {hi})"
        for lo, hi in pairwise(edges)
    )
    for value, name in ((1, "effective"), (0, "not_effective")):
        row = one(
            con,
            "SELECT count(*), avg(label_confidence), "
            "quantile_cont(label_confidence, [0.1, 0.25, 0.5, 0.75, 0.9]), "
            f"{bins} FROM read_parquet(?) WHERE label = ?",
            [files, value],
        )
        n, mean, quantiles, counts = row[0], row[1], row[2], row[3:]
        if not n:
            continue
        result[name] = {
            "n": int(n),
            "mean": round(float(mean), 4),
            **{
                k: round(float(q), 4)
                for k, q in zip(("p10", "p25", "median", "p75", "p90"), quantiles, strict=True)
            },
            "bins": {
                f"{lo:.1f}-{hi:.1f}": int(c) for (lo, hi), c in zip(pairwise(edges), counts, strict=True)
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
