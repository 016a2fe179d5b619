"""Draw a blinded sample of ``sft`` rows for the pair audit's "is this a good supportive reply?" question.

``python -m eval pair-audit export`` covers ``preference`` and ``improvement``; ``sft`` rows have one reply, so
this script draws them: posts in a seeded random order (uniform over posts, so megathreads do not dominate),
one row per post before any post gets a second, up to ``--n`` rows.

Writes

* ``--out`` (JSONL, one item per line: ``item``, ``post``, ``post_text``, ``reply``): real Reddit text, so
  write it OUTSIDE the repository (e.g. /tmp). No label, confidence, score or split: the reader is blind.
* ``--key_out`` (CSV ``item, post``: hashed keys only) and ``--sheet_out`` (CSV ``item, good`` with ``good``
  empty, to fill with yes / partly / no); ``record.py sft`` turns the filled sheet into ``sft_judgments.csv``.

Item keys are ``sha256("redditess-audit:" + comment_id)[:16]`` (the label audit's keys), so the build must keep
raw Reddit ids in ``post_id``/``comment_id``.

Usage::

    python benchmarks/pair_audit/sample_sft.py --dataset /tmp/rc-16 --n 45 --seed 0 \
        --out /tmp/pj_sft_reading.jsonl --key_out /tmp/pj_sft_key.csv --sheet_out /tmp/pj_sft_sheet.csv
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import random
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from score import audit_key  # noqa: E402


def load_sft(dataset: str | Path) -> pd.DataFrame:
    """Every ``sft`` row of the build (all splits) with ``post_id``, ``comment_id``, ``messages``.

    Raises FileNotFoundError naming the folder when it has no ``data/sft/*.parquet``."""
    files = sorted(glob.glob(os.path.join(str(dataset), "data", "sft", "*.parquet")))
    if not files:
        raise FileNotFoundError(f"{dataset}: no data/sft/*.parquet (is this a RedditESS build folder?)")
    return pd.concat(
        [pd.read_parquet(f, columns=["post_id", "comment_id", "messages"]) for f in files], ignore_index=True
    )


def _content(messages, role: str) -> str:
    texts = [m["content"] for m in messages if m["role"] == role]
    return texts[-1] if texts else ""


def draw(rows: pd.DataFrame, n: int, seed: int, exclude: set[str] = frozenset()) -> pd.DataFrame:
    """Up to ``n`` rows, seeded: posts shuffled, then round-robin one row per post per round.

    ``exclude``: item keys already judged (their rows are skipped). Returns the drawn rows with ``item``
    and ``post`` (hashed) columns, in reading order."""
    rng = random.Random(seed)
    rows = rows.assign(item=[audit_key(c) for c in rows["comment_id"]])
    rows = rows[~rows["item"].isin(exclude)]
    by_post: dict[str, list[int]] = defaultdict(list)
    for i, post in zip(rows.index, rows["post_id"], strict=True):
        by_post[str(post)].append(i)
    posts = sorted(by_post)
    rng.shuffle(posts)
    for post in posts:
        rng.shuffle(by_post[post])
    picked: list[int] = []
    depth = 0
    while len(picked) < n and any(len(v) > depth for v in by_post.values()):
        for post in posts:
            if len(by_post[post]) > depth and len(picked) < n:
                picked.append(by_post[post][depth])
        depth += 1
    out = rows.loc[picked].copy()
    out["post"] = [audit_key(p) for p in out["post_id"]]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--n", type=int, default=45)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--exclude_key", nargs="*", default=[], help="key CSVs of earlier draws to skip")
    ap.add_argument("--out", required=True, help="reading file (JSONL, real text: keep outside the repo)")
    ap.add_argument("--key_out", required=True)
    ap.add_argument("--sheet_out", required=True)
    args = ap.parse_args(argv)
    exclude: set[str] = set()
    for path in args.exclude_key:
        with open(path, newline="") as f:
            exclude |= {r["item"] for r in csv.DictReader(f)}
    sample = draw(load_sft(args.dataset), args.n, args.seed, exclude)
    for path, write in (
        (args.out, lambda f: [f.write(json.dumps(_reading(r)) + "\n") for _, r in sample.iterrows()]),
        (args.key_out, lambda f: _csv(f, ["item", "post"], sample[["item", "post"]].to_dict("records"))),
        (
            args.sheet_out,
            lambda f: _csv(f, ["item", "good"], [{"item": i, "good": ""} for i in sample["item"]]),
        ),
    ):
        tmp = f"{path}.tmp"
        with open(tmp, "w", newline="") as f:
            write(f)
        os.replace(tmp, path)
    print(f"drew {len(sample)} sft rows from {sample['post'].nunique()} posts -> {args.out}")
    return 0


def _reading(row: pd.Series) -> dict:
    messages = list(row["messages"])
    return {
        "item": row["item"],
        "post": row["post"],
        "post_text": _content(messages, "user"),
        "reply": _content(messages, "assistant"),
    }


def _csv(f, fields: list[str], records: list[dict]) -> None:
    writer = csv.DictWriter(f, fieldnames=fields)
    writer.writeheader()
    writer.writerows(records)


if __name__ == "__main__":
    sys.exit(main())
