"""Dataset and model cards: Jinja templates rendered through huggingface_hub's card classes, and offline validation."""

from cards.dataset_card import build_card_data, render_dataset_card, write_dataset_card
from cards.model_card import ModelCardInputs, render_model_card
from cards.validate import Report, validate_folder

__all__ = [
    "ModelCardInputs",
    "Report",
    "build_card_data",
    "render_dataset_card",
    "render_model_card",
    "validate_folder",
    "write_dataset_card",
]
