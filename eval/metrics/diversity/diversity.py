"""Diversity of a set of texts: distinct-1, distinct-2 and self-similarity.

Stands alone for `evaluate.load("eval/metrics/diversity")`; description, inputs and citation are the
`diversity` row of `eval/metrics/specs.py`.
"""

from eval.metrics.base import KitMetric
from eval.text import distinct_n, jaccard_self_similarity
from redditess_core.encoder import encoder_available, mean_pairwise_cosine


class Diversity(KitMetric):
    def _compute(self, predictions, self_similarity="auto"):
        if self_similarity not in ("auto", "embedding", "jaccard"):
            raise ValueError(
                f"diversity: self_similarity must be auto, embedding or jaccard, got {self_similarity!r}"
            )
        texts = [t or "" for t in predictions]
        use_embedding = self_similarity == "embedding" or (self_similarity == "auto" and encoder_available())
        return {
            "distinct_1": distinct_n(texts, 1),
            "distinct_2": distinct_n(texts, 2),
            "self_similarity": mean_pairwise_cosine(texts)
            if use_embedding
            else jaccard_self_similarity(texts),
            "self_similarity_method": "minilm_cosine" if use_embedding else "jaccard",
        }
