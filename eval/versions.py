"""Provenance of every eval output: which data, model and adapter versions a number came from."""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from redditess_core.contract import MANIFEST_FILE, RUN_RECORD

_FULL_HASH_LIMIT = 64 * 2**20
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")


def fingerprint(path: str | Path) -> str | None:
    """Short content hash of a saved model/adapter folder (configs, tokenizer and weights).

    Files up to 64 MiB are hashed in full; larger weight files by size plus their first and last 8 MiB, so a
    7B checkpoint is fingerprinted in a second while a changed file still changes the hash.
    """
    path = Path(path)
    if not path.exists():
        return None
    files = (
        [path]
        if path.is_file()
        else sorted(p for p in path.rglob("*") if p.is_file() and "checkpoint-" not in str(p))
    )
    digest = hashlib.sha256()
    for f in files:
        rel = f.name if path.is_file() else str(f.relative_to(path))
        if rel.startswith(".") or "/." in rel:
            continue
        size = f.stat().st_size
        digest.update(f"{rel}\0{size}\0".encode())
        with f.open("rb") as fh:
            if size <= _FULL_HASH_LIMIT:
                for chunk in iter(lambda fh=fh: fh.read(2**20), b""):
                    digest.update(chunk)
            else:
                digest.update(fh.read(8 * 2**20))
                fh.seek(size - 8 * 2**20)
                digest.update(fh.read())
    return digest.hexdigest()[:16]


def dataset_info(folder: str | Path, config: str | None = None, split: str | None = None) -> dict[str, Any]:
    """Path, version (from manifest.json), manifest hash, config and split of a RedditESS folder."""
    folder = Path(folder)
    manifest = folder / MANIFEST_FILE
    info: dict[str, Any] = {"path": str(folder.resolve()), "config": config, "split": split, "version": None}
    if manifest.is_file():
        raw = manifest.read_bytes()
        info["version"] = json.loads(raw).get("version")
        info["manifest_sha256"] = hashlib.sha256(raw).hexdigest()[:16]
    return info


def model_info(path: str | Path | None) -> dict[str, Any] | None:
    """Name, fingerprint, and (for trained runs) the training run record of a model or adapter folder."""
    if path is None:
        return None
    p = Path(path)
    info: dict[str, Any] = {
        "name_or_path": str(p.resolve()) if p.exists() else str(path),
        "fingerprint": fingerprint(p),
    }
    adapter_cfg = p / "adapter_config.json"
    if adapter_cfg.is_file():
        info["base_model"] = json.loads(adapter_cfg.read_text()).get("base_model_name_or_path")
    run = p / RUN_RECORD
    if run.is_file():
        record = json.loads(run.read_text())
        info["run"] = {
            k: record.get(k) for k in ("stage", "base_model", "parent_adapter", "dataset") if k in record
        }
    return info


@functools.lru_cache(maxsize=1)
def code_info() -> dict[str, Any]:
    """Kit version, git commit (when run from a checkout) and the main library versions."""
    out: dict[str, Any] = {}
    try:
        out["redditess_kit"] = version("redditess-kit")
    except PackageNotFoundError:
        out["redditess_kit"] = None
    try:
        out["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out["git_commit"] = None
    for name in ("torch", "transformers", "peft", "datasets", "evaluate"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def provenance(**parts: Any) -> dict[str, Any]:
    """The `provenance` block every eval output carries: given parts plus code versions and a timestamp."""
    return {**parts, "code": code_info(), "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
