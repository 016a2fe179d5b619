"""`python -m eval classifier`: evaluate a trained effective-support classifier on a RedditESS split.

Writes metrics.json (overall, per subreddit and per label_source, with provenance), predictions.jsonl,
confusion_matrix.png, roc_curve.png and pr_curve.png (with the no-skill level). The decision threshold is the one
training tuned on validation (threshold.json). Every model row stands beside two baselines computed on the same
split: `majority` (always the training majority) and `tfidf_logreg` (TF-IDF + class-balanced logistic
regression fit on the train split, threshold tuned on validation by the same rule as the model).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eval.classification import (
    classification_metrics,
    majority_baseline,
    tfidf_logreg_baseline,
)
from eval.io import write_json, write_jsonl
from eval.runtime import RuntimeArguments
from eval.versions import dataset_info, model_info, provenance
from redditess_core.contract import LABEL_NAMES, THRESHOLD_FILE
from redditess_core.loading import load_split

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
        default=1,
        metadata={"help": "Per-subreddit / per-label_source rows need at least this many examples."},
    )
    baseline_train_split: str = field(
        default="train", metadata={"help": "Split the baselines are fit on (never the evaluated split)."}
    )
    baseline_tune_split: str | None = field(
        default="validation",
        metadata={"help": "Split the tfidf_logreg threshold is tuned on (missing/empty: threshold 0.5)."},
    )
    threshold_metric: str | None = field(
        default=None,
        metadata={
            "help": "Metric the baseline threshold is tuned for (macro_f1 or mcc); default: the one recorded "
            "in the model's threshold.json, else macro_f1."
        },
    )


def _labeled(ds: Any, positive: int) -> tuple[list[dict[str, Any]], np.ndarray]:
    rows = [r for r in ds if r["label"] is not None]
    return rows, np.array([int(r["label"] == positive) for r in rows], dtype=int)


def _breakdown(
    keys: np.ndarray, preds: np.ndarray, refs: np.ndarray, probs: np.ndarray, min_n: int
) -> dict[str, Any]:
    """Metrics per distinct key (subreddit, label_source) with at least `min_n` rows."""
    out: dict[str, Any] = {}
    for key in sorted(set(keys.tolist())):
        mask = keys == key
        if mask.sum() >= min_n:
            out[key] = classification_metrics(preds[mask], refs[mask], probs[mask])
    return out


def compute_baselines(
    args: ClassifierArguments, rows: list[dict[str, Any]], positive: int, threshold_metric: str
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """metrics.json's `baselines` ({name: metrics + method}) and each baseline's P(effective) on `rows`."""
    from redditess_core.classifier import pair_texts

    if args.baseline_train_split == args.split:
        raise ValueError(f"--baseline_train_split must differ from the evaluated split {args.split!r}")
    train_rows, train_y = _labeled(load_split(args.dataset, args.config, args.baseline_train_split), positive)
    if not train_rows:
        raise ValueError(f"{args.dataset} [{args.config}/{args.baseline_train_split}]: no labeled rows")
    refs = np.array([int(r["label"] == positive) for r in rows])
    tune = None
    if args.baseline_tune_split and args.baseline_tune_split != args.split:
        try:
            tune_rows, tune_y = _labeled(
                load_split(args.dataset, args.config, args.baseline_tune_split), positive
            )
        except ValueError as exc:
            logger.warning("baseline threshold at 0.5: %s", exc)
        else:
            if tune_rows:
                tune = (*zip(*(pair_texts(r) for r in tune_rows), strict=True), tune_y)
    train = (*zip(*(pair_texts(r) for r in train_rows), strict=True), train_y)
    test = tuple(zip(*(pair_texts(r) for r in rows), strict=True))
    results: dict[str, Any] = {}
    scores: dict[str, np.ndarray] = {}
    for name, (preds, probs, info) in {
        "majority": majority_baseline(train_y, len(rows)),
        "tfidf_logreg": tfidf_logreg_baseline(train, test, tune, threshold_metric=threshold_metric),
    }.items():
        results[name] = {
            **classification_metrics(preds, refs, probs),
            **info,
            "fit_on": args.baseline_train_split,
        }
        scores[name] = probs
    return results, scores


def _recorded_metric(model: str) -> str | None:
    """The threshold metric a classifier run recorded in threshold.json (None when absent)."""
    import json

    from redditess_core.classifier import THRESHOLD_METRICS

    path = Path(model) / THRESHOLD_FILE
    metric = json.loads(path.read_text()).get("metric") if path.is_file() else None
    return metric if metric in THRESHOLD_METRICS else None  # runs from before macro F1 recorded "f1"


def run_classifier(args: ClassifierArguments) -> dict[str, Any]:
    """Score the split, compute metrics and figures; return the metrics written to metrics.json."""
    from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_curve

    from eval.models import load_classifier
    from eval.plots import confusion_matrix_png, pr_curve_png, roc_curve_png
    from eval.scoring import score_pairs
    from redditess_core.classifier import pair_texts

    ds = load_split(args.dataset, args.config, args.split)
    names = list(getattr(ds.features["label"], "names", LABEL_NAMES))
    if "effective" not in names:
        raise ValueError(f"{args.dataset} [{args.config}/{args.split}]: label names {names} lack 'effective'")
    positive = names.index("effective")
    rows, refs = _labeled(ds, positive)
    if not rows:
        raise ValueError(f"{args.dataset} [{args.config}/{args.split}]: no labeled rows")
    clf = load_classifier(args.model)
    threshold = clf.threshold if args.threshold is None else args.threshold
    threshold_metric = args.threshold_metric or _recorded_metric(args.model) or "macro_f1"
    posts, comments = zip(*(pair_texts(r) for r in rows), strict=True)
    probs = score_pairs(clf, posts, comments, batch_size=args.batch_size, max_length=args.max_length)
    preds = (probs >= threshold).astype(int)
    overall = classification_metrics(preds, refs, probs)
    baselines, baseline_scores = compute_baselines(args, rows, positive, threshold_metric)
    cm = confusion_matrix(refs, preds, labels=[0, 1])
    subs = np.array([r.get("subreddit") or "unknown" for r in rows])
    sources = np.array([r.get("label_source") or "unknown" for r in rows])
    out = Path(args.output_dir)
    confusion_matrix_png(cm.tolist(), list(LABEL_NAMES), out / "confusion_matrix.png", f"{args.split} split")
    if len(set(refs.tolist())) == 2:
        curves = {"model": probs, "tfidf_logreg": baseline_scores["tfidf_logreg"]}
        pr = {k: precision_recall_curve(refs, v)[:2] for k, v in curves.items()}
        roc = {k: roc_curve(refs, v)[:2] for k, v in curves.items()}
        aps = {"model": overall["pr_auc"], "tfidf_logreg": baselines["tfidf_logreg"]["pr_auc"]}
        aucs = {"model": overall["roc_auc"], "tfidf_logreg": baselines["tfidf_logreg"]["roc_auc"]}
        pr_curve_png(
            pr, aps, float(refs.mean()), out / "pr_curve.png", (overall["recall"], overall["precision"])
        )
        roc_curve_png(roc, aucs, out / "roc_curve.png")
    result = {
        "split": args.split,
        "threshold": threshold,
        "threshold_metric": threshold_metric,
        "positive_label": "effective",
        "metrics": {**overall, "average_precision": overall.get("pr_auc", float("nan"))},
        "pr_auc_no_skill": float(refs.mean()),
        "baselines": baselines,
        "confusion_matrix": {"labels": list(LABEL_NAMES), "rows_true_cols_pred": cm.tolist()},
        "per_subreddit": _breakdown(subs, preds, refs, probs, args.min_subreddit_n),
        "per_label_source": _breakdown(sources, preds, refs, probs, args.min_subreddit_n),
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
                "label_source": r.get("label_source"),
                "label": int(y),
                "p_effective": float(p),
                "prediction": int(q),
            }
            for r, y, p, q in zip(rows, refs, probs, preds, strict=True)
        ),
    )
    write_json(out / "metrics.json", result)
    for name, m in [("model", overall), *baselines.items()]:
        logger.info(
            "%s on %s: F1 %.3f, macro F1 %.3f, MCC %.3f, ROC-AUC %.3f (n=%d)",
            name,
            args.split,
            m["f1"],
            m["f1_macro"],
            m["mcc"],
            m.get("roc_auc", float("nan")),
            m["n"],
        )
    return result
