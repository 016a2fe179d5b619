"""The dataset card renders from a manifest, parses back through DatasetCard and drives a real load_dataset.

Manifests and folders are the shared demo build's (tests/conftest.py: the real builder on the synthetic
sample); a test that needs another shape changes a copy of that manifest.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import datasets
import pytest
from huggingface_hub import DatasetCard

from cards.dataset_card import ManifestError, render_dataset_card
from cards.validate import validate_folder


@pytest.fixture(scope="module")
def built_manifest(demo_dataset: Path) -> dict:
    """The demo build's manifest.json, as the builder wrote it."""
    return json.loads((demo_dataset / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture
def manifest(built_manifest: dict) -> dict:
    """The demo build's manifest with two configs of known sizes (an empty test split, a train-only config)
    and a rejected line reported with a directory (which the card must not show)."""
    manifest = copy.deepcopy(built_manifest)
    for example in manifest["rejected"]["examples"]:
        example["file"] = "/raw/" + example["file"]
    manifest["configs"] = {
        "effective_support": {
            "default": True,
            "splits": {
                "train": {"path": "data/effective_support/train-*.parquet", "num_rows": 40},
                "validation": {"path": "data/effective_support/validation-*.parquet", "num_rows": 3},
            },
            "empty_splits": ["test"],
        },
        "preference": {
            "default": False,
            "splits": {"train": {"path": "data/preference/train-*.parquet", "num_rows": 20}},
            "empty_splits": ["validation", "test"],
        },
    }
    return manifest


def test_card_yaml_round_trips_through_datasetcard(manifest: dict) -> None:
    card = DatasetCard(render_dataset_card(manifest))
    data = card.data.to_dict()
    assert data["configs"] == [
        {
            "config_name": "effective_support",
            "default": True,
            "data_files": [
                {"split": "train", "path": "data/effective_support/train-*.parquet"},
                {"split": "validation", "path": "data/effective_support/validation-*.parquet"},
            ],
        },
        {
            "config_name": "preference",
            "data_files": [{"split": "train", "path": "data/preference/train-*.parquet"}],
        },
    ]
    assert data["language"] == ["en"]
    assert data["pretty_name"] == "RedditESS"
    assert data["task_categories"] == ["text-classification", "text-generation"]
    assert data["size_categories"] == ["n<1K"]
    assert data["license"] == "other" and data["license_name"]
    assert "mental-health" in data["tags"] and "synthetic" in data["tags"]
    assert "not to try to identify" in data["extra_gated_prompt"]
    assert any(v == "checkbox" for v in data["extra_gated_fields"].values())


def test_card_body_carries_the_manifest_figures_and_sections(manifest: dict) -> None:
    text = DatasetCard(render_dataset_card(manifest)).text
    for heading in [
        "## Summary",
        "## How it was built",
        f"### Labeling ensemble (rule version {manifest['label_rule_version']})",
        "### Pair rules",
        "## Figures",
        "## Privacy",
        "Content warning",
        "## Intended uses",
        "## Out-of-scope uses",
        "## Limitations and biases",
        "## Citation",
        "## Changelog",
    ]:
        assert heading in text, heading
    assert "| `effective_support` (default) | 40 | 3 | empty | 43 |" in text
    params = manifest["parameters"]
    assert f"| label_margin | {params['label_margin']} |" in text
    assert f"| min_reply_chars | {params['min_reply_chars']} |" in text
    assert f"| comment | too_short | {manifest['drops']['comment']['too_short']} |" in text
    assert f"| r/depression | {manifest['stats']['subreddits']['depression']} |" in text
    assert "2503.21888" in text and "2605.30273" in text
    assert manifest["pseudonym_key_fingerprint"] in text
    # Rejected lines are reported by file name and line number, never their directory or content.
    rejected = manifest["rejected"]["examples"][0]
    name = rejected["file"].rsplit("/", 1)[-1]
    assert f"| {name} | {rejected['line']} | {rejected['reason']} |" in text and "/raw/" not in text


def test_card_has_no_urls_or_emails(manifest: dict) -> None:
    text = render_dataset_card(manifest)
    assert not re.search(r"https?://|www\.", text)
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text)


def test_missing_optional_keys_are_tolerated(manifest: dict) -> None:
    card = DatasetCard(render_dataset_card({"version": "0.0.1", "configs": manifest["configs"]}))
    assert card.data.pretty_name == "RedditESS"
    assert "0.0.1" in card.text


def test_missing_required_fields_name_the_field(manifest: dict) -> None:
    without_version = {k: v for k, v in manifest.items() if k != "version"}
    with pytest.raises(ManifestError, match="`version`"):
        render_dataset_card(without_version)
    del manifest["configs"]["preference"]["splits"]["train"]["path"]
    with pytest.raises(ManifestError, match=r"configs\.preference\.splits\.train\.path"):
        render_dataset_card(manifest)


def test_rendered_card_loads_with_real_load_dataset(contract_folder: Path, tmp_path: Path) -> None:
    folder = contract_folder
    built = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["configs"]

    def sizes(config: str) -> dict[str, int]:
        return {split: entry["num_rows"] for split, entry in built[config]["splits"].items()}

    default = datasets.load_dataset(str(folder), cache_dir=str(tmp_path / "cache"))  # effective_support
    assert {k: v.num_rows for k, v in default.items()} == sizes("effective_support")
    improvement = datasets.load_dataset(str(folder), "improvement", cache_dir=str(tmp_path / "cache"))
    assert built["improvement"]["empty_splits"] == ["test"]
    assert set(improvement) == {"train", "validation"}  # test is empty: omitted, not an empty file
    pref = datasets.load_dataset(str(folder), "preference", cache_dir=str(tmp_path / "cache"))
    assert {k: v.num_rows for k, v in pref.items()} == sizes("preference")
    assert pref["train"][0]["prompt"][1]["role"] == "user"


def test_license_other_carries_license_link_and_its_file(contract_folder: Path) -> None:
    folder = contract_folder
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    card = DatasetCard((folder / "README.md").read_text(encoding="utf-8"))
    assert card.data.license == "other" and card.data.license_name == "redditess-research-use"
    assert card.data.license_link == "LICENSE.md"
    terms = (folder / "LICENSE.md").read_text(encoding="utf-8")
    assert "redditess-research-use" in terms and "not to try to identify" in terms
    assert "[LICENSE.md](LICENSE.md)" in card.text
    assert validate_folder(folder).ok

    (folder / "LICENSE.md").unlink()  # a folder whose card links a file it does not hold
    report = validate_folder(folder)
    assert any("license_link 'LICENSE.md' is not a file of the folder" in e for e in report.errors)

    manifest = dict(manifest, license_link="https://example.org/dua")  # a link of the manifest's own
    assert DatasetCard(render_dataset_card(manifest)).data.license_link == "https://example.org/dua"
    open_license = dict(manifest, license="cc-by-4.0")
    open_license.pop("license_link")
    data = DatasetCard(render_dataset_card(open_license)).data.to_dict()
    assert data["license"] == "cc-by-4.0" and "license_link" not in data and "license_name" not in data


def test_license_other_without_link_is_refused(contract_folder: Path) -> None:
    folder = contract_folder
    text = (folder / "README.md").read_text(encoding="utf-8")
    (folder / "README.md").write_text(text.replace("license_link: LICENSE.md\n", ""), encoding="utf-8")
    report = validate_folder(folder)
    assert any("license is `other` but license_link is missing" in e for e in report.errors)


@pytest.mark.parametrize(("method", "experimental"), [("encoder", False), ("lexical", True)])
def test_improvement_is_experimental_only_without_the_audited_intent_check(
    manifest: dict, method: str, experimental: bool
) -> None:
    """The audited rules (MiniLM intent check, threshold from the pair audit) met issue 16's target; the word
    overlap fallback was never audited, so its card keeps `improvement` experimental."""
    manifest = copy.deepcopy(manifest)
    manifest["training_rows"]["similarity_method"] = method
    text = DatasetCard(render_dataset_card(manifest)).text
    assert ("**`improvement` is experimental**" in text) is experimental
    assert ("found 68% of them" in text) is not experimental
