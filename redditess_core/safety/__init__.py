"""Crisis screening and crisis resources, shared by the builder, evaluation and assist tools."""

from redditess_core.safety.crisis import (
    CrisisScreen,
    RuleScreen,
    ScreenResult,
    load_resources,
    screen,
    screen_text,
    screen_texts,
)
from redditess_core.safety.lexicon import CATEGORIES, load_lexicon

__all__ = [
    "CATEGORIES",
    "CrisisScreen",
    "RuleScreen",
    "ScreenResult",
    "load_lexicon",
    "load_resources",
    "screen",
    "screen_text",
    "screen_texts",
]
