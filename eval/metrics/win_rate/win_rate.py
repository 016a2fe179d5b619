"""Pairwise win rate of system a over system b, ties counted as half a win, with a 95% interval.

Stands alone for `evaluate.load("eval/metrics/win_rate")`; description, inputs and citation are the
`win_rate` row of `eval/metrics/specs.py`.
"""

from eval.metrics.base import KitMetric
from eval.stats import win_rate_summary


class WinRate(KitMetric):
    def _compute(self, predictions, ci_method="wilson"):
        return win_rate_summary(predictions, method=ci_method)
