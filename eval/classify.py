"""`python -m eval classifier`: evaluate a trained effective-support classifier on a RedditESS split.

Writes metrics.json (overall and per subreddit, with provenance), predictions.jsonl, confusion_matrix.png
and pr_curve.png. The decision threshold is the one training tuned on validation (threshold.json).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eval.classification import LABEL_NAMES, classification_metrics
from eval.data import load_split
from eval.io import write_json, write_jsonl
from eval.runtime import RuntimeArguments
from eval.versions import dataset_info, model_info, provenance

logger = logging.getLogger(__name__)


@dataclass
class ClassifierArguments(RuntimeArguments):
    """Evaluate a classifier run on a split of the `effective_support` config."""

    model: str = field(
        metadata={"help": "Classifier run folder (full model or LoRA adapter + threshold.json)."}
    )
    dataset: str = field(metadata={"help": "RedditESS folder."})
    output_dir: str = field(metadata={"help": "Receives metrics.json, predictions.jsonl and the PNGs."})
    split: str = field(default="test")
    config: str = field(default="effective_support")
    threshold: float | None = field(default=None, metadata={"help": "Override the run's tuned threshold."})
    batch_size: int = field(default=32)
    max_length: int = field(default=512)
    min_subreddit_n: int = field(
        default=1, metadata={"help": "Per-subreddit rows need at least this many examples."}
    )


def run_classifier(args: ClassifierArguments) -> dict[str, Any]:
    """Score the split, compute metrics and figures; return the metrics written to metrics.json."""
    from sklearn.metrics import average_precision_score, confusion_matrix, precision_recall_curve

    from eval.models import load_classifier
    from eval.plots import confusion_matrix_png, pr_curve_png
    from eval.scoring import score_pairs
    from training.classifier import pair_texts

    ds = load_split(args.dataset, args.config, args.split)
    names = list(getattr(ds.features["label"], "names", LABEL_NAMES))
    if "effective" not in names:
        raise ValueError(f"{args.dataset} [{args.config}/{args.split}]: label names {names} lack 'effective'")
    rows = [r for r in ds if r["label"] is not None]
    if not rows:
        raise ValueError(f"{args.dataset} [{args.config}/{args.split}]: no labeled rows")
    clf = load_classifier(args.model)
    threshold = clf.threshold if args.threshold is None else args.threshold
    posts, comments = zip(*(pair_texts(r) for r in rows), strict=True)
    probs = score_pairs(clf, posts, comments, batch_size=args.batch_size, max_length=args.max_length)
    refs = np.array([int(r["label"] == names.index("effective")) for r in rows])
    preds = (probs >= threshold).astype(int)
    overall = classification_metrics(preds, refs, probs)
    cm = confusion_matrix(refs, preds, labels=[0, 1])
    by_sub: dict[str, Any] = {}
    subs = np.array([r.get("subreddit") or "unknown" for r in rows])
    for sub in sorted(set(subs.tolist())):
        mask = subs == sub
        if mask.sum() >= args.min_subreddit_n:
            by_sub[sub] = classification_metrics(
                preds[mask], refs[mask], probs[mask] if len(set(refs[mask])) == 2 else None
            )
    out = Path(args.output_dir)
    precision, recall, _ = (
        precision_recall_curve(refs, probs) if len(set(refs.tolist())) == 2 else ([1.0], [0.0], None)
    )
    ap = float(average_precision_score(refs, probs)) if len(set(refs.tolist())) == 2 else float("nan")
    confusion_matrix_png(
        cm.tolist(), ["not_effective", "effective"], out / "confusion_matrix.png", f"{args.split} split"
    )
    pr_curve_png(precision, recall, out / "pr_curve.png", ap, (overall["recall"], overall["precision"]))
    result = {
        "split": args.split,
        "threshold": threshold,
        "positive_label": "effective",
        "metrics": {**overall, "average_precision": ap},
        "confusion_matrix": {"labels": ["not_effective", "effective"], "rows_true_cols_pred": cm.tolist()},
        "per_subreddit": by_sub,
        "provenance": provenance(
            dataset=dataset_info(args.dataset, args.config, args.split),
            model=model_info(clf.base),
            adapter=model_info(clf.adapter),
        ),
    }
    write_jsonl(
        out / "predictions.jsonl",
        (
            {
                "post_id": r.get("post_id"),
                "comment_id": r.get("comment_id"),
                "subreddit": r.get("subreddit"),
                "label": int(y),
                "p_effective": float(p),
                "prediction": int(q),
            }
            for r, y, p, q in zip(rows, refs, probs, preds, strict=True)
        ),
    )
    write_json(out / "metrics.json", result)
    logger.info(
        "classifier on %s: F1 %.3f, accuracy %.3f (n=%d)",
        args.split,
        overall["f1"],
        overall["accuracy"],
        overall["n"],
    )
    return result
