"""Inter-rater agreement: percent agreement, Cohen's kappa, Fleiss' kappa, Krippendorff's alpha."""

import datasets
import evaluate

from eval.agreement import agreement_summary

_DESCRIPTION = "Inter-rater agreement over items rated by the same raters (missing ratings allowed)."
_KWARGS_DESCRIPTION = """
Args:
    predictions (list of list): one list per item holding each rater's label (same raters, same order for every
        item; None for a missing rating). Numeric labels, or strings for nominal data.
    level (str): "nominal" (default) or "ordinal" (numeric labels; Krippendorff's ordinal metric,
        quadratic-weighted Cohen's kappa).
Returns:
    percent_agreement (mean share of agreeing rater pairs per item), cohen_kappa (two raters only, else None),
    fleiss_kappa (items rated by every rater), krippendorff_alpha, n_items, n_items_complete, n_raters, level.
"""
_CITATION = (
    "Cohen (1960); Fleiss (1971); Krippendorff (2011) Computing Krippendorff's alpha-reliability. "
    "Paper figures: Fleiss' kappa 0.42, 94.68% agreement (RedditESS, arXiv 2503.21888)."
)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Agreement(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features({"predictions": datasets.Sequence(datasets.Value("string"))}),
                datasets.Features({"predictions": datasets.Sequence(datasets.Value("float64"))}),
            ],
        )

    def _compute(self, predictions, level="nominal"):
        items = [[_normalise(v) for v in row] for row in predictions]
        return agreement_summary(items, level=level)


def _normalise(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
