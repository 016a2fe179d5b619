"""Dataset and model cards: Jinja templates rendered through huggingface_hub's card classes, and offline validation."""

from cards.dataset_card import build_card_data, render_dataset_card, write_dataset_card

__all__ = ["build_card_data", "render_dataset_card", "write_dataset_card"]
