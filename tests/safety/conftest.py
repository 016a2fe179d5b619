"""A real tiny text-classification model saved locally (built from a config: no Hub), for the crisis scorer."""

from __future__ import annotations

from pathlib import Path

import pytest


def _classifier(encoder: Path, out: Path, positive_bias: float, labels: tuple[str, str]) -> Path:
    """A BertForSequenceClassification on the tiny encoder whose head always prefers one label: zero
    weights and a bias of +/- `positive_bias`, so its positive-label probability is known exactly."""
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    model = BertForSequenceClassification.from_pretrained(
        encoder,
        num_labels=2,
        id2label=dict(enumerate(labels)),
        label2id={lab: i for i, lab in enumerate(labels)},
    )
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([0.0, positive_bias]))
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(encoder).save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.tiny import build_tiny_encoder

    return build_tiny_encoder(tmp_path_factory.mktemp("crisis-models") / "tiny-encoder")


@pytest.fixture(scope="session")
def crisis_models(tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`flags_all`: positive-label probability sigmoid(4) ~ 0.98; `flags_none`: ~ 0.02; `odd_labels`:
    labels no known name (`LABEL_A`, `LABEL_B`)."""
    root = tmp_path_factory.mktemp("crisis-classifiers")
    return {
        "flags_all": _classifier(tiny_encoder, root / "flags-all", 4.0, ("low_risk", "high_risk")),
        "flags_none": _classifier(tiny_encoder, root / "flags-none", -4.0, ("low_risk", "high_risk")),
        "odd_labels": _classifier(tiny_encoder, root / "odd-labels", 4.0, ("LABEL_A", "LABEL_B")),
    }
