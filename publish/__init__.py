"""Publish RedditESS datasets and adapters to the Hub: one commit, private and gated by default, version tags."""

from publish.adapter import plan_adapter
from publish.dataset import plan_dataset
from publish.hub import PublishError, PublishResult, execute
from publish.plan import PlannedFile, UploadPlan

__all__ = [
    "PlannedFile",
    "PublishError",
    "PublishResult",
    "UploadPlan",
    "execute",
    "plan_adapter",
    "plan_dataset",
]
