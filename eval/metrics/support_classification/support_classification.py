"""Effective-support classification metrics for RedditESS (positive class = effective = 1)."""

import datasets
import evaluate

from eval.classification import classification_metrics

_DESCRIPTION = (
    "Binary metrics for the RedditESS effective-support classifier; positive class is effective (1)."
)
_KWARGS_DESCRIPTION = """
Args:
    predictions (list of int): predicted labels, 0 = not_effective, 1 = effective.
    references (list of int): gold labels, same coding.
    prediction_scores (list of float, optional): P(effective) per example; adds roc_auc.
Returns:
    accuracy, precision, recall, f1 (binary, positive = effective), f1_macro, mcc, n, and roc_auc when scores are given.
"""
_CITATION = "Alghamdi et al., RedditESS, arXiv 2503.21888 (classifier F1 84% BERT, 85% RoBERTa)."


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SupportClassification(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}
            ),
        )

    def _compute(self, predictions, references, prediction_scores=None):
        return classification_metrics(predictions, references, prediction_scores)
