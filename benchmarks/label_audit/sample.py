"""Draw the blinded label-audit sample from a build's ``comments`` config.

The sample is stratified and grouped by post (a reader judges a post's comments together):

* ``a_op_reply``: the OP replied directly to the comment (``op_replied``), ~55% of the sample;
* ``b_low_score``: no OP reply, ``comment_score`` <= 0 while a sibling in the same post scored higher, ~20%;
* ``c_other``: every other kept top-level comment, ~25%.

Posts are visited in a seeded random order (uniform over posts, so megathreads do not dominate); from each
post at most ``--per_post`` comments per stratum (``a`` gets twice that) are drawn at random while the
stratum's quota lasts. The stratum population sizes and sample sizes go to ``--strata_out`` so precision can
be weighted back to the population (``score.py``).

The reading file (JSONL, one item per line: ``item``, ``post``, ``post_title``, ``post_text``,
``comment_text``, ``op_reply_text``) holds real Reddit text: write it OUTSIDE the repository (e.g. /tmp).
It carries no label, signal, score or stratum: the reader is blind to all of them. The key file
(``item``, ``post``, ``stratum``; hashed keys only) may be committed.

Requires a build that keeps the raw Reddit ids in ``post_id``/``comment_id`` (builds made with
``--keep-reddit-ids`` where ids are hashed by default): item keys are
``sha256("redditess-audit:" + comment_id)[:16]``, so the same comment gets the same key in any such build.

Usage (the two draws behind the committed ``judgments.csv``; the second extends the first with new posts
from the strata most rules label, so that enough judged comments carry a label)::

    python benchmarks/label_audit/sample.py --dataset /tmp/rc-judge --seed 0 --n 400 --per_post 2 \
        --out /tmp/label_audit_reading.jsonl --key_out /tmp/label_audit_key.csv \
        --strata_out benchmarks/label_audit/strata.json
    python benchmarks/label_audit/sample.py --dataset /tmp/rc-judge --seed 1 --n 200 --per_post 2 \
        --strata a_op_reply b_low_score --exclude_key /tmp/label_audit_key.csv \
        --out /tmp/label_audit_reading2.jsonl --key_out /tmp/label_audit_key2.csv \
        --strata_out benchmarks/label_audit/strata.json
"""

from __future__ import annotations

import argparse
import csv
import glob
import hashlib
import json
import os
import random
from pathlib import Path

import pandas as pd

STRATA = ("a_op_reply", "b_low_score", "c_other")
SHARES = {"a_op_reply": 0.55, "b_low_score": 0.20, "c_other": 0.25}
COLUMNS = [
    "post_id",
    "comment_id",
    "post_title",
    "post_text",
    "comment_text",
    "comment_score",
    "op_replied",
    "op_reply_text",
]


def audit_key(raw_id: str) -> str:
    """First 16 hex digits of sha256("redditess-audit:" + raw Reddit id)."""
    return hashlib.sha256(f"redditess-audit:{raw_id}".encode()).hexdigest()[:16]


def load_comments(dataset: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Every row of the build's ``comments`` config (all splits), as one frame.

    Raises FileNotFoundError naming the folder when the build has no ``data/comments/*.parquet``."""
    files = sorted(glob.glob(os.path.join(str(dataset), "data", "comments", "*.parquet")))
    if not files:
        raise FileNotFoundError(f"{dataset}: no data/comments/*.parquet (is this a RedditESS build folder?)")
    frames = [pd.read_parquet(f, columns=columns) for f in files]
    return pd.concat(frames, ignore_index=True)


def assign_strata(df: pd.DataFrame) -> pd.Series:
    """Stratum per comment (shape: len(df)); ``a`` takes precedence over ``b`` over ``c``."""
    max_score = df.groupby("post_id")["comment_score"].transform("max")
    low = (df["comment_score"] <= 0) & (max_score > df["comment_score"])
    stratum = pd.Series("c_other", index=df.index)
    stratum[low] = "b_low_score"
    stratum[df["op_replied"].astype(bool)] = "a_op_reply"
    return stratum


def draw(
    df: pd.DataFrame,
    n: int,
    seed: int,
    per_post: int = 1,
    strata: tuple[str, ...] = STRATA,
    exclude_posts: frozenset[str] = frozenset(),
) -> tuple[pd.DataFrame, dict]:
    """Return (sampled rows in reading order with a ``stratum`` column, strata summary).

    ``strata`` restricts the draw to some strata (their shares renormalised), ``exclude_posts`` (audit keys of
    posts) skips posts an earlier draw already took: a second draw then extends the sample with new posts."""
    unknown = set(strata) - set(STRATA)
    if unknown:
        raise ValueError(f"unknown strata {sorted(unknown)}; choose from {STRATA}")
    df = df.copy()
    df["stratum"] = assign_strata(df)
    total_share = sum(SHARES[s] for s in strata)
    quota = {s: 0 for s in STRATA}
    for s in strata:
        quota[s] = round(n * SHARES[s] / total_share)
    quota[strata[-1]] = n - sum(quota[s] for s in strata[:-1])
    cap = {"a_op_reply": 2 * per_post, "b_low_score": per_post, "c_other": per_post}
    rng = random.Random(seed)
    posts = sorted(df["post_id"].unique())
    rng.shuffle(posts)
    by_post = {pid: g for pid, g in df.sort_values("comment_id").groupby("post_id", sort=False)}
    taken: dict[str, int] = {s: 0 for s in STRATA}
    picked = []
    for pid in posts:
        if all(taken[s] >= quota[s] for s in STRATA):
            break
        if exclude_posts and audit_key(pid) in exclude_posts:
            continue
        g = by_post[pid]
        for s in STRATA:
            pool = g.index[g["stratum"] == s].tolist()
            k = min(cap[s], quota[s] - taken[s], len(pool))
            if k > 0:
                picked.extend(rng.sample(pool, k))
                taken[s] += k
    sample = df.loc[picked]
    summary = {
        "population": {s: int((df["stratum"] == s).sum()) for s in STRATA},
        "population_comments": len(df),
        "population_posts": int(df["post_id"].nunique()),
        "draws": [
            {
                "seed": seed,
                "n_requested": n,
                "per_post": per_post,
                "strata": list(strata),
                "excluded_posts": len(exclude_posts),
                "sampled": taken,
                "posts_sampled": int(sample["post_id"].nunique()),
            }
        ],
    }
    return sample, summary


def _write_atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        write(fh)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", required=True, help="build folder with data/comments/*.parquet (raw ids)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=450, help="comments to draw")
    ap.add_argument("--per_post", type=int, default=1, help="max comments per stratum per post (a: 2x)")
    ap.add_argument(
        "--out", required=True, help="blinded reading file (JSONL, real text: keep outside the repo)"
    )
    ap.add_argument("--key_out", help="item,post,stratum CSV (hashed keys only)")
    ap.add_argument("--strata_out", help="strata population/sample sizes (JSON)")
    ap.add_argument("--strata", nargs="+", default=list(STRATA), help=f"strata to draw from (of {STRATA})")
    ap.add_argument(
        "--exclude_key",
        help="key CSV of an earlier draw: its posts are skipped, and --strata_out gets this draw appended",
    )
    args = ap.parse_args(argv)

    df = load_comments(args.dataset, COLUMNS)
    exclude: frozenset[str] = frozenset()
    if args.exclude_key:
        with open(args.exclude_key, encoding="utf-8") as fh:
            exclude = frozenset(row["post"] for row in csv.DictReader(fh))
    sample, summary = draw(df, args.n, args.seed, args.per_post, tuple(args.strata), exclude)
    if args.exclude_key and args.strata_out and Path(args.strata_out).exists():
        earlier = json.loads(Path(args.strata_out).read_text())
        if earlier["population"] != summary["population"]:
            raise ValueError(f"{args.strata_out}: population differs from this build's; not the same frame")
        summary["draws"] = earlier["draws"] + summary["draws"]
    rows = [
        {
            "item": audit_key(r.comment_id),
            "post": audit_key(r.post_id),
            "post_title": r.post_title,
            "post_text": r.post_text,
            "comment_text": r.comment_text,
            "op_reply_text": None if pd.isna(r.op_reply_text) else r.op_reply_text,
        }
        for r in sample.itertuples()
    ]
    _write_atomic(Path(args.out), lambda fh: [fh.write(json.dumps(row) + "\n") for row in rows])
    if args.key_out:

        def write_key(fh):
            w = csv.writer(fh)
            w.writerow(["item", "post", "stratum"])
            for r in sample.itertuples():
                w.writerow([audit_key(r.comment_id), audit_key(r.post_id), r.stratum])

        _write_atomic(Path(args.key_out), write_key)
    if args.strata_out:
        _write_atomic(Path(args.strata_out), lambda fh: fh.write(json.dumps(summary, indent=2) + "\n"))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
