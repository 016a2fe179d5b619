"""Bad input fails early and clearly: unknown recipe keys, missing dataset columns, unavailable models."""

from __future__ import annotations

import time
from pathlib import Path

import datasets
import pytest

from training import RECIPES_DIR, classifier, dpo, sft
from training.data import DatasetContractError, dataset_version
from training.models import ModelNotAvailableError, resolve_model_path
from training.recipe import RecipeError

DEMO_VERSION = "0.1.0-test"  # tests/conftest.py builds `demo_dataset` (the `mini_dataset` here) with it


def test_unknown_recipe_key_is_named(tmp_path: Path) -> None:
    recipe = tmp_path / "typo.yaml"
    recipe.write_text((RECIPES_DIR / "tiny" / "gm-sft.yaml").read_text() + "learning_rat: 0.1\n")
    with pytest.raises(
        RecipeError, match=r"unknown key\(s\) 'learning_rat'.*typo.yaml|typo.yaml.*'learning_rat'"
    ):
        sft.cli(["--config", str(recipe)])


def test_unknown_command_line_flag_is_named() -> None:
    with pytest.raises(RecipeError, match=r"unknown command-line argument\(s\) \['--lora_rr', '4'\]"):
        sft.cli(["--config", str(RECIPES_DIR / "tiny" / "gm-sft.yaml"), "--lora_rr", "4"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lora_r: 8\nlearning_rat: 0.1\nbeta_typo: 1\n", r"unknown key\(s\) 'learning_rat', 'beta_typo'"),
        ("lora_r: [8\n", "is not valid YAML"),
        ("- lora_r\n- 8\n", "must be a YAML mapping"),
    ],
)
def test_bad_recipes_are_named(tmp_path: Path, text: str, message: str) -> None:
    """Every kind of bad recipe fails as a RecipeError naming the file, for each script's parser."""
    from training.recipe import parse_recipe

    recipe = tmp_path / "bad.yaml"
    recipe.write_text(text)
    for script in (sft, dpo, classifier):
        with pytest.raises(RecipeError, match=f"{message}") as err:
            parse_recipe(script.DATACLASSES, ["--config", str(recipe)])
        assert str(recipe) in str(err.value)
    with pytest.raises(RecipeError, match="recipe not found: .*missing.yaml"):
        parse_recipe(sft.DATACLASSES, ["--config", str(tmp_path / "missing.yaml")])
    with pytest.raises(RecipeError, match="--config needs a path"):
        parse_recipe(sft.DATACLASSES, ["--config"])


def test_every_shipped_recipe_parses_and_evaluates_on_validation() -> None:
    """Every recipe parses with its script's parser (a typo in a 7B recipe would otherwise surface on a GPU)
    and evaluates on `validation`, never `test`."""
    import torch

    from training.recipe import parse_recipe

    scripts = {"sft": sft, "dpo": dpo, "classifier": classifier}
    recipes = sorted(RECIPES_DIR.glob("*/*.yaml"))
    stems = {f"{p.parent.name}/{p.stem}" for p in recipes}
    assert {
        "mistral-7b-instruct-v0.2/gm-sft",
        "mistral-7b-instruct-v0.2/gm-dpo",
        "mistral-7b-instruct-v0.2/gm-dpo2",
        "mistral-7b-instruct-v0.2/im-sft",
        "mistral-7b-instruct-v0.2/im-dpo",
        "llama-2-7b-chat/sft",
        "llama-2-7b-chat/dpo",
        "roberta-base/classifier",
        "all-minilm-l6-v2/classifier",
        "tiny/gm-sft",
        "tiny/gm-dpo",
        "tiny/gm-dpo2",
        "tiny/im-sft",
        "tiny/im-dpo",
        "tiny/classifier",
    } <= stems
    # GPU recipes ask for bf16, which TrainingArguments refuses on a CPU-only host: parse them as CPU runs.
    cpu_overrides = [] if torch.cuda.is_available() else ["--use_cpu", "true", "--bf16", "false"]
    for path in recipes:
        stage = path.stem
        script = "classifier" if stage == "classifier" else "dpo" if "dpo" in stage else "sft"
        script_args, training_args, model_args = parse_recipe(
            scripts[script].DATACLASSES, ["--config", str(path), *cpu_overrides]
        )
        assert script_args.dataset_test_split == "validation", path
        if "7b" in path.parent.name:
            text = path.read_text()
            assert "Sized for:" in text and "Expected peak memory" in text and "Reasoning" in text, path
            assert model_args.load_in_4bit and model_args.bnb_4bit_quant_type == "nf4", path
            assert training_args.activation_checkpointing, path


def _without_column(src: Path, dst: Path, config: str, column: str) -> Path:
    """Copy of the mini folder where `config` lacks `column`."""
    import shutil

    shutil.copytree(src, dst)
    for parquet in (dst / "data" / config).glob("*.parquet"):
        ds = datasets.Dataset.from_parquet(str(parquet)).remove_columns(column)
        parquet.unlink()
        ds.to_parquet(str(parquet))
    return dst


def test_missing_columns_name_columns_and_config(
    mini_dataset: Path, tiny_models: dict[str, Path], tmp_path: Path, recipe_argv
) -> None:
    broken = _without_column(mini_dataset, tmp_path / "redditess", "preference", "rejected")
    with pytest.raises(
        DatasetContractError, match=r"missing column\(s\) \['rejected'\].*'preference' config"
    ):
        dpo.cli(
            recipe_argv(
                "gm-dpo",
                model_name_or_path=tiny_models["tiny-llama"],
                dataset_name=broken,
                parent_run=tiny_models["tiny-llama"],
                output_dir=tmp_path / "out",
            )
        )


def test_classifier_missing_label_column(
    mini_dataset: Path, tiny_models: dict[str, Path], tmp_path: Path, recipe_argv
):
    broken = _without_column(mini_dataset, tmp_path / "redditess", "effective_support", "label")
    with pytest.raises(DatasetContractError, match=r"\['label'\].*'effective_support'"):
        classifier.cli(
            recipe_argv(
                "classifier",
                model_name_or_path=tiny_models["tiny-encoder"],
                dataset_name=broken,
                output_dir=tmp_path / "out",
            )
        )


def test_uncached_hub_id_fails_fast_with_advice(mini_dataset: Path, tmp_path: Path, recipe_argv) -> None:
    start = time.monotonic()
    with pytest.raises(ModelNotAvailableError, match="Pass a local path"):
        sft.cli(
            recipe_argv(
                "gm-sft",
                model_name_or_path="some-org/not-a-cached-model-7b",
                dataset_name=mini_dataset,
                output_dir=tmp_path / "out",
            )
        )
    assert time.monotonic() - start < 10


def test_packaged_minilm_resolves_offline() -> None:
    path = Path(resolve_model_path("sentence-transformers/all-MiniLM-L6-v2"))
    assert (path / "config.json").is_file() and (path / "model.safetensors").is_file()


def test_missing_local_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailableError, match="no such folder"):
        resolve_model_path(str(tmp_path / "nope" / "model"))


def test_dataset_version_comes_from_manifest(mini_dataset: Path) -> None:
    assert dataset_version(str(mini_dataset)) == DEMO_VERSION


def test_sft_refuses_a_non_sft_config(
    mini_dataset: Path, tiny_models: dict[str, Path], tmp_path: Path, recipe_argv
):
    with pytest.raises(ValueError, match="'sft', 'improvement'"):
        sft.cli(
            recipe_argv(
                "gm-sft",
                model_name_or_path=tiny_models["tiny-llama"],
                dataset_name=mini_dataset,
                dataset_config="preference",
                output_dir=tmp_path / "out",
            )
        )


def test_classifier_on_a_wrong_config_names_the_expected_one(
    mini_dataset: Path, tiny_models: dict[str, Path], tmp_path: Path, recipe_argv
) -> None:
    with pytest.raises(
        DatasetContractError, match=r"\[sft/train\].*expected the RedditESS 'effective_support'"
    ):
        classifier.cli(
            recipe_argv(
                "classifier",
                model_name_or_path=tiny_models["tiny-encoder"],
                dataset_name=mini_dataset,
                dataset_config="sft",
                output_dir=tmp_path / "out",
            )
        )


def test_script_reports_bad_input_without_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    from training import PACKAGE_DIR

    recipe = tmp_path / "typo.yaml"
    recipe.write_text("learning_rat: 0.1\n")
    proc = subprocess.run(
        [sys.executable, str(PACKAGE_DIR / "dpo.py"), "--config", str(recipe)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "error: recipe" in proc.stderr and "'learning_rat'" in proc.stderr
    assert "Traceback" not in proc.stderr
