"""`python -m eval pair-audit export|ingest`: do the training pairs point the way they claim?

Same form and machinery as the label audit (`eval.audit`), for the pair configs:

- `preference`: raters see the post and both replies, blinded and in a seeded random order (A / B), and
  answer "which reply is the better supportive reply for this post?": A, B, same or not_comparable.
- `improvement`: raters see the post, the draft (A) and the revision (B) and answer "does B say what A
  says?" (same_intent yes/no) and "is B better?" (better yes/no).

Export samples up to `--n_per_source` pairs per `pair_source`, spread over as many posts as possible (one pair
per post first). Ingest takes each pair's strict rater majority and reports, by `pair_source` and overall,
the share of pairs whose majority agrees with the pair's direction (`chosen` better; for improvement:
revision-like and better), with the other outcomes (rejected better, same, not comparable, no majority)
reported separately, each with a 95% percentile interval from a bootstrap over posts.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
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
    majority,
    read_key,
    read_sheets,
    share_with_interval,
    sheet_fingerprints,
    write_rater_material,
)
from eval.data import split_improve_turn
from eval.io import write_json, write_text
from eval.runtime import RuntimeArguments
from eval.versions import provenance

logger = logging.getLogger(__name__)
KIND = "pair-audit"
CONFIGS = ("preference", "improvement")
NO_SOURCE = "unspecified"  # pair_source of configs built without the column
BETTER = Question(
    name="better",
    prompt="Which reply is the better supportive reply for this post?",
    options=(
        ("A", "reply A is clearly the better supportive reply"),
        ("B", "reply B is clearly the better supportive reply"),
        ("same", "about equally good (or equally poor)"),
        (
            "not_comparable",
            "they cannot be compared (e.g. one is not a reply to the post, or both are off-topic)",
        ),
    ),
)
SAME_INTENT = Question(
    name="same_intent",
    prompt="Does B say what A says (the same intent and main content, possibly expanded or reworded)?",
    options=(("yes", "B keeps A's intent and content"), ("no", "B says something else")),
)
IMPROVED = Question(
    name="better",
    prompt="Is B a better supportive reply to the post than A?",
    options=(("yes", "B is better"), ("no", "B is the same or worse")),
)
QUESTIONS = {"preference": [BETTER], "improvement": [SAME_INTENT, IMPROVED]}
BLOCKS = {
    "preference": (Block("post", "Post"), Block("reply_a", "Reply A"), Block("reply_b", "Reply B")),
    "improvement": (Block("post", "Post"), Block("reply_a", "A (draft)"), Block("reply_b", "B (revision)")),
}
INTRO = {
    "preference": """Pair audit: which of two replies is the better supportive reply?

Each item shows a post from an online mental-health community and two replies to it (A and B, in random order).
Judge which reply better supports the person who wrote the post: empathy, validation, information or practical
help that fits this post. Length, humor or popularity are not support in themselves.
""",
    "improvement": """Pair audit: is B a revision of A, and is it better?

Each item shows a post from an online mental-health community, a reply A and a reply B. Answer two questions:
does B say what A says (same intent and main content, possibly expanded or reworded), and is B a better
supportive reply to the post than A?
""",
}
TARGETS = {  # issue 16's targets, shown in the report beside the measured shares
    "votes": "chosen better >= 65%, rejected better <= 15%",
    "label": "chosen better >= 75%",
    "improvement": "revision-like and better >= 50%",
}


@dataclass
class PairAuditExportArguments(RuntimeArguments):
    """Export a blinded sample of preference or improvement pairs for raters."""

    dataset: str = field(metadata={"help": "A RedditESS folder."})
    config: str = field(metadata={"help": "preference or improvement."})
    raters: list[str] = field(
        metadata={"help": "Rater ids (pseudonyms); sheets from anyone else are rejected."}
    )
    output_dir: str = field(
        metadata={"help": "Receives for_raters/ (sheets/<rater>.csv, form.html, README.txt) and key.json."}
    )
    n_per_source: int = field(default=40, metadata={"help": "Pairs per pair_source, at most."})
    pair_sources: list[str] | None = field(
        default=None, metadata={"help": "Audit only these pair sources (default: all in the config)."}
    )
    splits: list[str] | None = field(default=None, metadata={"help": "Splits to sample (default: all)."})
    seed: int = field(default=0)
    overwrite: bool = field(default=False, metadata={"help": "Replace a non-empty --output_dir."})


@dataclass
class PairAuditIngestArguments(AuditIngestArguments):
    """Score filled pair-audit sheets against the pairs' direction."""


# ---------------------------------------------------------------------------------------------- export


def sample_pairs(rows: list[dict[str, Any]], n_per_source: int, seed: int) -> list[dict[str, Any]]:
    """Up to `n_per_source` rows per pair_source, seeded, one pair per post before any post gets a second."""
    rng = random.Random(seed)
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_source[row.get("pair_source") or NO_SOURCE].append(row)
    chosen = []
    for source in sorted(by_source):
        pool = by_source[source]
        rng.shuffle(pool)
        rank: dict[str, int] = defaultdict(int)
        ranked = []
        for row in pool:
            ranked.append((rank[str(row["post_id"])], len(ranked), row))
            rank[str(row["post_id"])] += 1
        chosen += [row for _, _, row in sorted(ranked, key=lambda t: t[:2])[:n_per_source]]
    return chosen


def _text(messages: list[dict[str, str]] | None, role: str) -> str:
    texts = [m["content"] for m in messages or [] if m.get("role") == role]
    return texts[-1] if texts else ""


def run_export(args: PairAuditExportArguments) -> Path:
    """Write the blinded pairs and the key; return the output folder."""
    if args.config not in CONFIGS:
        raise ValueError(f"--config must be one of {CONFIGS}, got {args.config!r}")
    if args.n_per_source < 1:
        raise ValueError("--n_per_source must be >= 1")
    raters = check_raters(args.raters)
    rows = load_rows(args.dataset, args.config, args.splits)
    sources = sorted({r.get("pair_source") or NO_SOURCE for r in rows})
    if args.pair_sources:
        unknown = sorted(set(args.pair_sources) - set(sources))
        if unknown:
            raise ValueError(
                f"{args.dataset} [{args.config}]: no pairs with pair_source {unknown} (has {sources})"
            )
        rows = [r for r in rows if (r.get("pair_source") or NO_SOURCE) in args.pair_sources]
    sample = sample_pairs(rows, args.n_per_source, args.seed)
    id_a, id_b = ("chosen_id", "rejected_id") if args.config == "preference" else ("draft_id", "revision_id")
    export_id = export_id_for(KIND, args.config, args.seed, *sorted(f"{r[id_a]}>{r[id_b]}" for r in sample))
    rng = random.Random(f"{args.seed}|sides")
    rng.shuffle(sample)
    groups: dict[str, str] = {}
    key_items: dict[str, dict[str, Any]] = {}
    items: list[dict[str, Any]] = []
    for n, row in enumerate(sample, 1):
        item_id = f"{export_id}-{n:04d}"
        group = groups.setdefault(str(row["post_id"]), f"P{len(groups) + 1:03d}")
        user = _text(row["prompt"], "user")
        chosen, rejected = _text(row["chosen"], "assistant"), _text(row["rejected"], "assistant")
        meta: dict[str, Any] = {
            "post_id": str(row["post_id"]),
            "split": row["split"],
            "group": group,
            "pair_source": row.get("pair_source") or NO_SOURCE,
        }
        if args.config == "preference":
            a_is_chosen = rng.random() < 0.5
            meta |= {"chosen_id": row["chosen_id"], "rejected_id": row["rejected_id"]}
            meta["sides"] = (
                {"A": "chosen", "B": "rejected"} if a_is_chosen else {"A": "rejected", "B": "chosen"}
            )
            post, reply_a, reply_b = user, *((chosen, rejected) if a_is_chosen else (rejected, chosen))
        else:  # improvement: A is the draft (rejected), B the revision (chosen), as the question asks
            meta |= {
                "draft_id": row["draft_id"],
                "revision_id": row["revision_id"],
                "similarity": row.get("similarity"),
            }
            post, reply_a, reply_b = split_improve_turn(user)[0], rejected, chosen
        key_items[item_id] = meta
        items.append(
            {"item_id": item_id, "group": group, "post": post, "reply_a": reply_a, "reply_b": reply_b}
        )
    counts = defaultdict(int)
    for meta in key_items.values():
        counts[meta["pair_source"]] += 1
    key = {
        "kind": KIND,
        "config": args.config,
        "export_id": export_id,
        "raters": raters,
        "questions": {q.name: dict(q.options) for q in QUESTIONS[args.config]},
        "seed": args.seed,
        "sampling": {
            "n_per_source": args.n_per_source,
            "pairs_by_source": dict(sorted(counts.items())),
            "population_by_source": {
                s: sum((r.get("pair_source") or NO_SOURCE) == s for r in rows) for s in sources
            },
            "n_posts": len(groups),
            "splits": sorted({r["split"] for r in rows}),
        },
        "items": key_items,
        "provenance": provenance(dataset=dataset_version(args.dataset)),
    }
    with atomic_dir(args.output_dir, overwrite=args.overwrite) as tmp:
        write_rater_material(
            tmp,
            export_id=export_id,
            title=f"RedditESS pair audit ({args.config})",
            instructions=instructions_text(INTRO[args.config], QUESTIONS[args.config]),
            raters=raters,
            items=items,
            blocks=BLOCKS[args.config],
            questions=QUESTIONS[args.config],
            seed=args.seed,
        )
        write_json(tmp / KEY_FILE, key)
    out = Path(args.output_dir)
    logger.info(
        "exported %d %s pairs (%s) from %d posts for %d raters: send %s to raters, keep %s",
        len(items),
        args.config,
        dict(counts),
        len(groups),
        len(raters),
        out / RATER_DIR,
        out / KEY_FILE,
    )
    return out


# ---------------------------------------------------------------------------------------------- ingest

PREFERENCE_OUTCOMES = ("chosen_better", "rejected_better", "same", "not_comparable", "no_majority")
IMPROVEMENT_OUTCOMES = ("revision_like_and_better", "revision_like", "better", "no_majority")


def item_outcomes(config: str, meta: dict[str, Any], answers: dict[str, dict[str, str]]) -> dict[str, bool]:
    """One pair's outcomes from its raters' answers (strict majority; None = no majority)."""
    if config == "preference":
        verdicts = []
        for a in answers.values():
            v = a[BETTER.name]
            verdicts.append(f"{meta['sides'][v]}_better" if v in ("A", "B") else v)
        m = majority(verdicts)
        return {o: (m == o if o != "no_majority" else m is None) for o in PREFERENCE_OUTCOMES}
    intent = majority([a[SAME_INTENT.name] for a in answers.values()])
    better = majority([a[IMPROVED.name] for a in answers.values()])
    return {
        "revision_like_and_better": intent == "yes" and better == "yes",
        "revision_like": intent == "yes",
        "better": better == "yes",
        "no_majority": intent is None or better is None,
    }


def _categories(config: str, meta: dict[str, Any], answer: dict[str, str]) -> dict[str, str]:
    """A rater's answers as categories comparable across items (A/B mapped to chosen/rejected)."""
    if config == "preference":
        v = answer[BETTER.name]
        return {BETTER.name: meta["sides"][v] if v in ("A", "B") else v}
    return dict(answer)


def run_ingest(args: PairAuditIngestArguments) -> dict[str, Any]:
    """Validate sheets, compute agreement with the pairs' direction by pair_source; write metrics and report."""
    key = read_key(args.key, KIND)
    config = key["config"]
    questions = QUESTIONS[config]
    answers = read_sheets(args.sheets, key, questions)
    raters = [r for r in key["raters"] if any(r in a for a in answers.values())]
    item_ids = sorted(answers)
    meta = [key["items"][i] for i in item_ids]
    posts = [m["post_id"] for m in meta]
    sources = np.array([m["pair_source"] for m in meta])
    outcomes_names = PREFERENCE_OUTCOMES if config == "preference" else IMPROVEMENT_OUTCOMES
    outcomes = [item_outcomes(config, m, answers[i]) for i, m in zip(item_ids, meta, strict=True)]
    agreement_outcome = "chosen_better" if config == "preference" else "revision_like_and_better"
    boot = {"n_resamples": args.n_resamples, "seed": args.seed}

    def summary(mask: np.ndarray) -> dict[str, Any]:
        idx = np.flatnonzero(mask)
        clusters = [posts[i] for i in idx]
        shares = {
            o: share_with_interval([outcomes[i][o] for i in idx], clusters, **boot) for o in outcomes_names
        }
        return {
            "n": int(idx.size),
            "n_posts": len(set(clusters)),
            "agreement": shares[agreement_outcome],
            **shares,
        }

    kappa: dict[str, Any] = {}
    if len(raters) >= 2:
        for q in questions:
            cats = [
                [_categories(config, m, answers[i][r])[q.name] for r in raters]
                for i, m in zip(item_ids, meta, strict=True)
            ]
            values = sorted({c for row in cats for c in row})
            codes = np.array([[values.index(c) for c in row] for row in cats])
            kappa[q.name] = {
                **fleiss_kappa_with_interval(codes, len(values), posts, **boot),
                "categories": values,
            }
    metrics = {
        "config": config,
        "agreement_means": agreement_outcome,
        "by_pair_source": {s: summary(sources == s) for s in sorted(set(sources))},
        "overall": summary(np.ones(len(item_ids), dtype=bool)),
        "fleiss_kappa": kappa,
        "n_items": len(item_ids),
        "n_posts": len(set(posts)),
        "raters": raters,
        "raters_without_sheet": [r for r in key["raters"] if r not in raters],
        "method": {
            "outcome": "each pair's strict rater majority (no majority: reported as no_majority, never as "
            "agreement); preference answers A/B are mapped back to chosen/rejected with the key",
            "ci": f"95% percentile bootstrap over posts ({args.n_resamples} resamples, seed {args.seed})",
            "fleiss_kappa": "statsmodels.stats.inter_rater.fleiss_kappa per question (A/B mapped to "
            "chosen/rejected)",
        },
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
        "pair audit (%s): %d pairs, %d raters, agreement %s",
        config,
        len(item_ids),
        len(raters),
        fmt_share(metrics["overall"]["agreement"]),
    )
    return metrics


def render_report(metrics: dict[str, Any], key: dict[str, Any]) -> str:
    """A short Markdown report: outcome shares by pair_source with their intervals, beside issue 16's targets."""
    config = metrics["config"]
    names = PREFERENCE_OUTCOMES if config == "preference" else IMPROVEMENT_OUTCOMES
    lines = [
        f"# Pair audit: `{config}`",
        "",
        f"{metrics['n_items']} pairs from {metrics['n_posts']} posts, judged by {len(metrics['raters'])} rater(s) "
        f"({', '.join(metrics['raters'])}); dataset version "
        f"{(key['provenance'].get('dataset') or {}).get('version')}, export {key['export_id']}. Each pair's "
        "outcome is its raters' strict majority; 95% intervals: percentile bootstrap over posts.",
        "",
        "| pair_source | " + " | ".join(names) + " | target |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    rows = [*metrics["by_pair_source"].items(), ("all sources", metrics["overall"])]
    for source, entry in rows:
        target = TARGETS.get("improvement" if config == "improvement" else source, "")
        lines.append(f"| {source} | " + " | ".join(fmt_share(entry[o]) for o in names) + f" | {target} |")
    if metrics["fleiss_kappa"]:
        lines += [
            "",
            "Inter-rater agreement (Fleiss' kappa): "
            + "; ".join(
                f"{q}: "
                + ("–" if k["value"] is None else f"{k['value']:.2f}")
                + (f" [{k['ci_low']:.2f}, {k['ci_high']:.2f}]" if k.get("ci_low") is not None else "")
                for q, k in metrics["fleiss_kappa"].items()
            )
            + ".",
        ]
    lines += [
        "",
        "The all-sources row weighs each source by its number of sampled pairs (up to "
        f"{key['sampling']['n_per_source']} each), not by its share of the config "
        f"({key['sampling']['population_by_source']}).",
        "Targets are the kit's (issue 16); the RedditESS and LLUMI papers publish no pair audit to compare with.",
        "",
    ]
    return "\n".join(lines)
