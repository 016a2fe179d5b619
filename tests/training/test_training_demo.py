"""The demo chain on the dataset built by the real builder: tiny GM SFT -> DPO, IM SFT -> DPO, classifier."""

from __future__ import annotations

import json
from pathlib import Path

from training import classifier, dpo, sft
from training.tiny import TinyConfig, build_all, dataset_corpus


def test_demo_chain_on_built_dataset(demo_dataset: Path, tmp_path: Path, recipe_argv) -> None:
    models = build_all(tmp_path / "tiny", TinyConfig(extra_text=dataset_corpus(demo_dataset)))
    llama, runs = models["tiny-llama"], tmp_path / "runs"
    short = {"max_steps": 3, "eval_steps": 3, "save_steps": 3}
    common = {"model_name_or_path": llama, "dataset_name": demo_dataset, **short}
    sft.cli(recipe_argv("gm-sft", **common, output_dir=runs / "gm-sft"))
    dpo.cli(recipe_argv("gm-dpo", **common, parent_run=runs / "gm-sft", output_dir=runs / "gm-dpo"))
    sft.cli(recipe_argv("im-sft", **common, output_dir=runs / "im-sft"))
    dpo.cli(recipe_argv("im-dpo", **common, parent_run=runs / "im-sft", output_dir=runs / "im-dpo"))
    classifier.cli(
        recipe_argv(
            "classifier",
            model_name_or_path=models["tiny-encoder"],
            dataset_name=demo_dataset,
            output_dir=runs / "classifier",
            num_train_epochs=1,
        )
    )
    version = json.loads((demo_dataset / "manifest.json").read_text())["version"]
    chain = {"gm-sft": None, "gm-dpo": "gm-sft", "im-sft": None, "im-dpo": "im-sft", "classifier": None}
    for stage, parent in chain.items():
        record = json.loads((runs / stage / "redditess_run.json").read_text())
        assert record["stage"] == stage and record["dataset"]["version"] == version
        assert record["parent_adapter"] == (str((runs / parent).resolve()) if parent else None)
        assert (runs / stage / "adapter_model.safetensors").is_file()
        assert (runs / stage / "train_results.json").is_file() and (
            runs / stage / "eval_results.json"
        ).is_file()
    assert json.loads((runs / "classifier" / "threshold.json").read_text())["positive_label"] == "effective"
