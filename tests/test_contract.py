"""The data contract in `redditess_core.contract` against itself and against what the real builder writes."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from redditess_core import contract


@pytest.mark.parametrize("config", contract.CONFIG_NAMES)
def test_features_and_arrow_schema_agree(config: str) -> None:
    features = contract.features(config)
    schema = contract.arrow_schema(config)
    assert features == datasets.Features.from_dict(contract.FEATURES[config])
    assert features.arrow_schema.remove_metadata() == schema.remove_metadata()
    assert datasets.Features.from_arrow_schema(schema) == features  # ClassLabel names survive parquet
    assert tuple(features) == contract.COLUMNS[config]


def test_names_are_consistent() -> None:
    assert set(contract.CONFIG_DESCRIPTIONS) == set(contract.CONFIG_NAMES) == set(contract.FEATURES)
    assert contract.DEFAULT_CONFIG in contract.CONFIG_NAMES
    assert contract.features("effective_support")["label"].names == list(contract.LABEL_NAMES)
    assert contract.POSITIVE_LABEL in contract.LABEL_NAMES
    for config, required in contract.REQUIRED_COLUMNS.items():
        assert set(required) <= set(contract.COLUMNS[config]), config
    assert contract.PREFERENCE_FEATURES is contract.FEATURES["preference"]


def test_unknown_config_is_named() -> None:
    with pytest.raises(KeyError, match="unknown RedditESS config 'prefs'.*effective_support"):
        contract.arrow_schema("prefs")


def test_extra_columns_follow_the_contract_columns() -> None:
    schema = contract.arrow_schema("preference", extra=[("n_raters", pa.int64())])
    assert schema.names == [*contract.COLUMNS["preference"], "n_raters"]
    features = datasets.Features.from_arrow_schema(schema)
    assert (
        features["n_raters"] == datasets.Value("int64")
        and features["prompt"] == contract.features("preference")["prompt"]
    )


def test_the_builder_writes_the_contract(demo_dataset: Path) -> None:
    """Every config and split of a real build: file names, columns in order, features, manifest entries."""
    manifest = json.loads((demo_dataset / contract.MANIFEST_FILE).read_text())
    assert list(manifest["configs"]) == list(contract.CONFIG_NAMES)
    written = 0
    for config in contract.CONFIG_NAMES:
        for split in contract.SPLITS:
            path = demo_dataset / contract.data_file(config, split)
            entry = manifest["configs"][config]["splits"].get(split)
            assert path.is_file() == (entry is not None), (config, split)
            if entry is None:
                continue
            assert entry["path"] == contract.data_files_pattern(config, split)
            schema = pq.read_schema(path)
            assert schema.names == list(contract.COLUMNS[config])
            assert datasets.Features.from_arrow_schema(schema) == contract.features(config)
            written += 1
    assert written >= 10  # the synthetic sample fills at least train and test of every config
