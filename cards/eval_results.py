"""Task metrics of a model card's `model-index`, read from the evaluation kit's reports.

`model-index` is what the Hub shows and compares across models, so it holds task metrics only: the
classifier's metrics on a held-out split (`eval classify`'s metrics.json), the pairwise win rate of an LLM
judge (`eval judge`'s judge.json) and the linguistic measures of this model's replies (`eval linguistic`'s
linguistic.json). Trainer internals (loss, DPO rewards, runtime, throughput) stay in the card's training
section and never reach `model-index`.

A report is recognized by its shape (the keys the `eval` commands write); a report of another shape
contributes the numeric entries of its `metrics` mapping if it has one, else nothing (logged).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

# eval classify (metrics.json, "metrics"): key -> (model-index metric type, display name)
CLASSIFIER_METRICS = {
    "accuracy": ("accuracy", "accuracy"),
    "precision": ("precision", "precision (effective)"),
    "recall": ("recall", "recall (effective)"),
    "f1": ("f1", "F1 (effective)"),
    "f1_macro": ("f1", "macro F1"),
    "mcc": ("matthews_correlation", "MCC"),
    "roc_auc": ("roc_auc", "ROC AUC"),
    "pr_auc": ("pr_auc", "PR AUC (average precision)"),
}
# eval linguistic (linguistic.json, "systems" -> name -> row)
LINGUISTIC_METRICS = (
    "flesch_reading_ease",
    "flesch_kincaid_grade",
    "distinct_1",
    "distinct_2",
    "self_similarity",
    "style_matching",
    "semantic_similarity",
    "draft_similarity",
)
REFERENCE_ROW_PREFIX = "human"  # eval linguistic's row of the human-written replies


@dataclass(frozen=True)
class TaskMetric:
    """One `model-index` entry: where it comes from, the split, the metric type and name, the value."""

    source: str
    task_type: str
    split: str
    metric_type: str
    metric_name: str
    value: float


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(float(value)):
        return None
    return float(value)


def _classify(name: str, report: Mapping[str, Any]) -> list[TaskMetric]:
    split = str(report.get("split") or "test")
    rows = []
    for key, (metric_type, label) in CLASSIFIER_METRICS.items():
        value = _number(report["metrics"].get(key))
        if value is not None:
            rows.append(TaskMetric(name, "text-classification", split, metric_type, label, value))
    return rows


def _judge(name: str, report: Mapping[str, Any]) -> list[TaskMetric]:
    a, b, judge = report["system_a"], report["system_b"], report.get("judge") or "judge"
    caveat = "" if report.get("valid") else ", judge not validated"
    split = str(report.get("split") or "test")
    rows = []
    value = _number(report.get("win_rate"))
    if value is not None:
        label = f"win rate of {a} over {b} ({judge}{caveat})"
        rows.append(TaskMetric(name, "text-generation", split, "win_rate", label, value))
    for dim, summary in (report.get("per_dimension") or {}).items():
        value = _number((summary or {}).get("win_rate"))
        if value is not None:
            label = f"{dim} win rate of {a} over {b} ({judge}{caveat})"
            rows.append(TaskMetric(name, "text-generation", split, f"win_rate_{dim}", label, value))
    return rows


def _linguistic(name: str, report: Mapping[str, Any], system: str | None) -> list[TaskMetric]:
    systems = report["systems"]
    if system is None:
        candidates = [s for s in systems if not str(s).startswith(REFERENCE_ROW_PREFIX)]
        if len(candidates) != 1:
            logger.warning(
                "%s: %d systems (%s); pass --eval-system NAME to say which one this model is",
                name,
                len(candidates),
                ", ".join(map(str, candidates)),
            )
            return []
        system = candidates[0]
    if system not in systems:
        raise ValueError(
            f"evaluation report {name}: no system {system!r} (has {', '.join(map(str, systems))})"
        )
    row = systems[system]
    split = str(report.get("split") or "test")
    return [
        TaskMetric(name, "text-generation", split, key, key.replace("_", " "), value)
        for key in LINGUISTIC_METRICS
        if (value := _number(row.get(key))) is not None
    ]


def task_metrics(
    reports: Mapping[str, Mapping[str, Any]] | None,
    system: str | None = None,
    task_type: str = "text-generation",
) -> list[TaskMetric]:
    """Task metrics of every report (name = file stem -> parsed JSON), in report order.

    `system` names this model among the systems of a linguistic report (optional when it holds one model
    besides the human reference row); `task_type` is the model's task, used for a report's own `metrics`.
    Raises ValueError when `system` is not in a linguistic report.
    """
    rows: list[TaskMetric] = []
    for name, report in (reports or {}).items():
        if isinstance(report.get("metrics"), Mapping) and "positive_label" in report:
            rows += _classify(name, report)
        elif {"system_a", "system_b", "win_rate"} <= set(report):
            rows += _judge(name, report)
        elif isinstance(report.get("systems"), Mapping):
            rows += _linguistic(name, report, system)
        elif isinstance(report.get("metrics"), Mapping):
            split = str(report.get("split") or "test")
            rows += [
                TaskMetric(name, task_type, split, key, key.replace("_", " "), value)
                for key, raw in report["metrics"].items()
                if (value := _number(raw)) is not None
            ]
        else:
            logger.warning(
                "%s: not a report of eval classify, judge or linguistic; nothing for model-index", name
            )
    return rows
