"""Plan the publication of a built RedditESS folder: the folder exactly as it is, validated first."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from cards.validate import validate_dataset_folder
from publish.plan import PlannedFile, UploadPlan
from redditess_core.contract import MANIFEST_FILE

logger = logging.getLogger(__name__)


class FolderInvalid(ValueError):
    """The folder failed `cards validate`; the message lists every problem."""


def dataset_files(folder: Path) -> list[PlannedFile]:
    """Every non-hidden file of the folder (README.md, manifest.json, data/**), in a stable order."""
    files = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            files.append(PlannedFile(rel.as_posix(), local_path=path))
    return files


def plan_dataset(
    folder: str | os.PathLike[str], repo_id: str, *, private: bool, gated: str, tag: str | None
) -> UploadPlan:
    """Validate the folder offline, then describe its upload; the tag defaults to `v<manifest version>`."""
    folder = Path(folder)
    logger.info("validating %s (card, configs, manifest, privacy scan)", folder.name)
    report = validate_dataset_folder(folder)
    if not report.ok:
        raise FolderInvalid(report.render())
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    version = str(manifest["version"])
    return UploadPlan(
        repo_id=repo_id,
        repo_type="dataset",
        private=private,
        gated=gated,
        tag=tag or f"v{version}",
        commit_message=f"Publish {manifest.get('pretty_name') or 'RedditESS'} {version}",
        files=dataset_files(folder),
    )
