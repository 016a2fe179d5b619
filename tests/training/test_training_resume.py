"""A run interrupted after a checkpoint resumes from it when rerun with the same output directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transformers import TrainerCallback

from training import sft


class Crash(RuntimeError):
    pass


class CrashAfter(TrainerCallback):
    """Raises once training passes `step` (a checkpoint was written before): a real interruption."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= self.step:
            raise Crash(f"interrupted at step {state.global_step}")


def test_rerun_resumes_from_last_checkpoint(
    tiny_models: dict[str, Path], mini_dataset: Path, tmp_path: Path, recipe_argv
) -> None:
    out = tmp_path / "gm-sft"
    argv = recipe_argv(
        "gm-sft",
        model_name_or_path=tiny_models["tiny-llama"],
        dataset_name=mini_dataset,
        output_dir=out,
        max_steps=6,
        save_steps=3,
        eval_strategy="no",
        logging_steps=1,
    )
    with pytest.raises(Crash):
        sft.main(*sft.parse_recipe(sft.DATACLASSES, argv), callbacks=[CrashAfter(5)])
    assert (out / "checkpoint-3").is_dir() and not (out / "checkpoint-6").exists()
    assert not (out / "redditess_run.json").exists()

    steps_run = []

    class Steps(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            steps_run.append(state.global_step)

    sft.main(*sft.parse_recipe(sft.DATACLASSES, argv), callbacks=[Steps()])
    assert steps_run == [4, 5, 6]  # continued after checkpoint-3, did not start over
    record = json.loads((out / "redditess_run.json").read_text())
    assert record["resumed_from"].endswith("checkpoint-3") and record["global_step"] == 6
    assert (out / "adapter_model.safetensors").is_file()
