"""Binary effective-support classification metrics (positive class = `effective` = 1) and the baselines
every model row is set beside: `majority` and `tfidf_logreg`, fit on the same dataset's train split."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn import metrics as skm

from redditess_core.contract import LABEL_NAMES

BASELINES = ("majority", "tfidf_logreg")


def classification_metrics(
    predictions: Sequence[int], references: Sequence[int], prediction_scores: Sequence[float] | None = None
) -> dict[str, Any]:
    """Metrics of binary predictions against references (0 = not_effective, 1 = effective).

    Always: accuracy, precision, recall, f1 (of the positive class), f1_macro, mcc, n, positive_rate (share of
    references that are positive, which is also the PR-AUC of a no-skill classifier) and
    predicted_positive_rate. With scores (P(effective), shape (n,)): roc_auc and pr_auc (average precision,
    sklearn's step-wise PR-AUC); both are NaN when the references hold one class only.

    Raises:
        ValueError: on mismatched shapes, no rows, or labels outside {0, 1}.
    """
    preds, refs = np.asarray(predictions), np.asarray(references)
    if preds.shape != refs.shape:
        raise ValueError(f"support_classification: {preds.size} predictions vs {refs.size} references")
    if preds.size == 0:
        raise ValueError("support_classification: no predictions")
    bad = sorted({int(v) for v in np.concatenate([preds, refs]) if v not in (0, 1)})
    if bad:
        raise ValueError(
            f"support_classification: labels must be 0 (not_effective) or 1 (effective); got {bad}"
        )
    out: dict[str, Any] = {
        "accuracy": float(skm.accuracy_score(refs, preds)),
        "precision": float(skm.precision_score(refs, preds, pos_label=1, zero_division=0)),
        "recall": float(skm.recall_score(refs, preds, pos_label=1, zero_division=0)),
        "f1": float(skm.f1_score(refs, preds, pos_label=1, zero_division=0)),
        "f1_macro": float(skm.f1_score(refs, preds, average="macro", labels=[0, 1], zero_division=0)),
        "mcc": float(skm.matthews_corrcoef(refs, preds)),
        "n": int(refs.size),
        "positive_rate": float(refs.mean()),
        "predicted_positive_rate": float(preds.mean()),
    }
    if prediction_scores is not None:
        scores = np.asarray(prediction_scores, dtype=float)
        if scores.shape != refs.shape:
            raise ValueError(f"support_classification: {scores.size} scores vs {refs.size} references")
        both = len(set(refs.tolist())) == 2
        out["roc_auc"] = float(skm.roc_auc_score(refs, scores)) if both else float("nan")
        out["pr_auc"] = float(skm.average_precision_score(refs, scores)) if both else float("nan")
    return out


def _texts(posts: Sequence[str], comments: Sequence[str]) -> list[str]:
    return [f"{p}\n\n{c}" for p, c in zip(posts, comments, strict=True)]


def majority_baseline(train_labels: Sequence[int], n: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Always predict the most frequent training label; the score is that label's training share (constant,
    so ROC-AUC is 0.5 and PR-AUC the positive rate). Returns (predictions, scores, description)."""
    labels = np.asarray(train_labels, dtype=int)
    if labels.size == 0:
        raise ValueError("majority baseline: no training labels")
    share = float(labels.mean())
    majority = int(share >= 0.5)
    info = {
        "method": f"always `{LABEL_NAMES[majority]}` (the training majority, {100 * max(share, 1 - share):.1f}%)"
    }
    return np.full(n, majority), np.full(n, share), info


def tfidf_logreg_baseline(
    train: tuple[Sequence[str], Sequence[str], Sequence[int]],
    test: tuple[Sequence[str], Sequence[str]],
    tune: tuple[Sequence[str], Sequence[str], Sequence[int]] | None = None,
    *,
    threshold_metric: str = "macro_f1",
    max_features: int = 50_000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """TF-IDF (word 1-2 grams, sublinear tf) of post + comment, then class-balanced logistic regression.

    Fit on `train` = (posts, comments, labels); the decision threshold is tuned on `tune` for
    `threshold_metric` with the classifier recipe's own `redditess_core.classifier.tune_threshold` (same rule as the
    model), else 0.5. Returns (predictions on `test`, P(effective) on `test`, description with the threshold).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from redditess_core.classifier import tune_threshold

    labels = np.asarray(train[2], dtype=int)
    if len(set(labels.tolist())) < 2:
        raise ValueError("tfidf_logreg baseline: the training split holds one class only")
    pipe = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=max_features, sublinear_tf=True),
        LogisticRegression(class_weight="balanced", max_iter=2000, random_state=seed),
    )
    pipe.fit(_texts(train[0], train[1]), labels)
    info: dict[str, Any] = {
        "method": "TF-IDF word 1-2 grams of post + comment, class-balanced logistic regression (scikit-learn)",
        "n_train": int(labels.size),
    }
    threshold = 0.5
    if tune is not None and len(set(np.asarray(tune[2]).tolist())) == 2:
        tuned = tune_threshold(
            pipe.predict_proba(_texts(tune[0], tune[1]))[:, 1],
            np.asarray(tune[2], dtype=bool),
            threshold_metric,
        )
        threshold = tuned["threshold"]
        info["threshold_metric"] = threshold_metric
    info["threshold"] = threshold
    scores = pipe.predict_proba(_texts(test[0], test[1]))[:, 1]
    return (scores >= threshold).astype(int), scores, info
