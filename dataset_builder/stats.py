"""Figures of a built folder, read back from its parquet files: what `stats` prints and the card shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from dataset_builder.config import CONFIG_NAMES, SPLITS
from dataset_builder.sql import one


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
        stats["sensitive_rows"], stats["unlabeled_comments"] = one(
            con,
            "SELECT count(*) FILTER (WHERE is_sensitive), count(*) FILTER (WHERE label IS NULL) FROM read_parquet(?)",
            [files],
        )
    return stats


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
