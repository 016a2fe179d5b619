"""The one loader of RedditESS data: a local folder, a single file, or a Hub id at a revision.

- A **folder** (a RedditESS build, or any Hub-style dataset folder) loads with `load_dataset(folder, config)`,
  offline, in a cache keyed on its files (`local_cache_dir`), so a rebuilt folder never serves stale rows.
- A **single file** (`.jsonl`, `.json`, `.parquet`, `.csv`: e.g. the DPO2 pairs `eval human` writes) loads with
  the matching packaged builder as a `train` split.
- Anything else is a **Hub id**, loaded at `revision` (a tag such as `v0.1.0`, a branch or a commit) from the
  Hub or, offline, from the local `datasets` cache.

Each loaded split is checked against the columns its config needs (`contract.REQUIRED_COLUMNS`); errors name
the source, config and split. `load_splits` also accepts `datasets` slicing (`train[:64]`, `validation[:10%]`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from redditess_core.contract import MANIFEST_FILE, REQUIRED_COLUMNS

if TYPE_CHECKING:
    import datasets

FILE_BUILDERS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


class DatasetContractError(ValueError):
    """The data cannot be loaded as asked, or lacks a split or the columns its config must have."""


def split_name(spec: str) -> str:
    """`train[:8]` -> `train`."""
    return spec.split("[", 1)[0].strip()


def local_cache_dir(path: Path) -> Path:
    """A `datasets` cache folder specific to this exact local dataset (absolute path, file sizes and mtimes).

    `datasets` keys the cache of a local folder on its name, config and relative file names only: a rebuilt
    or edited folder of the same name (two `redditess` builds, a copy with a column removed) was served the
    stale cached copy, columns included. Keying the cache on the files' identity makes reuse safe.
    """
    import datasets

    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for f in files:
        st = f.stat()
        digest.update(f"{f.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return Path(datasets.config.HF_DATASETS_CACHE) / "redditess-local" / digest.hexdigest()[:16]


def _load_kwargs(source: str, config: str | None, revision: str | None) -> dict[str, object]:
    """`load_dataset` arguments for a file, a folder or a Hub id."""
    path = Path(source).expanduser()
    if path.is_file():
        builder = FILE_BUILDERS.get(path.suffix.lower())
        if builder is None:
            raise DatasetContractError(
                f"{path}: unsupported file type {path.suffix!r} (use {', '.join(sorted(FILE_BUILDERS))})"
            )
        return {"path": builder, "data_files": {"train": str(path)}, "cache_dir": str(local_cache_dir(path))}
    if path.is_dir():
        from datasets import get_dataset_config_names

        if config is not None:
            configs = get_dataset_config_names(str(path))
            if config not in configs:
                raise DatasetContractError(f"{path}: no config {config!r} (available: {configs})")
        return {"path": str(path), "name": config, "cache_dir": str(local_cache_dir(path))}
    if source.startswith((".", "/", "~")) or source.count("/") > 1:
        raise DatasetContractError(f"dataset folder or file not found: {path}")
    return {"path": source, "name": config, "revision": revision}


def load_splits(
    source: str | Path,
    config: str | None,
    splits: Sequence[str],
    *,
    revision: str | None = None,
    expected_config: str | None = None,
) -> dict[str, datasets.Dataset]:
    """The named splits of `config` from a folder, a file or a Hub id at `revision`, checked.

    `expected_config` names the contract config whose columns the caller needs (DPO: `preference`, whose
    columns `improvement` shares; a loose file of pairs has no config); default `config`'s own. Returns
    {split spec: Dataset} in the order asked.

    Raises:
        DatasetContractError: unknown file type, missing folder or config, a Hub id or revision the Hub does
            not have, a revision for a local source, a missing split (empty splits are not written by the
            builder) or missing columns.
    """
    from datasets import load_dataset

    source = str(source)
    kwargs = _load_kwargs(source, config, revision)
    if revision and "revision" not in kwargs:
        raise DatasetContractError(
            f"{source}: a revision ({revision!r}) applies to a Hub dataset id, not to a local folder or file"
        )
    where = f"{source}" + (f"@{revision}" if revision else "")
    if "revision" in kwargs:  # a Hub id: an unknown repo or revision is the user's input, said as such
        from datasets.exceptions import DatasetNotFoundError

        try:
            loaded = load_dataset(**kwargs)
        except DatasetNotFoundError as exc:
            raise DatasetContractError(f"{where}: {exc}") from exc
    else:
        loaded = load_dataset(**kwargs)
    missing = [s for s in splits if split_name(s) not in loaded]
    if missing:
        names = ", ".join(repr(split_name(s)) for s in missing)
        raise DatasetContractError(
            f"{where} [{config or 'file'}]: no split {names} (available: {sorted(loaded)}; "
            "empty splits are omitted)"
        )
    sliced = [s for s in splits if s != split_name(s)]
    if sliced:  # `datasets` slicing syntax selects part of a split
        loaded = {**dict(loaded), **dict(zip(sliced, load_dataset(**kwargs, split=sliced), strict=True))}
    out = {s: loaded[s] for s in splits}
    contract = expected_config or config
    if contract is not None:
        for spec, ds in out.items():
            check_columns(ds.column_names, contract, where=f"{where} [{config or contract}/{spec}]")
    return out


def load_split(
    source: str | Path,
    config: str | None,
    split: str,
    *,
    revision: str | None = None,
    expected_config: str | None = None,
) -> datasets.Dataset:
    """One split (see `load_splits`)."""
    return load_splits(source, config, [split], revision=revision, expected_config=expected_config)[split]


def check_columns(columns: Sequence[str], config: str, *, where: str) -> None:
    """Raise naming the missing columns and the config the data should be, if any are missing."""
    if config not in REQUIRED_COLUMNS:
        raise DatasetContractError(f"unknown RedditESS config {config!r}; known: {sorted(REQUIRED_COLUMNS)}")
    required = REQUIRED_COLUMNS[config]
    missing = [c for c in required if c not in columns]
    if missing:
        raise DatasetContractError(
            f"{where}: missing column(s) {missing}; expected the RedditESS '{config}' config with columns "
            f"{list(required)} (found {sorted(columns)})"
        )


def dataset_version(source: str | Path) -> str | None:
    """The `version` in a local dataset's manifest.json (a file's folder counts); None for a Hub id or a folder
    without one. DatasetContractError when the manifest is not a JSON object."""
    path = Path(source).expanduser()
    folder = path.parent if path.is_file() else path
    manifest = folder / MANIFEST_FILE
    if not manifest.is_file():
        return None
    try:
        return json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (json.JSONDecodeError, AttributeError) as exc:
        raise DatasetContractError(f"{manifest} is not a JSON object: {exc}") from exc
