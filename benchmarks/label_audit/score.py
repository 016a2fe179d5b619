"""Score a build's effective-support label against the committed label-audit judgments.

For the build's *labeled* comments that are in the audit sample (``judgments.csv``), it reports

* precision of ``effective`` (share rated 3–4 by the reader) and of ``not_effective`` (share rated 1–2),
  unweighted and weighted by stratum back to the population of kept top-level comments
  (weight of a judged item in stratum h = N_h / n_h, N_h from ``strata.json``, n_h = judged items in h;
  a ratio estimator), each with a 95% percentile bootstrap CI over posts (posts resampled with replacement);
* precision by ``label_source``;
* the share of the build's kept top-level comments that are labeled and its class balance;
* the reader's yes/no on "does the post seek support" against the build's ``seeks_support`` column,
  per post, when the column exists.

The paper's experts agreed with ``effective`` 94.68% of the time (RedditESS); issue 8's targets for rule 2.0
are precision(effective) >= 0.90 and precision(not_effective) >= 0.85 while labeling >= 10% of kept
top-level comments. These judgments come from ONE careful reader (see ``guideline.md``), not a panel.

The build must keep the raw Reddit ids in ``post_id``/``comment_id`` (a build made with
``--keep-reddit-ids`` where ids are hashed by default): items are matched by
``sha256("redditess-audit:" + comment_id)[:16]``.

Usage (score an existing build, or build reddit-college into a temporary folder first, as ``make bench`` does)::

    python benchmarks/label_audit/score.py --dataset /tmp/rc-judge --output /tmp/label_audit_score.json
    python benchmarks/label_audit/score.py --input ../shared/data/reddit-college [--build_args --preset kit]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the kit's root, for eval.io when run as a script
from eval.io import write_json  # noqa: E402
from redditess_core.contract import LABEL_NAMES  # noqa: E402

PAPER_AGREEMENT_EFFECTIVE = 0.9468
TARGETS = {"precision_effective": 0.90, "precision_not_effective": 0.85, "share_labeled": 0.10}
JUDGMENT_COLUMNS = ["item", "post", "stratum", "rating", "seeks_support", "reason"]

logger = logging.getLogger(__name__)


def audit_key(raw_id: str) -> str:
    """First 16 hex digits of sha256("redditess-audit:" + raw Reddit id) (same as ``sample.py``)."""
    return hashlib.sha256(f"redditess-audit:{raw_id}".encode()).hexdigest()[:16]


def load_judgments(path: str | Path) -> pd.DataFrame:
    """Read ``judgments.csv``; raises ValueError naming the file and line of a bad row."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in JUDGMENT_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    for i, row in df.iterrows():
        line = i + 2  # header is line 1
        if row["rating"] not in {"1", "2", "3", "4"}:
            raise ValueError(f"{path}:{line}: rating must be 1-4, got {row['rating']!r}")
        if row["seeks_support"] not in {"yes", "no"}:
            raise ValueError(f"{path}:{line}: seeks_support must be yes/no, got {row['seeks_support']!r}")
    if df["item"].duplicated().any():
        dup = df.loc[df["item"].duplicated(), "item"].iloc[0]
        raise ValueError(f"{path}: item {dup} judged twice")
    df["rating"] = df["rating"].astype(int)
    return df


def _label_names(files: list[str]) -> tuple[str, ...]:
    meta = pq.read_schema(files[0]).metadata or {}
    try:
        info = json.loads(meta[b"huggingface"])["info"]["features"]["label"]
        return tuple(info["names"])
    except (KeyError, TypeError, ValueError):
        return LABEL_NAMES


def load_build(dataset: str | Path) -> pd.DataFrame:
    """The build's ``comments`` config (all splits) with ``label`` as a string (None when unlabeled)
    and an ``item`` key column. Raises FileNotFoundError naming the folder when it has no comments config."""
    import glob

    files = sorted(glob.glob(os.path.join(str(dataset), "data", "comments", "*.parquet")))
    if not files:
        raise FileNotFoundError(f"{dataset}: no data/comments/*.parquet (is this a RedditESS build folder?)")
    names = _label_names(files)
    wanted = ["post_id", "comment_id", "label", "label_source", "seeks_support"]
    cols = [c for c in wanted if c in pq.read_schema(files[0]).names]
    df = pd.concat([pd.read_parquet(f, columns=cols) for f in files], ignore_index=True)
    if pd.api.types.is_numeric_dtype(df["label"]):
        df["label"] = [None if pd.isna(v) else names[int(v)] for v in df["label"]]
    df["item"] = [audit_key(c) for c in df["comment_id"]]
    return df.rename(columns={"seeks_support": "build_seeks_support"})


def _as_yes_no(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str):
        return {"yes": "yes", "true": "yes", "1": "yes", "no": "no", "false": "no", "0": "no"}.get(
            value.lower()
        )
    return "yes" if bool(value) else "no"


def precision_with_ci(
    df: pd.DataFrame, weights: dict[str, float], correct: str, n_boot: int, seed: int
) -> dict:
    """Precision of the rows in ``df`` (each row: a labeled judged item; ``correct`` a bool column).

    Returns n, n_posts, unweighted and weighted precision, each with a 95% bootstrap CI over posts."""
    out = {"n": len(df), "n_posts": int(df["post"].nunique()) if len(df) else 0}
    if not len(df):
        return out | {"unweighted": None, "unweighted_ci": None, "weighted": None, "weighted_ci": None}
    w = df["stratum"].map(weights).to_numpy(dtype=float)
    ok = df[correct].to_numpy(dtype=float)
    per_post = pd.DataFrame({"post": df["post"].to_numpy(), "n": 1.0, "ok": ok, "w": w, "w_ok": w * ok})
    sums = per_post.groupby("post", sort=True)[["n", "ok", "w", "w_ok"]].sum().to_numpy()
    out["unweighted"] = float(ok.mean())
    out["weighted"] = float((w * ok).sum() / w.sum())
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(sums), (n_boot, len(sums)))
    # counts[b, p] = how often post p is drawn in resample b; resampled totals are counts @ per-post sums.
    counts = np.zeros((n_boot, len(sums)))
    np.add.at(counts, (np.repeat(np.arange(n_boot), len(sums)), picks.ravel()), 1.0)
    tot = counts @ sums
    unw = tot[:, 1] / tot[:, 0]
    wtd = tot[:, 3] / tot[:, 2]
    out["unweighted_ci"] = [float(np.percentile(unw, 2.5)), float(np.percentile(unw, 97.5))]
    out["weighted_ci"] = [float(np.percentile(wtd, 2.5)), float(np.percentile(wtd, 97.5))]
    return out


def score(
    build: pd.DataFrame, judgments: pd.DataFrame, strata: dict, n_boot: int = 2000, seed: int = 0
) -> dict:
    """All audit figures for one build (shapes in the module docstring). Raises ValueError when no judged
    item is found in the build (the build hashes ids, or is built from another dump)."""
    population = strata["population"]
    judged_n = judgments["stratum"].value_counts().to_dict()
    unknown = set(judged_n) - set(population)
    if unknown:
        raise ValueError(f"judgments name strata {sorted(unknown)} absent from strata.json")
    weights = {s: population[s] / judged_n[s] for s in judged_n}

    merged = judgments.merge(build, on="item", how="left", indicator=True)
    found = int((merged["_merge"] == "both").sum())
    if found == 0:
        raise ValueError(
            "none of the judged items is in this build: it must keep raw Reddit ids in comment_id "
            "(build with --keep-reddit-ids) and come from the audited dump (reddit-college)"
        )
    if found < len(judgments):
        logger.warning("%d of %d judged items are not in this build", len(judgments) - found, len(judgments))
    merged = merged[merged["_merge"] == "both"].copy()
    merged["effective_ok"] = merged["rating"] >= 3
    merged["not_effective_ok"] = merged["rating"] <= 2
    merged["at_least_weak_ok"] = merged["rating"] >= 2

    n_all = len(build)
    labeled = build["label"].notna()
    counts = build.loc[labeled, "label"].value_counts().to_dict()
    result: dict = {
        "judged_items": len(judgments),
        "judged_posts": int(judgments["post"].nunique()),
        "judged_items_in_build": found,
        "strata": {
            s: {"population": population[s], "judged": int(judged_n.get(s, 0)), "weight": weights.get(s)}
            for s in population
        },
        "build": {
            "kept_top_level_comments": n_all,
            "labeled": int(labeled.sum()),
            "share_labeled": float(labeled.mean()) if n_all else 0.0,
            "class_balance": {name: int(counts.get(name, 0)) for name in LABEL_NAMES},
            "share_effective_of_labeled": float(counts.get("effective", 0) / labeled.sum())
            if labeled.any()
            else None,
        },
        "sample_labeled": int(merged["label"].notna().sum()),
    }
    for name, ok in (("effective", "effective_ok"), ("not_effective", "not_effective_ok")):
        result[f"precision_{name}"] = precision_with_ci(
            merged[merged["label"] == name], weights, ok, n_boot, seed
        )

    by_source = {}
    if "label_source" in merged.columns:
        for source, group in merged[merged["label"].notna()].groupby("label_source", sort=True):
            by_source[source] = {
                name: precision_with_ci(group[group["label"] == name], weights, ok, n_boot, seed)
                for name, ok in (("effective", "effective_ok"), ("not_effective", "not_effective_ok"))
                if (group["label"] == name).any()
            }
    result["by_label_source"] = by_source
    # Sensitivity, not targets: `effective` counted right when rated 2-4 (at least weakly supportive), and
    # both precisions on the posts the reader judged support-seeking only.
    result["precision_effective_rated_2_to_4"] = precision_with_ci(
        merged[merged["label"] == "effective"], weights, "at_least_weak_ok", n_boot, seed
    )
    seeking = merged[merged["seeks_support"] == "yes"]
    result["support_seeking_posts_only"] = {
        name: precision_with_ci(seeking[seeking["label"] == name], weights, ok, n_boot, seed)
        for name, ok in (("effective", "effective_ok"), ("not_effective", "not_effective_ok"))
    }

    if "build_seeks_support" in merged.columns:
        posts = merged.drop_duplicates("post")[["post", "seeks_support", "build_seeks_support"]].copy()
        posts["build"] = [_as_yes_no(v) for v in posts["build_seeks_support"]]
        posts = posts[posts["build"].notna()]
        agree = posts["build"] == posts["seeks_support"]
        result["seeks_support"] = {
            "posts": len(posts),
            "agreement": float(agree.mean()) if len(posts) else None,
            "confusion": {
                f"reader_{r}_build_{b}": int(((posts["seeks_support"] == r) & (posts["build"] == b)).sum())
                for r in ("yes", "no")
                for b in ("yes", "no")
            },
        }
    else:
        result["seeks_support"] = None
    # Labeled comments on posts the reader judged not to seek support (issue 8, kind 7).
    result["labeled_on_non_support_posts"] = int(
        (merged["label"].notna() & (merged["seeks_support"] == "no")).sum()
    )
    result["targets"] = TARGETS
    result["paper_agreement_effective"] = PAPER_AGREEMENT_EFFECTIVE
    return result


def _fmt(p: dict, key: str) -> str:
    if p.get(key) is None:
        return "n/a"
    lo, hi = p[f"{key}_ci"]
    return f"{p[key]:.3f} [{lo:.3f}, {hi:.3f}]"


def format_table(result: dict) -> str:
    """A plain-text table of the headline figures."""
    b = result["build"]
    lines = [
        f"judged items: {result['judged_items']} on {result['judged_posts']} posts; "
        f"in build: {result['judged_items_in_build']}; labeled by the build: {result['sample_labeled']}",
        f"build: {b['labeled']}/{b['kept_top_level_comments']} kept top-level comments labeled "
        f"({b['share_labeled']:.1%}; target >= {TARGETS['share_labeled']:.0%}), "
        f"effective {b['class_balance']['effective']}, not_effective {b['class_balance']['not_effective']}",
        "",
        f"{'label':<20}{'n':>5}{'posts':>7}  {'precision (weighted) [95% CI]':<32}{'unweighted [95% CI]':<28}target",
    ]
    for name in LABEL_NAMES[::-1]:
        p = result[f"precision_{name}"]
        lines.append(
            f"{name:<20}{p['n']:>5}{p['n_posts']:>7}  {_fmt(p, 'weighted'):<32}{_fmt(p, 'unweighted'):<28}"
            f">= {TARGETS[f'precision_{name}']:.2f}"
        )
    sens = result["precision_effective_rated_2_to_4"]
    lines.append(
        f"{'(effective, 2-4 ok)':<20}{sens['n']:>5}{sens['n_posts']:>7}  {_fmt(sens, 'weighted'):<32}{_fmt(sens, 'unweighted'):<28}"
    )
    for name in LABEL_NAMES[::-1]:
        p = result["support_seeking_posts_only"][name]
        label = f"({name[:9]}, seek)"
        lines.append(
            f"{label:<20}{p['n']:>5}{p['n_posts']:>7}  {_fmt(p, 'weighted'):<32}{_fmt(p, 'unweighted'):<28}"
        )
    lines += ["", "by label_source (unweighted precision [95% CI], n):"]
    for source, per in result["by_label_source"].items():
        cells = "; ".join(f"{name} {_fmt(p, 'unweighted')} n={p['n']}" for name, p in per.items())
        lines.append(f"  {source:<36}{cells}")
    ss = result["seeks_support"]
    if ss and ss["posts"]:
        lines.append(
            f"\nseeks_support agreement with the reader: {ss['agreement']:.3f} on {ss['posts']} posts"
        )
    else:
        lines.append("\nseeks_support: column absent in this build")
    lines.append(
        f"labeled comments on posts the reader judged not support-seeking: {result['labeled_on_non_support_posts']}"
    )
    lines.append(
        f"(paper: experts agreed with `effective` {PAPER_AGREEMENT_EFFECTIVE:.2%}; one reader here, not a panel)"
    )
    return "\n".join(lines)


def build_dataset(raw: str | Path, out: Path, extra_args: list[str] | None = None) -> Path:
    """Build ``raw`` (a Reddit dump folder) into ``out`` with the kit's real builder, keeping raw Reddit ids
    when the builder offers ``--keep-reddit-ids``. Raises CalledProcessError (with the builder's stderr
    tail logged) when the build fails."""
    cmd = [
        sys.executable,
        "-m",
        "dataset_builder",
        "build",
        "--input",
        str(raw),
        "--out",
        str(out),
        "--overwrite",
    ]
    help_text = subprocess.run(
        [sys.executable, "-m", "dataset_builder", "build", "--help"], capture_output=True, text=True
    ).stdout
    if "keep-reddit-ids" in help_text or "keep_reddit_ids" in help_text:
        cmd.append("--keep-reddit-ids")
    cmd += extra_args or []
    env = os.environ | {
        "REDDITESS_PSEUDONYM_KEY": os.environ.get("REDDITESS_PSEUDONYM_KEY", "label-audit-key-not-secret")
    }
    logger.info("building %s into %s", raw, out)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        logger.error("build failed:\n%s", proc.stderr[-4000:])
        proc.check_returncode()
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", help="build folder with data/comments/*.parquet (raw ids)")
    source.add_argument("--input", help="raw dump folder: build it into a temporary folder, then score it")
    ap.add_argument(
        "--build_args", nargs=argparse.REMAINDER, default=[], help="extra builder arguments (last)"
    )
    ap.add_argument("--judgments", default=str(HERE / "judgments.csv"))
    ap.add_argument("--strata", default=str(HERE / "strata.json"))
    ap.add_argument("--output", help="write the figures as JSON here")
    ap.add_argument("--n_boot", type=int, default=2000, help="bootstrap resamples over posts")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    judgments = load_judgments(args.judgments)
    strata = json.loads(Path(args.strata).read_text())
    if args.input:
        with tempfile.TemporaryDirectory(prefix="label-audit-") as tmp:
            build = load_build(build_dataset(args.input, Path(tmp) / "build", args.build_args))
        result = score(build, judgments, strata, n_boot=args.n_boot, seed=args.seed)
        result["dataset"] = f"built from {args.input} {' '.join(args.build_args)}".strip()
    else:
        result = score(load_build(args.dataset), judgments, strata, n_boot=args.n_boot, seed=args.seed)
        result["dataset"] = str(args.dataset)
    print(format_table(result))
    if args.output:
        write_json(args.output, result)
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
