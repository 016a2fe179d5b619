"""An upload plan: the exact files a publish puts in one commit, and its dry-run rendering.

The same plan object drives both the real upload and `--dry-run`, so the dry-run tree is by
construction the tree that would be uploaded (the round-trip test checks it against the server).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huggingface_hub.utils import HFValidationError, validate_repo_id
from tqdm.auto import tqdm


class InvalidRepoId(ValueError):
    """A `--repo` value the Hub would refuse, or one without a namespace (raised before any network call)."""


def check_repo_id(repo_id: str) -> str:
    """Return `repo_id` if it is `NAMESPACE/NAME` and passes huggingface_hub's own `validate_repo_id`.

    A bare `NAME` is valid for huggingface_hub (it means the token owner's namespace), but a publish
    must say where it goes: `lab` would silently create `<user>/lab`. Raises `InvalidRepoId`.
    """
    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        raise InvalidRepoId(f"invalid --repo {repo_id!r}: {err}") from None
    if repo_id.count("/") != 1:
        raise InvalidRepoId(
            f"invalid --repo {repo_id!r}: give the namespace too, as ORG/NAME or USER/NAME "
            "(a bare name would be created under the token owner's account)"
        )
    return repo_id


@dataclass(frozen=True)
class PlannedFile:
    """One file of the commit: `path_in_repo` and either a local file or rendered bytes."""

    path_in_repo: str
    local_path: Path | None = None
    content: bytes | None = None

    def read(self) -> bytes:
        return self.content if self.content is not None else Path(self.local_path).read_bytes()  # type: ignore[arg-type]

    def size(self) -> int:
        return len(self.content) if self.content is not None else Path(self.local_path).stat().st_size  # type: ignore[arg-type]

    def sha256(self) -> str:
        h = hashlib.sha256()
        if self.content is not None:
            h.update(self.content)
        else:
            with open(self.local_path, "rb") as f:  # type: ignore[arg-type]
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        return h.hexdigest()


@dataclass
class UploadPlan:
    """What `publish` will do on the Hub: repo settings, one commit of `files`, an optional tag."""

    repo_id: str
    repo_type: str  # "dataset" | "model"
    private: bool
    gated: str  # "auto" | "manual" | "off"
    tag: str | None
    commit_message: str
    files: list[PlannedFile] = field(default_factory=list)
    base_model: str | None = None  # an adapter's base: must exist on the Hub before anything is written

    def __post_init__(self) -> None:
        check_repo_id(self.repo_id)

    def operations(self) -> list[dict[str, Any]]:
        """The ordered operations, as the dry run lists them (no network needed to compute them)."""
        ops: list[dict[str, Any]] = []
        if self.base_model:
            ops.append({"op": "check_base_model", "repo_id": self.base_model, "repo_type": "model"})
        ops += [
            {
                "op": "create_repo",
                "repo_id": self.repo_id,
                "repo_type": self.repo_type,
                "private": self.private,
                "exist_ok": True,
            },
            {"op": "update_repo_settings", "gated": False if self.gated == "off" else self.gated},
            {
                "op": "create_commit",
                "revision": "main",
                "message": self.commit_message,
                "add": [
                    {"path": f.path_in_repo, "size": f.size(), "sha256": f.sha256()}
                    for f in tqdm(self.files, desc="hashing", unit="file", disable=None, leave=False)
                ],
                "delete": "remote files not in this list (computed at upload time; .gitattributes is kept)",
            },
        ]
        if self.tag:
            ops.append(
                {"op": "create_tag", "tag": self.tag, "revision": "the commit above", "move_existing": False}
            )
        return ops

    def write_dry_run(self, out: str | os.PathLike[str]) -> Path:
        """Write `out/tree/` (the exact files) and `out/operations.json`, atomically (temp dir, rename)."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            for f in self.files:
                target = tmp / "tree" / f.path_in_repo
                target.parent.mkdir(parents=True, exist_ok=True)
                if f.content is not None:
                    target.write_bytes(f.content)
                else:
                    shutil.copyfile(f.local_path, target)  # type: ignore[arg-type]
            (tmp / "tree").mkdir(exist_ok=True)
            (tmp / "operations.json").write_text(
                json.dumps(self.operations(), indent=2) + "\n", encoding="utf-8"
            )
            if out.exists():
                shutil.rmtree(out)
            os.replace(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out
