"""Language style matching (LSM) between a post and its reply over function-word categories."""

import datasets
import evaluate
import numpy

from eval.text import style_matching

_DESCRIPTION = "Language style matching between each reply and its post (stylistic accommodation), 0-1."
_KWARGS_DESCRIPTION = """
Args:
    predictions (list of str): replies.
    references (list of str): the posts they answer.
Returns:
    style_matching (mean LSM), style_matching_per_text. LSM = mean over nine function-word categories
    (personal and impersonal pronouns, articles, prepositions, auxiliary verbs, high-frequency adverbs,
    conjunctions, negations, quantifiers) of 1 - |p_post - p_reply| / (p_post + p_reply + 0.0001).
"""
_CITATION = "Ireland & Pennebaker (2010) Language style matching in writing, JPSP 99(3):549-571."


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class StyleMatching(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references):
        scores = [
            style_matching(post or "", reply or "")
            for reply, post in zip(predictions, references, strict=True)
        ]
        return {
            "style_matching": float(numpy.mean(scores)) if scores else float("nan"),
            "style_matching_per_text": scores,
        }
