"""`--log_level` for the kit's commands: one dataclass field and one function that applies it.

Training scripts take TrainingArguments' own `log_level` (transformers); `eval` and `assist` commands
inherit `LogLevelArguments` (parsed by HfArgumentParser like the rest of their options).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
# The kit's own loggers (library loggers keep their own verbosity).
KIT_LOGGERS = ("assist", "cards", "dataset_builder", "eval", "publish", "redditess_core", "training")


@dataclass(kw_only=True)
class LogLevelArguments:
    log_level: str = field(
        default="info",
        metadata={"help": "Logging level of the kit's messages.", "choices": list(LOG_LEVELS)},
    )

    def configure_logging(self) -> int:
        return configure_logging(self.log_level)


def configure_logging(level: str) -> int:
    """Log the kit's messages at `level` (one of LOG_LEVELS) to stderr; returns the numeric level.

    Raises ValueError for an unknown level. When the root logger already has handlers (a host
    application, pytest), only the kit's loggers' levels are set.
    """
    if level.lower() not in LOG_LEVELS:
        raise ValueError(f"--log_level must be one of {', '.join(LOG_LEVELS)}; got {level!r}")
    numeric = getattr(logging, level.upper())
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", level=numeric, stream=sys.stderr)
    for name in KIT_LOGGERS:
        logging.getLogger(name).setLevel(numeric)
    return numeric
