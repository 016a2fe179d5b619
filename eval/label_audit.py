"""`python -m eval label-audit export|ingest`: check the `effective` label against careful human reading.

The RedditESS paper validated its label by having experts rate 564 comments from 141 posts on a 1-4 scale
(Fleiss' kappa 0.42; 94.68% agreement with `effective`). This is the same procedure for any build:

- export samples posts and, in each, up to `--comments_per_post` labeled comments (`effective_support`),
  stratified by (`label`, `label_source`): every stratum gets its proportional share of the sample, and at
  least `--min_per_stratum` comments when it has them, so precision by label source can be estimated for
  rare sources too; posts with at least that many labeled comments are taken first (the key keeps each stratum's population and sample counts, and ingest reports
  population-weighted agreement beside the plain share). Raters see the post, the comment and, in a
  separate field, the OP's replies to it; never the label, its source or any signal.
- ingest computes Fleiss' kappa on the 1-4 ratings (statsmodels), agreement with the label (share of
  `effective` comments whose raters' strict majority rates 3-4, of `not_effective` rated 1-2), precision by
  label source, each with a 95% percentile interval from a bootstrap over posts (comments of one post are
  not independent), and writes `metrics.json` and `report.md` setting them beside the paper's figures.
"""

from __future__ import annotations

import logging
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eval.audit import (
    KEY_FILE,
    RATER_DIR,
    AuditIngestArguments,
    Block,
    Question,
    atomic_dir,
    check_raters,
    dataset_version,
    export_id_for,
    fleiss_kappa_with_interval,
    fmt_share,
    instructions_text,
    load_rows,
    read_key,
    read_sheets,
    share_with_interval,
    sheet_fingerprints,
    write_rater_material,
)
from eval.io import write_json, write_text
from eval.runtime import RuntimeArguments
from eval.versions import provenance
from redditess_core.contract import LABEL_NAMES

logger = logging.getLogger(__name__)
KIND = "label-audit"
PAPER = {
    "source": "RedditESS (Alghamdi et al., arXiv 2503.21888)",
    "n_comments": 564,
    "n_posts": 141,
    "scale": [1, 4],
    "fleiss_kappa": 0.42,
    "agreement_effective": 0.9468,
}
RATING = Question(
    name="rating",
    prompt="How effective is this comment as support for the person who wrote the post?",
    options=(
        (
            "1",
            "Not effective: does not help or does harm (dismissive, mocking, off-topic, wrong or unsafe advice, "
            "or the poster rejects it as unhelpful).",
        ),
        (
            "2",
            "Somewhat ineffective: well meant but generic, misses what the poster needs, or the poster's reply "
            "shows it did not land.",
        ),
        (
            "3",
            "Somewhat effective: responds to the poster's situation with some empathy, validation, information "
            "or a coping idea that could help.",
        ),
        (
            "4",
            "Very effective: clearly meets the poster's need with specific empathy, guidance or practical help; "
            "the poster's reply, if any, shows it helped.",
        ),
    ),
)
BLOCKS = (
    Block("post", "Post"),
    Block("comment", "Comment (rate this one)"),
    Block("op_replies", "The poster's replies to this comment", "(the poster did not reply to this comment)"),
)
INTRO = """Label audit: how effective is each comment as support?

Items are grouped by post (items of one post share a group and follow each other). Each item shows the post,
one comment written in reply to it and, separately, the poster's (OP's) own replies to that comment, if any.
Read all three, then rate the comment on the 1-4 scale below. Judge the comment itself: whether it offers
empathy, validation, information or practical help that fits this post. The poster's replies are evidence of
how it landed; use them, but a polite "thanks" alone does not make a poor comment good.
"""


@dataclass
class LabelAuditExportArguments(RuntimeArguments):
    """Export a blinded, stratified sample of labeled comments for raters."""

    dataset: str = field(metadata={"help": "A RedditESS folder (the `effective_support` config is sampled)."})
    raters: list[str] = field(
        metadata={"help": "Rater ids (pseudonyms); sheets from anyone else are rejected."}
    )
    output_dir: str = field(
        metadata={"help": "Receives for_raters/ (sheets/<rater>.csv, form.html, README.txt) and key.json."}
    )
    n_posts: int = field(default=141, metadata={"help": "Posts to sample (the paper: 141)."})
    comments_per_post: int = field(
        default=4, metadata={"help": "Labeled comments per post, at most (the paper: 564 / 141 = 4)."}
    )
    min_per_stratum: int = field(
        default=5,
        metadata={"help": "Comments of each (label, label_source) stratum at least, when it has that many."},
    )
    prefer_full_posts: bool = field(
        default=True,
        metadata={"help": "Sample posts with at least --comments_per_post labeled comments first."},
    )
    splits: list[str] | None = field(default=None, metadata={"help": "Splits to sample (default: all)."})
    seed: int = field(default=0)
    overwrite: bool = field(default=False, metadata={"help": "Replace a non-empty --output_dir."})


@dataclass
class LabelAuditIngestArguments(AuditIngestArguments):
    """Score filled label-audit sheets against the label."""


# ---------------------------------------------------------------------------------------------- export


def stratum_of(row: dict[str, Any]) -> str:
    """`label/label_source`, the sampling stratum of a labeled comment."""
    return f"{row['label']}/{row.get('label_source') or 'unknown'}"


def stratum_targets(population: dict[str, int], total: int, min_per_stratum: int) -> dict[str, int]:
    """Comments to draw per stratum: proportional to its size (largest remainders), raised to
    `min_per_stratum` (or the whole stratum when it is smaller); the floor is taken from the largest strata.
    """
    floors = {s: min(n, min_per_stratum) for s, n in population.items()}
    total = min(total, sum(population.values()))
    rest = max(0, total - sum(floors.values()))
    spare = {s: population[s] - floors[s] for s in population}
    n_spare = sum(spare.values())
    if n_spare == 0 or rest == 0:
        return floors
    quotas = {s: rest * spare[s] / n_spare for s in population}
    targets = {s: floors[s] + math.floor(q) for s, q in quotas.items()}
    left = total - sum(targets.values())
    for s in sorted(quotas, key=lambda s: (-(quotas[s] - math.floor(quotas[s])), s))[:left]:
        targets[s] += 1
    return targets


def sample_comments(
    rows: list[dict[str, Any]],
    n_posts: int,
    per_post: int,
    min_per_stratum: int,
    seed: int,
    prefer_full_posts: bool = True,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
    """Choose posts and, in each, up to `per_post` comments so that strata meet their targets.

    Greedy and seeded: repeatedly take the stratum most in need (first any stratum still below its floor
    `min(min_per_stratum, population)`, then the one furthest below its target, relatively), take the next
    post (in a seeded random order) that has a comment of it, and fill that post's slots with its comments of
    the strata most in need. With `prefer_full_posts`, posts with at least `per_post` labeled comments come
    first in that order (the paper's 4 comments per post), smaller ones only when a stratum has no comment
    left in a full post. Returns the chosen rows and per stratum {"population", "target", "sample"}.
    """
    rng = random.Random(seed)
    by_post: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_post[str(row["post_id"])].append(row)
    posts = sorted(by_post)
    rng.shuffle(posts)
    for pid in posts:
        rng.shuffle(by_post[pid])
    if prefer_full_posts:
        posts.sort(key=lambda p: len(by_post[p]) < per_post)  # stable: random order within each part
    population = Counter(stratum_of(r) for r in rows)
    n_posts = min(n_posts, len(posts))
    targets = stratum_targets(dict(population), n_posts * per_post, min_per_stratum)
    floors = {s: min(min_per_stratum, n) for s, n in population.items()}
    taken: Counter[str] = Counter()
    chosen_posts: set[str] = set()
    chosen: list[dict[str, Any]] = []
    posts_with: dict[str, list[str]] = defaultdict(list)
    for pid in posts:
        for s in dict.fromkeys(stratum_of(r) for r in by_post[pid]):
            posts_with[s].append(pid)
    cursor: dict[str, int] = defaultdict(int)  # posts_with[s][:cursor[s]] are all chosen already

    def need(s: str) -> tuple[bool, float]:
        return (taken[s] < floors[s], (targets[s] - taken[s]) / max(targets[s], 1))

    def next_post(s: str) -> str | None:
        candidates = posts_with[s]
        while cursor[s] < len(candidates) and candidates[cursor[s]] in chosen_posts:
            cursor[s] += 1
        return candidates[cursor[s]] if cursor[s] < len(candidates) else None

    while len(chosen_posts) < n_posts:
        open_strata = [s for s in targets if taken[s] < targets[s] and next_post(s) is not None]
        if open_strata:
            pid = next_post(max(open_strata, key=lambda s: (need(s), s)))
        else:
            pid = next(p for p in posts if p not in chosen_posts)
        chosen_posts.add(pid)
        pool = list(by_post[pid])
        for _ in range(min(per_post, len(pool))):
            best = max(range(len(pool)), key=lambda i: (need(stratum_of(pool[i])), -i))
            row = pool.pop(best)
            taken[stratum_of(row)] += 1
            chosen.append(row)
    strata = {
        s: {"population": population[s], "target": targets[s], "sample": taken[s]} for s in sorted(population)
    }
    return chosen, strata


def _post_text(row: dict[str, Any]) -> str:
    title, text = (row.get("post_title") or "").strip(), (row.get("post_text") or "").strip()
    return f"{title}\n\n{text}" if title and text else title or text


def run_export(args: LabelAuditExportArguments) -> Path:
    """Write the blinded sample and the key; return the output folder."""
    raters = check_raters(args.raters)
    if args.n_posts < 1 or args.comments_per_post < 1 or args.min_per_stratum < 0:
        raise ValueError("--n_posts and --comments_per_post must be >= 1, --min_per_stratum >= 0")
    rows = [
        r for r in load_rows(args.dataset, "effective_support", args.splits) if r.get("label") is not None
    ]
    missing = {"post_id", "comment_id", "comment_text", "label"} - set(rows[0]) if rows else set()
    if not rows:
        raise ValueError(f"{args.dataset} [effective_support]: no labeled comments")
    if missing:
        raise ValueError(f"{args.dataset} [effective_support]: missing column(s) {sorted(missing)}")
    bad = sorted({str(r["label"]) for r in rows} - set(LABEL_NAMES))
    if bad:
        raise ValueError(f"{args.dataset} [effective_support]: labels {bad} are not {LABEL_NAMES}")
    n_posts_available = len({r["post_id"] for r in rows})
    if n_posts_available < args.n_posts:
        logger.warning(
            "only %d posts have labeled comments; sampling all of them (asked for %d)",
            n_posts_available,
            args.n_posts,
        )
    sample, strata = sample_comments(
        rows, args.n_posts, args.comments_per_post, args.min_per_stratum, args.seed
    )
    export_id = export_id_for(KIND, args.seed, *sorted(str(r["comment_id"]) for r in sample))
    groups: dict[str, str] = {}
    key_items: dict[str, dict[str, Any]] = {}
    items: list[dict[str, Any]] = []
    rng = random.Random(f"{args.seed}|ids")
    rng.shuffle(sample)  # item numbers say nothing about the stratum or the sampling order
    for n, row in enumerate(sample, 1):
        item_id = f"{export_id}-{n:04d}"
        group = groups.setdefault(str(row["post_id"]), f"P{len(groups) + 1:03d}")
        stratum = stratum_of(row)
        key_items[item_id] = {
            "post_id": str(row["post_id"]),
            "comment_id": str(row["comment_id"]),
            "split": row["split"],
            "group": group,
            "label": row["label"],
            "label_source": row.get("label_source") or "unknown",
            "label_confidence": row.get("label_confidence"),
            "stratum": stratum,
            "weight": strata[stratum]["population"] / strata[stratum]["sample"],
        }
        items.append(
            {
                "item_id": item_id,
                "group": group,
                "post": _post_text(row),
                "comment": row["comment_text"] or "",
                "op_replies": row.get("op_reply_text") or "",
            }
        )
    key = {
        "kind": KIND,
        "export_id": export_id,
        "raters": raters,
        "question": RATING.name,
        "scale": [1, 4],
        "anchors": dict(RATING.options),
        "seed": args.seed,
        "sampling": {
            "n_posts": len(groups),
            "n_comments": len(items),
            "comments_per_post": args.comments_per_post,
            "min_per_stratum": args.min_per_stratum,
            "prefer_full_posts": args.prefer_full_posts,
            "splits": sorted({r["split"] for r in rows}),
            "strata": strata,
        },
        "items": key_items,
        "provenance": provenance(dataset=dataset_version(args.dataset)),
    }
    with atomic_dir(args.output_dir, overwrite=args.overwrite) as tmp:
        write_rater_material(
            tmp,
            export_id=export_id,
            title="RedditESS label audit",
            instructions=instructions_text(INTRO, [RATING]),
            raters=raters,
            items=items,
            blocks=BLOCKS,
            questions=[RATING],
            seed=args.seed,
        )
        write_json(tmp / KEY_FILE, key)
    out = Path(args.output_dir)
    logger.info(
        "exported %d comments from %d posts for %d raters: send %s to raters, keep %s",
        len(items),
        len(groups),
        len(raters),
        out / RATER_DIR,
        out / KEY_FILE,
    )
    return out


# ---------------------------------------------------------------------------------------------- ingest


def run_ingest(args: LabelAuditIngestArguments) -> dict[str, Any]:
    """Validate sheets, compute kappa and agreement with CIs; write metrics.json and report.md."""
    key = read_key(args.key, KIND)
    answers = read_sheets(args.sheets, key, [RATING])
    raters = [r for r in key["raters"] if any(r in a for a in answers.values())]
    item_ids = sorted(answers)
    meta = [key["items"][i] for i in item_ids]
    posts = [m["post_id"] for m in meta]
    ratings = np.array([[int(answers[i][r][RATING.name]) for r in raters] for i in item_ids])
    n_raters = len(raters)

    def agrees(row: np.ndarray, label: str) -> bool:
        high = int((row >= 3).sum())
        return 2 * high > n_raters if label == "effective" else 2 * (n_raters - high) > n_raters

    hits = np.array([agrees(ratings[k], m["label"]) for k, m in enumerate(meta)])
    no_majority = [2 * int((row >= 3).sum()) == n_raters for row in ratings]
    weights = np.array([m["weight"] for m in meta])
    boot = {"n_resamples": args.n_resamples, "seed": args.seed}

    def share(mask: np.ndarray) -> dict[str, Any]:
        idx = np.flatnonzero(mask)
        entry = share_with_interval(hits[idx], [posts[i] for i in idx], **boot)
        weighted = share_with_interval(hits[idx], [posts[i] for i in idx], weights=weights[idx], **boot)
        entry["population_weighted"] = {k: weighted[k] for k in ("value", "ci_low", "ci_high")}
        entry["no_majority"] = int(sum(no_majority[i] for i in idx))
        entry["mean_rating"] = float(ratings[idx].mean()) if idx.size else None
        return entry

    labels = np.array([m["label"] for m in meta])
    sources = np.array([m["label_source"] for m in meta])
    kappa: dict[str, Any] = {"value": None, "ci_low": None, "ci_high": None, "n_items": len(item_ids)}
    kappa_binary = dict(kappa)
    if n_raters >= 2:
        kappa = fleiss_kappa_with_interval(ratings - 1, 4, posts, **boot)
        kappa_binary = fleiss_kappa_with_interval((ratings >= 3).astype(int), 2, posts, **boot)
    kappa.update({"n_raters": n_raters, "categories": [1, 2, 3, 4]})
    kappa_binary.update({"n_raters": n_raters, "categories": ["1-2", "3-4"]})

    by_source: dict[str, Any] = {}
    for source in sorted(set(sources)):
        entry = share(sources == source)
        entry["by_label"] = {lab: share((sources == source) & (labels == lab)) for lab in LABEL_NAMES}
        by_source[source] = entry
    metrics = {
        "fleiss_kappa": kappa,
        "fleiss_kappa_binary": kappa_binary,
        "agreement_effective": share(labels == "effective"),
        "agreement_not_effective": share(labels == "not_effective"),
        "agreement": share(np.ones(len(item_ids), dtype=bool)),
        "by_label_source": by_source,
        "n_items": len(item_ids),
        "n_posts": len(set(posts)),
        "raters": raters,
        "raters_without_sheet": [r for r in key["raters"] if r not in raters],
        "rating_distribution": {str(v): int((ratings == v).sum()) for v in range(1, 5)},
        "method": {
            "agreement": "share of items whose raters' strict majority rates 3-4 (label effective) or 1-2 "
            "(not_effective); no majority (an even split) counts as disagreement",
            "population_weighted": "items weighted by stratum population / stratum sample size",
            "fleiss_kappa": "statsmodels.stats.inter_rater.fleiss_kappa on the 1-4 ratings (nominal); "
            "fleiss_kappa_binary on 1-2 vs 3-4",
            "ci": f"95% percentile bootstrap over posts ({args.n_resamples} resamples, seed {args.seed})",
        },
        "paper": PAPER,
        "provenance": provenance(
            export_id=key["export_id"],
            dataset=key["provenance"].get("dataset"),
            sheets=sheet_fingerprints(args.sheets),
        ),
    }
    with atomic_dir(args.output_dir, overwrite=True) as tmp:
        write_json(tmp / "metrics.json", metrics)
        write_text(tmp / "report.md", render_report(metrics, key))
    logger.info(
        "label audit: %d comments, %d raters, kappa %s, agreement with effective %s",
        len(item_ids),
        n_raters,
        "n/a" if kappa["value"] is None else f"{kappa['value']:.3f}",
        fmt_share(metrics["agreement_effective"]),
    )
    return metrics


def _fmt_kappa(entry: dict[str, Any]) -> str:
    if entry.get("value") is None:
        return "– (needs 2+ raters)"
    ci = f" [{entry['ci_low']:.2f}, {entry['ci_high']:.2f}]" if entry.get("ci_low") is not None else ""
    return f"{entry['value']:.2f}{ci}"


def render_report(metrics: dict[str, Any], key: dict[str, Any]) -> str:
    """A short Markdown report: the figures beside the paper's, and what differs from its procedure."""
    sampling = key["sampling"]
    lines = [
        "# Label audit",
        "",
        f"{metrics['n_items']} comments from {metrics['n_posts']} posts, rated 1-4 by {len(metrics['raters'])} "
        f"rater(s) ({', '.join(metrics['raters'])}); dataset version "
        f"{(key['provenance'].get('dataset') or {}).get('version')}, export {key['export_id']}. "
        "95% intervals: percentile bootstrap over posts.",
        "",
        "| | this audit | RedditESS paper |",
        "|---|---|---|",
        f"| Fleiss' kappa (1-4) | {_fmt_kappa(metrics['fleiss_kappa'])} | {PAPER['fleiss_kappa']} |",
        f"| agreement with `effective` (majority rates 3-4) | {fmt_share(metrics['agreement_effective'])} | "
        f"{100 * PAPER['agreement_effective']:.2f}% |",
        f"| agreement with `not_effective` (majority rates 1-2) | "
        f"{fmt_share(metrics['agreement_not_effective'])} | not reported |",
        f"| Fleiss' kappa (1-2 vs 3-4) | {_fmt_kappa(metrics['fleiss_kappa_binary'])} | not reported |",
        f"| comments / posts | {metrics['n_items']} / {metrics['n_posts']} | {PAPER['n_comments']} / "
        f"{PAPER['n_posts']} |",
        "",
        "## Precision by label source",
        "",
        "| label_source | all | effective | not_effective |",
        "|---|---|---|---|",
    ]
    for source, entry in metrics["by_label_source"].items():
        cells = [fmt_share(entry)] + [
            fmt_share(entry["by_label"][lab]) for lab in ("effective", "not_effective")
        ]
        lines.append(f"| {source} | " + " | ".join(cells) + " |")
    pw = metrics["agreement_effective"]["population_weighted"]
    lines += [
        "",
        "## Comparability",
        "",
        "Same procedure as the paper: human raters read post and comment, rate on a 1-4 scale, agreement is "
        "Fleiss' kappa and the share of `effective` comments rated effective. The figures are comparable in "
        "kind, with these differences:",
        "",
        f"- Raters: {len(metrics['raters'])} here; the paper's experts (their number and the aggregation rule "
        "are not restated in the kit's sources). Here a strict majority of raters decides; an even split counts "
        "as disagreement.",
        f"- Sample: stratified by `label` x `label_source` (at least {sampling['min_per_stratum']} per stratum, "
        f"up to {sampling['comments_per_post']} per post); population-weighted agreement with `effective`: "
        + (f"{100 * pw['value']:.1f}%." if pw.get("value") is not None else "n/a."),
        "- Data and rule: this build's label rule and communities, not the paper's dataset.",
        "- Raters also see the OP's replies to the comment (in a separate field).",
        "",
    ]
    return "\n".join(lines)
