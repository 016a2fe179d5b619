"""`redditess_core.loading`: a folder, a single file and (tests/publish/test_loading_hub.py) a Hub id at a
revision, through the real `datasets.load_dataset`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from redditess_core.contract import COLUMNS, MANIFEST_FILE, arrow_schema, data_file
from redditess_core.loading import (
    DatasetContractError,
    dataset_version,
    load_split,
    load_splits,
    local_cache_dir,
)


def test_a_built_folder_loads_with_its_splits_and_slices(demo_dataset: Path) -> None:
    manifest = json.loads((demo_dataset / MANIFEST_FILE).read_text())
    out = load_splits(demo_dataset, "sft", ["train", "train[:3]"])
    assert list(out) == ["train", "train[:3]"]
    assert len(out["train"]) == manifest["configs"]["sft"]["splits"]["train"]["num_rows"]
    assert out["train[:3]"].to_list() == out["train"].select(range(3)).to_list()
    assert tuple(out["train"].column_names) == COLUMNS["sft"]
    assert dataset_version(demo_dataset) == manifest["version"]


def test_a_single_file_loads_as_train_and_is_checked(demo_dataset: Path, tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.parquet"
    shutil.copy(demo_dataset / data_file("preference", "train"), pairs)
    ds = load_split(pairs, None, "train", expected_config="preference")
    assert ds.features["prompt"] == load_split(demo_dataset, "preference", "train").features["prompt"]
    jsonl = tmp_path / "pairs.jsonl"
    jsonl.write_text("\n".join(json.dumps({"prompt": r["prompt"], "chosen": r["chosen"]}) for r in ds) + "\n")
    with pytest.raises(
        DatasetContractError, match=r"pairs.jsonl \[preference/train\]: missing column\(s\) \['rejected'\]"
    ):
        load_split(jsonl, None, "train", expected_config="preference")
    with pytest.raises(DatasetContractError, match=r"pairs.txt: unsupported file type '.txt'"):
        (tmp_path / "pairs.txt").write_text("x")
        load_split(tmp_path / "pairs.txt", None, "train")


def test_errors_name_the_source_config_and_split(demo_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetContractError, match=r"no config 'prefs' \(available: \['effective_support'"):
        load_split(demo_dataset, "prefs", "train")
    with pytest.raises(DatasetContractError, match=r"\[sft\]: no split 'dev' \(available: \['test', 'train'"):
        load_split(demo_dataset, "sft", "dev")
    with pytest.raises(
        DatasetContractError, match=r"\[sft/train\]: missing column\(s\).*'effective_support'"
    ):
        load_split(demo_dataset, "sft", "train", expected_config="effective_support")
    with pytest.raises(DatasetContractError, match="dataset folder or file not found"):
        load_split(tmp_path / "nowhere", "sft", "train")


def test_a_rebuilt_folder_never_loads_stale_rows(demo_dataset: Path, tmp_path: Path) -> None:
    """Same path and config, different files: a new cache (datasets alone would serve the old rows)."""
    folder = tmp_path / "redditess"
    shutil.copytree(demo_dataset, folder)
    before = local_cache_dir(folder)
    assert "comment_id" in load_split(folder, "sft", "train").column_names
    for path in (folder / "data" / "sft").glob("*.parquet"):
        pq.write_table(pq.read_table(path).drop_columns(["comment_id"]), path)
    assert local_cache_dir(folder) != before
    assert "comment_id" not in load_split(folder, "sft", "train").column_names


def test_dataset_version_reads_the_manifest_beside_a_file(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({"version": "human-0.1"}))
    pq.write_table(arrow_schema("preference").empty_table(), tmp_path / "pairs.parquet")
    assert dataset_version(tmp_path / "pairs.parquet") == "human-0.1"
    assert dataset_version("lab/redditess") is None
    (tmp_path / MANIFEST_FILE).write_text("[1]")
    with pytest.raises(DatasetContractError, match="is not a JSON object"):
        dataset_version(tmp_path)
