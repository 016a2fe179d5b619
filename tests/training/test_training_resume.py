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


def _losses(out: Path) -> dict[int, float]:
    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    return {h["step"]: h["loss"] for h in history if "loss" in h}


def _weights(out: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(out / "adapter_model.safetensors"))


@pytest.mark.parametrize(
    ("save_steps", "crash_at"),
    [
        pytest.param(4, 5, id="mid-epoch-2"),  # 24 rows / batch 8: 3 steps per epoch
        pytest.param(3, 4, id="epoch-boundary", marks=pytest.mark.slow),
        pytest.param(6, 7, id="mid-epoch-3", marks=pytest.mark.slow),
    ],
)
def test_resumed_run_matches_uninterrupted(
    tiny_models: dict[str, Path],
    mini_dataset: Path,
    tmp_path: Path,
    recipe_argv,
    save_steps: int,
    crash_at: int,
) -> None:
    """Same losses at every step and the same final adapter as a run that was never interrupted: the
    data order (group_by_length sampler), optimizer, scheduler and RNG state are all restored."""
    import torch

    def argv(out: Path) -> list[str]:
        return recipe_argv(
            "gm-sft",
            model_name_or_path=tiny_models["tiny-llama"],
            dataset_name=mini_dataset,
            output_dir=out,
            max_steps=8,
            save_steps=save_steps,
            eval_strategy="no",
            logging_steps=1,
            lora_dropout=0.1,  # dropout draws from the RNG: its state must be restored too
            train_subset_size=24,  # a seeded subset of the demo build, so the 8 steps cross epochs
        )

    straight = tmp_path / "straight"
    sft.main(*sft.parse_recipe(sft.DATACLASSES, argv(straight)))

    resumed = tmp_path / "resumed"
    with pytest.raises(Crash):
        sft.main(*sft.parse_recipe(sft.DATACLASSES, argv(resumed)), callbacks=[CrashAfter(crash_at)])
    sft.main(*sft.parse_recipe(sft.DATACLASSES, argv(resumed)))
    record = json.loads((resumed / "redditess_run.json").read_text())
    assert record["resumed_from"].endswith(f"checkpoint-{save_steps}")

    expected, got = _losses(straight), _losses(resumed)
    assert sorted(got) == sorted(expected) == list(range(1, 9))
    assert got == expected  # exact: same batches, same dropout masks, same updates
    a, b = _weights(straight), _weights(resumed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_incomplete_checkpoints_are_skipped(
    tiny_models: dict[str, Path], mini_dataset: Path, tmp_path: Path, recipe_argv
) -> None:
    """A kill during a save leaves checkpoint-N/ empty or partial: reruns resume from the last complete one."""
    import shutil

    from training.recipe import RecipeError
    from training.run import checkpoint_problem, last_checkpoint

    out = tmp_path / "gm-sft"
    argv = recipe_argv(
        "gm-sft",
        model_name_or_path=tiny_models["tiny-llama"],
        dataset_name=mini_dataset,
        output_dir=out,
        max_steps=9,
        save_steps=3,
        save_total_limit=5,
        eval_strategy="no",
    )
    with pytest.raises(Crash):
        sft.main(*sft.parse_recipe(sft.DATACLASSES, argv), callbacks=[CrashAfter(7)])
    assert (out / "checkpoint-6" / "trainer_state.json").is_file()
    training_args = sft.parse_recipe(sft.DATACLASSES, argv)[1]
    assert checkpoint_problem(out / "checkpoint-6", training_args) is None

    # The kinds of partial checkpoint a kill during Trainer._save_checkpoint leaves behind.
    (out / "checkpoint-9").mkdir()  # killed before the first file
    shutil.copytree(out / "checkpoint-6", out / "checkpoint-8")
    (out / "checkpoint-8" / "trainer_state.json").unlink()  # killed before the last file
    shutil.copytree(out / "checkpoint-6", out / "checkpoint-7")
    state = out / "checkpoint-7" / "trainer_state.json"
    state.write_text(state.read_text()[:40])  # killed while writing the last file
    shutil.copytree(out / "checkpoint-3", out / "checkpoint-6", dirs_exist_ok=True)
    (out / "checkpoint-6" / "optimizer.pt").unlink()  # killed after the weights
    problems = {n: checkpoint_problem(out / f"checkpoint-{n}", training_args) for n in (3, 6, 7, 8, 9)}
    assert problems[3] is None
    assert problems[6] == "missing optimizer.pt"
    assert "truncated" in problems[7] and "missing trainer_state.json" in problems[8]
    assert problems[9] == "no model weights"
    assert last_checkpoint(training_args) == str(out / "checkpoint-3")

    training_args.resume_from_checkpoint = str(out / "checkpoint-9")
    with pytest.raises(RecipeError, match="checkpoint-9: cannot resume from it \\(no model weights\\)"):
        last_checkpoint(training_args)

    steps_run = []

    class Steps(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            steps_run.append(state.global_step)

    sft.main(*sft.parse_recipe(sft.DATACLASSES, argv), callbacks=[Steps()])
    assert steps_run == [4, 5, 6, 7, 8, 9]
    record = json.loads((out / "redditess_run.json").read_text())
    assert record["resumed_from"].endswith("checkpoint-3") and record["global_step"] == 9
    assert checkpoint_problem(out / "checkpoint-9", training_args) is None  # rewritten by the resumed run
