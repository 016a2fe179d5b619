"""Effective-support classification metrics for RedditESS (positive class = effective = 1).

Stands alone for `evaluate.load("eval/metrics/support_classification")`; description, inputs and citation
are the `support_classification` row of `eval/metrics/specs.py`.
"""

from eval.classification import classification_metrics
from eval.metrics.base import KitMetric


class SupportClassification(KitMetric):
    def _compute(self, predictions, references, prediction_scores=None):
        return classification_metrics(predictions, references, prediction_scores)
