"""Language style matching (LSM) between a post and its reply over function-word categories.

Stands alone for `evaluate.load("eval/metrics/style_matching")`; description, inputs and citation are the
`style_matching` row of `eval/metrics/specs.py`.
"""

import numpy

from eval.metrics.base import KitMetric
from eval.text import style_matching


class StyleMatching(KitMetric):
    def _compute(self, predictions, references):
        scores = [
            style_matching(post or "", reply or "")
            for reply, post in zip(predictions, references, strict=True)
        ]
        return {
            "style_matching": float(numpy.mean(scores)) if scores else float("nan"),
            "style_matching_per_text": scores,
        }
