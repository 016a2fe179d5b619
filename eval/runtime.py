"""Options every eval command shares (a keyword-only base dataclass, so commands keep their own order)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from redditess_core.logs import LogLevelArguments

logger = logging.getLogger(__name__)


@dataclass(kw_only=True)
class RuntimeArguments(LogLevelArguments):
    """Process-wide settings applied before a command runs."""

    torch_threads: int | None = field(
        default=None,
        metadata={
            "help": "torch CPU threads (default: torch's choice). On a shared or busy machine 1 is often faster: "
            "with more runnable threads than cores, small ops wait on OpenMP barriers."
        },
    )

    def apply(self) -> None:
        """Apply `--log_level`; set the thread count if one was given."""
        self.configure_logging()
        if self.torch_threads is not None:
            import torch

            torch.set_num_threads(self.torch_threads)
            logger.info("torch threads: %d", self.torch_threads)
