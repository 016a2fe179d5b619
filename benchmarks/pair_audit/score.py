"""Score a build's training rows (``preference``, ``improvement``, ``sft``) against the committed pair-audit judgments.

The judgments (``judgments.csv``, ``sft_judgments.csv``; see ``guideline.md``) come from ONE careful reader who
judged blinded samples (``python -m eval pair-audit export`` for pairs, ``sample_sft.py`` for ``sft`` rows). They
are keyed by hashed comment ids, ``sha256("redditess-audit:" + reddit_id)[:16]`` (the label audit's keys), so a
verdict holds for any build that pairs the same two comments:

* ``preference`` judgments name the *unordered* pair (``comment_1`` < ``comment_2``) and the comment the reader
  judged the better supportive reply (or ``same`` / ``not_comparable``). For each of the build's pairs that was
  judged, the outcome is ``chosen_better``, ``rejected_better``, ``same`` or ``not_comparable``.
* ``improvement`` judgments are directional (``comment_1`` = draft A, ``comment_2`` = revision B): ``same_intent``
  (yes/no) and ``better`` (the revision's key when B is the better reply, else ``not_better``). A build pair in
  the judged direction is ``revision_like_and_better`` when both hold; pairs judged in the other direction only
  are counted, not scored.
* ``sft`` judgments give each reply ``yes`` / ``partly`` / ``no`` (a good supportive reply to its post?).

For every figure: the share, n, the number of posts and a 95% percentile bootstrap CI over posts
(``eval.stats.bootstrap_over_clusters``: rows of one post are resampled together), by ``pair_source`` and over
all sources, with issue 16's targets beside them (votes: chosen better >= 65% and rejected better <= 15%;
label: chosen better >= 75%; improvement: revision-like and better >= 50%; sft: good >= 70%).

A judged pair counts for a build only if the build holds it; the build's judged pairs are a random sample of
the build's pairs only when the judgments were drawn from that build (``--samples`` keeps the draws made on it).

The build must keep raw Reddit ids in ``post_id`` / ``chosen_id`` / ``rejected_id`` / ``draft_id`` /
``revision_id`` / ``comment_id``. A build in which no judged row is found is an error.

Usage (score an existing build, or build a dump into a temporary folder first, as ``make bench`` does)::

    python benchmarks/pair_audit/score.py --input ../shared/data/reddit-college --output bench-output/pair_audit.json
    python benchmarks/pair_audit/score.py --dataset /tmp/rc-16 --samples i16-preference i16-improvement i16-sft \
        --output /tmp/pair_audit_i16.json
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the kit's root, for eval.stats when run as a script
from eval.io import write_json  # noqa: E402
from eval.stats import bootstrap_over_clusters  # noqa: E402

PAIR_COLUMNS = ["sample", "kind", "post", "comment_1", "comment_2", "better", "same_intent", "reason"]
SFT_COLUMNS = ["sample", "item", "post", "good", "reason"]
PREFERENCE_OUTCOMES = ("chosen_better", "rejected_better", "same", "not_comparable")
IMPROVEMENT_OUTCOMES = ("revision_like_and_better", "revision_like", "better")
SFT_OUTCOMES = ("yes", "partly", "no")
ALL_SOURCES = "all sources"
TARGETS = {
    ("preference", "votes", "chosen_better"): (">=", 0.65),
    ("preference", "votes", "rejected_better"): ("<=", 0.15),
    ("preference", "label", "chosen_better"): (">=", 0.75),
    ("improvement", ALL_SOURCES, "revision_like_and_better"): (">=", 0.50),
    ("sft", ALL_SOURCES, "yes"): (">=", 0.70),
}

logger = logging.getLogger(__name__)


def audit_key(raw_id: str) -> str:
    """First 16 hex digits of sha256("redditess-audit:" + raw Reddit id) (as in ``benchmarks/label_audit``)."""
    return hashlib.sha256(f"redditess-audit:{raw_id}".encode()).hexdigest()[:16]


# ------------------------------------------------------------------------------------------------ judgments


def _check(df: pd.DataFrame, path: str | Path, column: str, allowed: set[str] | None, line_of) -> None:
    for i, value in df[column].items():
        if allowed is not None and value not in allowed:
            raise ValueError(f"{path}:{line_of(i)}: {column} must be one of {sorted(allowed)}, got {value!r}")


def load_pair_judgments(path: str | Path) -> pd.DataFrame:
    """Read ``judgments.csv``. Raises ValueError naming the file and line of a bad row or a duplicate pair."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in PAIR_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    for i, row in df.iterrows():
        line = i + 2  # the header is line 1
        if row["kind"] not in ("preference", "improvement"):
            raise ValueError(f"{path}:{line}: kind must be preference or improvement, got {row['kind']!r}")
        if not row["comment_1"] or not row["comment_2"]:
            raise ValueError(f"{path}:{line}: comment_1 and comment_2 must both be set")
        # A `self_edit` improvement pair is one comment retrieved twice (draft = the earlier text), so its two
        # keys are equal; every other pair names two different comments.
        if row["comment_1"] == row["comment_2"] and row["kind"] == "preference":
            raise ValueError(f"{path}:{line}: comment_1 and comment_2 must be two different keys")
        pair = {row["comment_1"], row["comment_2"]}
        if row["kind"] == "preference":
            if row["comment_1"] > row["comment_2"]:
                raise ValueError(f"{path}:{line}: preference pairs are unordered: comment_1 must sort first")
            if row["better"] not in pair | {"same", "not_comparable"}:
                raise ValueError(
                    f"{path}:{line}: better must be comment_1, comment_2, same or not_comparable, "
                    f"got {row['better']!r}"
                )
        else:
            if row["better"] not in {row["comment_2"], "not_better"}:
                raise ValueError(
                    f"{path}:{line}: improvement better must be comment_2 (the revision) or not_better, "
                    f"got {row['better']!r}"
                )
            if row["same_intent"] not in ("yes", "no"):
                raise ValueError(f"{path}:{line}: same_intent must be yes/no, got {row['same_intent']!r}")
    key = df["sample"] + "|" + df["kind"] + "|" + df["comment_1"] + "|" + df["comment_2"]
    if key.duplicated().any():  # a pair drawn again in a later sample is judged again: allowed
        dup = df.index[key.duplicated()][0]
        raise ValueError(f"{path}:{dup + 2}: pair judged twice in sample {df.loc[dup, 'sample']!r}")
    return df


def load_sft_judgments(path: str | Path) -> pd.DataFrame:
    """Read ``sft_judgments.csv``. Raises ValueError naming the file and line of a bad row or duplicate item."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in SFT_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    _check(df, path, "good", set(SFT_OUTCOMES), lambda i: i + 2)
    key = df["sample"] + "|" + df["item"]
    if key.duplicated().any():
        dup = df.index[key.duplicated()][0]
        raise ValueError(f"{path}:{dup + 2}: item {df.loc[dup, 'item']} judged twice in one sample")
    return df


# ------------------------------------------------------------------------------------------------ build


def load_config(dataset: str | Path, config: str, columns: list[str]) -> pd.DataFrame:
    """Rows of one config (all splits) with the wanted columns that exist; empty frame when the config is absent."""
    import pyarrow.parquet as pq

    files = sorted(glob.glob(os.path.join(str(dataset), "data", config, "*.parquet")))
    if not files:
        return pd.DataFrame(columns=columns)
    names = pq.read_schema(files[0]).names
    cols = [c for c in columns if c in names]
    return pd.concat([pd.read_parquet(f, columns=cols) for f in files], ignore_index=True)


def load_build(dataset: str | Path) -> dict[str, pd.DataFrame]:
    """The build's three training configs with hashed keys (``post``, and ``a``/``b`` for the pair sides).

    Raises FileNotFoundError naming the folder when it holds none of them."""
    if not glob.glob(os.path.join(str(dataset), "data", "*", "*.parquet")):
        raise FileNotFoundError(f"{dataset}: no data/<config>/*.parquet (is this a RedditESS build folder?)")
    pref = load_config(dataset, "preference", ["post_id", "chosen_id", "rejected_id", "pair_source"])
    imp = load_config(dataset, "improvement", ["post_id", "draft_id", "revision_id", "pair_source"])
    sft = load_config(dataset, "sft", ["post_id", "comment_id"])
    for df, a, b in ((pref, "chosen_id", "rejected_id"), (imp, "draft_id", "revision_id")):
        df["post"] = [audit_key(str(p)) for p in df["post_id"]]
        df["a"] = [audit_key(str(x)) for x in df[a]]
        df["b"] = [audit_key(str(x)) for x in df[b]]
        if "pair_source" not in df.columns:
            df["pair_source"] = "unspecified"
        df["pair_source"] = df["pair_source"].fillna("unspecified").astype(str)
    sft["post"] = [audit_key(str(p)) for p in sft["post_id"]]
    sft["item"] = [audit_key(str(c)) for c in sft["comment_id"]]
    return {"preference": pref, "improvement": imp, "sft": sft}


# ------------------------------------------------------------------------------------------------ scoring


def share_with_ci(values: np.ndarray, posts: list[str], n_boot: int, seed: int) -> dict[str, Any]:
    """Mean of 0/1 ``values`` with n, posts and a 95% bootstrap CI over posts (None when empty)."""
    if len(values) == 0:
        return {"share": None, "ci": None, "n": 0, "n_posts": 0}
    low, high = bootstrap_over_clusters(values, posts, n_resamples=n_boot, seed=seed)
    return {
        "share": float(np.mean(values)),
        "ci": [float(low), float(high)],
        "n": int(len(values)),
        "n_posts": len(set(posts)),
    }


def _by_source(rows: pd.DataFrame, outcomes: tuple[str, ...], n_boot: int, seed: int) -> dict[str, Any]:
    """Each outcome's share per ``pair_source`` and over all sources (rows: one judged build row each)."""
    groups = {s: g for s, g in rows.groupby("pair_source", sort=True)} if len(rows) else {}
    groups[ALL_SOURCES] = rows
    return {
        source: {
            o: share_with_ci(g[o].to_numpy(dtype=float), list(g["post"]), n_boot, seed) for o in outcomes
        }
        for source, g in groups.items()
    }


def score_preference(build: pd.DataFrame, judgments: pd.DataFrame, n_boot: int, seed: int) -> dict[str, Any]:
    """Outcome shares of the build's judged ``preference`` pairs (chosen = side ``a``)."""
    j = judgments[judgments["kind"] == "preference"]
    verdict = {(r.comment_1, r.comment_2): r.better for r in j.itertuples()}
    rows = []
    for r in build.itertuples():
        v = verdict.get((min(r.a, r.b), max(r.a, r.b)))
        if v is None:
            continue
        outcome = {r.a: "chosen_better", r.b: "rejected_better"}.get(v, v)
        rows.append(
            {"post": r.post, "pair_source": r.pair_source} | {o: o == outcome for o in PREFERENCE_OUTCOMES}
        )
    df = pd.DataFrame(rows, columns=["post", "pair_source", *PREFERENCE_OUTCOMES])
    return {
        "build_pairs": build["pair_source"].value_counts().sort_index().to_dict(),
        "judged_in_build": int(len(df)),
        "by_source": _by_source(df, PREFERENCE_OUTCOMES, n_boot, seed),
    }


def score_improvement(build: pd.DataFrame, judgments: pd.DataFrame, n_boot: int, seed: int) -> dict[str, Any]:
    """``revision_like_and_better`` (and each part) of the build's judged ``improvement`` pairs (draft = ``a``)."""
    j = judgments[judgments["kind"] == "improvement"]
    judged = {(r.comment_1, r.comment_2): r for r in j.itertuples()}
    rows, reversed_only = [], 0
    for r in build.itertuples():
        v = judged.get((r.a, r.b))
        if v is None:
            reversed_only += (r.b, r.a) in judged
            continue
        intent, better = v.same_intent == "yes", v.better == v.comment_2
        rows.append(
            {"post": r.post, "pair_source": r.pair_source}
            | {"revision_like_and_better": intent and better, "revision_like": intent, "better": better}
        )
    df = pd.DataFrame(rows, columns=["post", "pair_source", *IMPROVEMENT_OUTCOMES])
    return {
        "build_pairs": build["pair_source"].value_counts().sort_index().to_dict(),
        "judged_in_build": int(len(df)),
        "judged_in_other_direction_only": int(reversed_only),
        "by_source": _by_source(df, IMPROVEMENT_OUTCOMES, n_boot, seed),
    }


def score_sft(build: pd.DataFrame, judgments: pd.DataFrame, n_boot: int, seed: int) -> dict[str, Any]:
    """Shares of yes / partly / no among the build's judged ``sft`` rows."""
    merged = build.merge(judgments[["item", "good"]], on="item", how="inner")
    merged["pair_source"] = "sft"
    for o in SFT_OUTCOMES:
        merged[o] = merged["good"] == o
    out = _by_source(merged, SFT_OUTCOMES, n_boot, seed)[ALL_SOURCES]
    return {
        "build_rows": int(len(build)),
        "judged_in_build": int(len(merged)),
        "by_source": {ALL_SOURCES: out},
    }


def _repeat_agreement(pairs: pd.DataFrame, sft: pd.DataFrame) -> dict[str, int]:
    """Pairs / items judged in more than one sample (each time blind): how many, and how many got the same answer."""
    out = {"n": 0, "same_answer": 0}
    for df, key, answer in (
        (pairs, ["kind", "comment_1", "comment_2"], ["better", "same_intent"]),
        (sft, ["item"], ["good"]),
    ):
        for _, group in df.groupby(key, sort=False):
            if len(group) > 1:
                out["n"] += 1
                out["same_answer"] += int(len(group[answer].drop_duplicates()) == 1)
    return out


def score(
    build: dict[str, pd.DataFrame],
    pairs: pd.DataFrame,
    sft: pd.DataFrame,
    samples: list[str] | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """All figures for one build (shapes in the module docstring).

    ``samples``: keep only judgments from these draws (default: all). Raises ValueError when none of the kept
    judgments is found in the build (ids hashed, or another dump)."""
    if samples:
        unknown = sorted(set(samples) - set(pairs["sample"]) - set(sft["sample"]))
        if unknown:
            raise ValueError(f"--samples {unknown}: no judgments from these draws")
        pairs, sft = pairs[pairs["sample"].isin(samples)], sft[sft["sample"].isin(samples)]
    repeats = _repeat_agreement(pairs, sft)
    # One verdict per pair / item: the first judged (rows are in judging order).
    pairs = pairs.drop_duplicates(["kind", "comment_1", "comment_2"], keep="first")
    sft = sft.drop_duplicates(["item"], keep="first")
    result: dict[str, Any] = {
        "judgments": {
            "preference": int((pairs["kind"] == "preference").sum()),
            "improvement": int((pairs["kind"] == "improvement").sum()),
            "sft": int(len(sft)),
            "samples": sorted(set(pairs["sample"]) | set(sft["sample"])),
            "judged_again_in_a_later_sample": repeats,
        },
        "preference": score_preference(build["preference"], pairs, n_boot, seed),
        "improvement": score_improvement(build["improvement"], pairs, n_boot, seed),
        "sft": score_sft(build["sft"], sft, n_boot, seed),
    }
    if not any(result[c]["judged_in_build"] for c in ("preference", "improvement", "sft")):
        raise ValueError(
            "none of the judged rows is in this build: it must keep raw Reddit ids "
            "(post_id, chosen_id, rejected_id, draft_id, revision_id, comment_id) and come from reddit-college"
        )
    result["targets"] = {
        f"{config}/{source}/{outcome}": f"{op} {value:.0%}"
        for (config, source, outcome), (op, value) in TARGETS.items()
    }
    result["meets_target"] = {}
    for (config, source, outcome), (op, value) in TARGETS.items():
        entry = result[config]["by_source"].get(source, {}).get(outcome)
        share = entry["share"] if entry else None
        met = None if share is None else (share >= value if op == ">=" else share <= value)
        result["meets_target"][f"{config}/{source}/{outcome}"] = met
    return result


def _cell(entry: dict[str, Any] | None) -> str:
    if not entry or entry["share"] is None:
        return "n/a"
    lo, hi = entry["ci"]
    return f"{entry['share']:.0%} [{lo:.0%}, {hi:.0%}]"


def format_table(result: dict[str, Any]) -> str:
    """Markdown tables of the headline figures, targets beside."""
    lines = [
        "| config | pair_source | n (posts) | " + " | ".join(PREFERENCE_OUTCOMES) + " | target |",
        "|---|---|---|" + "---|" * len(PREFERENCE_OUTCOMES) + "---|",
    ]
    for source, per in result["preference"]["by_source"].items():
        target = "; ".join(
            f"{o.split('_')[0]} {op} {v:.0%}"
            for (c, s, o), (op, v) in TARGETS.items()
            if c == "preference" and s == source
        )
        n = per["chosen_better"]
        lines.append(
            f"| preference | {source} | {n['n']} ({n['n_posts']}) | "
            + " | ".join(_cell(per[o]) for o in PREFERENCE_OUTCOMES)
            + f" | {target} |"
        )
    lines += [
        "",
        "| config | pair_source | n (posts) | " + " | ".join(IMPROVEMENT_OUTCOMES) + " | target |",
        "|---|---|---|" + "---|" * len(IMPROVEMENT_OUTCOMES) + "---|",
    ]
    for source, per in result["improvement"]["by_source"].items():
        n = per["revision_like_and_better"]
        target = ">= 50%" if source == ALL_SOURCES else ""
        lines.append(
            f"| improvement | {source} | {n['n']} ({n['n_posts']}) | "
            + " | ".join(_cell(per[o]) for o in IMPROVEMENT_OUTCOMES)
            + f" | {target} |"
        )
    per = result["sft"]["by_source"][ALL_SOURCES]
    lines += [
        "",
        "| config | n (posts) | good (yes) | partly | no | target |",
        "|---|---|---|---|---|---|",
        f"| sft | {per['yes']['n']} ({per['yes']['n_posts']}) | {_cell(per['yes'])} | {_cell(per['partly'])} | "
        f"{_cell(per['no'])} | yes >= 70% |",
    ]
    other = result["improvement"]["judged_in_other_direction_only"]
    if other:
        lines.append(
            f"\n{other} improvement pair(s) of the build were judged in the other direction only (not scored)."
        )
    return "\n".join(lines)


def build_dataset(raw: str | Path, out: Path, extra_args: list[str] | None = None) -> Path:
    """Build ``raw`` into ``out`` with the kit's real builder: the label audit's ``build_dataset`` (one place for
    it; it keeps raw Reddit ids when the builder offers ``--keep-reddit-ids``)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "label_audit_score", HERE.parent / "label_audit" / "score.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_dataset(raw, out, extra_args)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", help="build folder with data/<config>/*.parquet (raw Reddit ids)")
    source.add_argument("--input", help="raw dump folder: build it into a temporary folder, then score it")
    ap.add_argument(
        "--build_args", nargs=argparse.REMAINDER, default=[], help="extra builder arguments (last)"
    )
    ap.add_argument("--judgments", default=str(HERE / "judgments.csv"))
    ap.add_argument("--sft_judgments", default=str(HERE / "sft_judgments.csv"))
    ap.add_argument("--samples", nargs="*", help="only judgments from these draws (column `sample`)")
    ap.add_argument("--output", help="write the figures as JSON here")
    ap.add_argument("--n_boot", type=int, default=2000, help="bootstrap resamples over posts")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    pairs, sft = load_pair_judgments(args.judgments), load_sft_judgments(args.sft_judgments)
    if args.input:
        with tempfile.TemporaryDirectory(prefix="pair-audit-") as tmp:
            build = load_build(build_dataset(args.input, Path(tmp) / "build", args.build_args))
        result = score(build, pairs, sft, samples=args.samples, n_boot=args.n_boot, seed=args.seed)
        result["dataset"] = f"built from {args.input} {' '.join(args.build_args)}".strip()
    else:
        result = score(
            load_build(args.dataset), pairs, sft, samples=args.samples, n_boot=args.n_boot, seed=args.seed
        )
        result["dataset"] = str(args.dataset)
    print(format_table(result))
    if args.output:
        write_json(args.output, result)
    return result


if __name__ == "__main__":
    main()
