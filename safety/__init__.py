"""Crisis-language screening and crisis resources, shared by the builder, evaluation and assist tools."""

from safety.crisis import CRISIS_SQL_PATTERN, CrisisScreen, load_resources, screen_text

__all__ = ["CRISIS_SQL_PATTERN", "CrisisScreen", "load_resources", "screen_text"]
