"""Readability of texts: Flesch reading ease and Flesch-Kincaid grade level.

Stands alone for `evaluate.load("eval/metrics/readability")`; description, inputs and citation are the
`readability` row of `eval/metrics/specs.py`.
"""

import numpy

from eval.metrics.base import KitMetric
from eval.text import readability


class Readability(KitMetric):
    def _compute(self, predictions):
        rows = [readability(t or "") for t in predictions]
        out = {}
        for key in ("flesch_reading_ease", "flesch_kincaid_grade"):
            values = [r[key] for r in rows]
            out[key] = float(numpy.nanmean(values)) if any(v == v for v in values) else float("nan")
            out[f"{key}_per_text"] = values
        return out
