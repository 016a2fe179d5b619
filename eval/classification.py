"""Binary effective-support classification metrics (positive class = `effective` = 1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn import metrics as skm

LABEL_NAMES = ("not_effective", "effective")


def classification_metrics(
    predictions: Sequence[int], references: Sequence[int], prediction_scores: Sequence[float] | None = None
) -> dict[str, Any]:
    """accuracy, precision, recall, f1 (binary, positive = effective), f1_macro, mcc, roc_auc (with scores)."""
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
    }
    if prediction_scores is not None:
        scores = np.asarray(prediction_scores, dtype=float)
        if scores.shape != refs.shape:
            raise ValueError(f"support_classification: {scores.size} scores vs {refs.size} references")
        out["roc_auc"] = (
            float(skm.roc_auc_score(refs, scores)) if len(set(refs.tolist())) == 2 else float("nan")
        )
    return out
