"""`RedditESS`: a `datasets.GeneratorBasedBuilder` that builds the dataset from raw dumps in `data_dir`.

datasets >= 4 no longer runs loading scripts, so this class is used directly:

    builder = RedditESS(data_dir="dumps/", config_name="preference")
    builder.download_and_prepare()
    ds = builder.as_dataset()

It runs the same pipeline as `python -m dataset_builder build` (one build per data_dir and parameters,
cached under the datasets cache) and yields the rows of the chosen config, so the result equals the
folder a CLI build writes with the same inputs, parameters and pseudonym key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import datasets
import pyarrow.parquet as pq

from dataset_builder.config import BuildConfig
from dataset_builder.pipeline import build
from redditess_core.contract import (
    CONFIG_DESCRIPTIONS,
    CONFIG_NAMES,
    DEFAULT_CONFIG,
    MANIFEST_FILE,
    SPLITS,
    data_file,
    features,
)


@dataclasses.dataclass
class RedditESSConfig(datasets.BuilderConfig):
    """A config name plus optional build parameters (any `BuildConfig` field, e.g. {"seed": 1})."""

    build_options: dict[str, Any] | None = None


class RedditESS(datasets.GeneratorBasedBuilder):
    VERSION = datasets.Version("0.1.0")
    BUILDER_CONFIG_CLASS = RedditESSConfig
    BUILDER_CONFIGS = [
        RedditESSConfig(name=name, version=datasets.Version("0.1.0"), description=CONFIG_DESCRIPTIONS[name])
        for name in CONFIG_NAMES
    ]
    DEFAULT_CONFIG_NAME = DEFAULT_CONFIG

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description=CONFIG_DESCRIPTIONS[self.config.name],
            features=features(self.config.name),
            citation="Alghamdi et al., RedditESS (arXiv 2503.21888); Kim et al., LLUMI (arXiv 2605.30273).",
        )

    def _build_config(self) -> BuildConfig:
        if not self.config.data_dir:
            raise ValueError("RedditESS needs data_dir= pointing at raw Reddit dumps (files or a folder)")
        options = dict(self.config.build_options or {})
        preset = options.get("preset", "kit")
        cfg = BuildConfig(inputs=[Path(self.config.data_dir)], version=str(self.VERSION), preset=preset)
        cfg = cfg.with_preset(set(options))
        return dataclasses.replace(cfg, **options)

    def _split_generators(self, dl_manager: datasets.DownloadManager) -> list[datasets.SplitGenerator]:
        cfg = self._build_config()
        fingerprint = hashlib.sha256(
            json.dumps([str(Path(self.config.data_dir).resolve()), cfg.parameters()], sort_keys=True).encode()
        ).hexdigest()[:16]
        folder = Path(self._cache_dir_root) / "redditess_builds" / fingerprint
        if not (folder / MANIFEST_FILE).is_file():
            folder.parent.mkdir(parents=True, exist_ok=True)
            build(dataclasses.replace(cfg, out=folder, overwrite=True))
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        splits = manifest["configs"][self.config.name]["splits"]
        return [
            datasets.SplitGenerator(
                name=split, gen_kwargs={"path": folder / data_file(self.config.name, split)}
            )
            for split in SPLITS
            if split in splits
        ]

    def _generate_examples(self, path: Path):
        key = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=1000):
            for row in batch.to_pylist():
                yield key, row
                key += 1
