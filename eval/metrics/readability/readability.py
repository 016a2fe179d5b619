"""Readability of texts: Flesch reading ease and Flesch-Kincaid grade level."""

import datasets
import evaluate
import numpy

from eval.text import readability

_DESCRIPTION = "Flesch reading ease and Flesch-Kincaid grade of each text, and their means."
_KWARGS_DESCRIPTION = """
Args:
    predictions (list of str): texts (e.g. generated replies).
Returns:
    flesch_reading_ease, flesch_kincaid_grade (means over texts with at least one word), and the per-text
    lists flesch_reading_ease_per_text, flesch_kincaid_grade_per_text (NaN for empty texts).
"""
_CITATION = (
    "Flesch (1948) J. Applied Psychology 32:221; Kincaid et al. (1975) Navy research branch report 8-75."
)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Readability(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string")}),
        )

    def _compute(self, predictions):
        rows = [readability(t or "") for t in predictions]
        out = {}
        for key in ("flesch_reading_ease", "flesch_kincaid_grade"):
            values = [r[key] for r in rows]
            out[key] = float(numpy.nanmean(values)) if any(v == v for v in values) else float("nan")
            out[f"{key}_per_text"] = values
        return out
