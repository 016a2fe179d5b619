"""Inter-rater agreement: percent agreement, Cohen's kappa, Fleiss' kappa, Krippendorff's alpha.

Stands alone for `evaluate.load("eval/metrics/agreement")`; description, inputs and citation are the
`agreement` row of `eval/metrics/specs.py`.
"""

from eval.agreement import agreement_summary
from eval.metrics.base import KitMetric


class Agreement(KitMetric):
    def _compute(self, predictions, level="nominal"):
        items = [[_normalise(v) for v in row] for row in predictions]
        return agreement_summary(items, level=level)


def _normalise(value):
    """Ratings arrive as float64 through evaluate's features: 2.0 -> 2, so nominal labels compare as given."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
