"""Pairwise win rate of system a over system b, ties counted as half a win, with a 95% interval."""

import datasets
import evaluate

from eval.stats import win_rate_summary

_DESCRIPTION = "Win rate of system a over system b from pairwise verdicts; ties count half; 95% CI (Wilson or bootstrap)."
_KWARGS_DESCRIPTION = """
Args:
    predictions (list of str): one verdict per comparison: "a" (a wins), "b" (b wins) or "tie".
    ci_method (str): "wilson" (default; Wilson score interval on the tie-adjusted proportion) or "bootstrap"
        (percentile bootstrap, 2000 resamples, seed 0).
Returns:
    wins, losses, ties, n, tie_rate, win_rate = (wins + ties / 2) / n, ci_low, ci_high, win_rate_excluding_ties =
    wins / (wins + losses) with ci_low_excluding_ties, ci_high_excluding_ties, and ci_method.
"""
_CITATION = "Wilson (1927), JASA 22:209-212. Paper figure: 71.6% win rate (RedditESS, arXiv 2503.21888)."


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class WinRate(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string")}),
        )

    def _compute(self, predictions, ci_method="wilson"):
        return win_rate_summary(predictions, method=ci_method)
