"""Optional model-based crisis scorer: any Hugging Face text-classification model with a known positive label.

    scorer = ModelScorer.load("path/or/org-name", positive_label="suicide")
    scorer.scores(["text", ...])  # probability of the positive label, one float in [0, 1] per text

Combined with the rules by `redditess_core.safety.CrisisScreen(model=scorer)`: a text is high-risk when either flags it
(the model when its positive-label probability reaches `threshold`). The rules stay the default and work
offline; the model adds recall on phrasings no lexicon lists. Loading uses `transformers.pipeline`, so a
local folder, a Hub id (with the usual cache and HF_HUB_OFFLINE) and a revision all work.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

# Label names that mean "at risk" in common crisis / suicide-risk classifiers (compared lower-cased).
KNOWN_POSITIVE_LABELS = ("high_risk", "crisis", "suicide", "suicidal", "self_harm", "at_risk", "risk")


class CrisisModelError(ValueError):
    """The crisis model cannot be loaded or its positive label is unknown."""


@dataclass
class ModelScorer:
    pipe: Any
    positive_label: str
    threshold: float = 0.5
    batch_size: int = 16
    name: str = ""

    @classmethod
    def load(
        cls,
        model: str,
        positive_label: str | None = None,
        threshold: float = 0.5,
        revision: str | None = None,
        batch_size: int = 16,
    ) -> ModelScorer:
        """Load a text-classification model; `positive_label` must be one of its labels (default: the one
        label among KNOWN_POSITIVE_LABELS). Raises CrisisModelError with the model's labels otherwise."""
        from transformers import pipeline

        if not 0.0 < threshold <= 1.0:
            raise CrisisModelError(f"crisis model threshold must be in (0, 1], got {threshold}")
        try:
            pipe = pipeline("text-classification", model=model, revision=revision, device="cpu")
        except (OSError, ValueError) as err:
            raise CrisisModelError(f"cannot load crisis model {model!r}: {err}") from None
        labels = [str(v) for v in pipe.model.config.id2label.values()]
        if positive_label is None:
            known = [lab for lab in labels if lab.lower() in KNOWN_POSITIVE_LABELS]
            if len(known) != 1:
                raise CrisisModelError(
                    f"crisis model {model!r} has labels {labels}: name the positive one (--crisis_model_label)"
                )
            positive_label = known[0]
        if positive_label not in labels:
            raise CrisisModelError(
                f"crisis model {model!r} has no label {positive_label!r} (labels: {labels})"
            )
        logger.info("crisis model %s: positive label %r, threshold %.2f", model, positive_label, threshold)
        return cls(pipe, positive_label, threshold, batch_size, model)

    def scores(self, texts: Sequence[str]) -> list[float]:
        """Probability of the positive label for each text (long texts are truncated to the model's length)."""
        if not texts:
            return []
        outputs = self.pipe(list(texts), top_k=None, truncation=True, batch_size=self.batch_size)
        return [next(o["score"] for o in out if o["label"] == self.positive_label) for out in outputs]
