"""What the three scripts share around `trainer.train()`: resume, the run record, saving, a clean exit.

Every run directory ends up with the same layout (documented in training/README.md):
the model (adapter or full weights), the tokenizer, `redditess_config.yaml` (every resolved argument),
`redditess_run.json` (stage, base model, parent adapter, dataset path/config/version, world size, library
versions), `train_results.json`, `eval_results.json` (when evaluated) and `trainer_state.json`.

Distributed runs: everything that talks to the other ranks (train, evaluate, save_model) runs on every rank;
files of our own are written by the main process only, between barriers, and `trainer.end()` destroys the
process group last, so no rank is left waiting in a collective that the others have already left.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from redditess_core.atomic import write_text
from redditess_core.contract import RESOLVED_CONFIG, RUN_RECORD

logger = logging.getLogger(__name__)


def setup_run(script_args: Any, training_args: Any) -> None:
    """Log to stderr at the level TrainingArguments asks for on this rank; apply `torch_threads`."""
    import datasets
    import torch
    import transformers

    if getattr(script_args, "torch_threads", None):
        torch.set_num_threads(script_args.torch_threads)

    level = training_args.get_process_log_level()
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level, stream=sys.stderr
    )
    for name in ("training", "redditess_core"):
        logging.getLogger(name).setLevel(level)
    transformers.utils.logging.set_verbosity(level)
    datasets.utils.logging.set_verbosity(level)


CHECKPOINT_DIR = re.compile(r"^checkpoint-(\d+)$")


def checkpoint_problem(checkpoint: str | os.PathLike[str], training_args: Any) -> str | None:
    """Why `checkpoint` cannot be resumed from, or None when it is complete.

    transformers' Trainer (5.x, `Trainer._save_checkpoint`) writes a checkpoint in place, in this order: the
    weights, then (unless `save_only_model`) optimizer, scheduler and RNG state, and `trainer_state.json`
    last. A kill during the save leaves a `checkpoint-N/` that is empty or lacks some of these files, and
    Trainer's own check (`_load_from_checkpoint`: "Can't find a valid checkpoint") only looks for weights.
    Here a checkpoint is complete when it has weights Trainer accepts, the optimizer and scheduler states
    when they are saved, and a `trainer_state.json` that parses and records step N.
    """
    from transformers.trainer import OPTIMIZER_NAME, SCHEDULER_NAME, TRAINER_STATE_NAME
    from transformers.utils import (
        SAFE_WEIGHTS_INDEX_NAME,
        SAFE_WEIGHTS_NAME,
        WEIGHTS_INDEX_NAME,
        WEIGHTS_NAME,
    )
    from transformers.utils.peft_utils import ADAPTER_SAFE_WEIGHTS_NAME, ADAPTER_WEIGHTS_NAME

    path = Path(checkpoint)
    if not path.is_dir():
        return "not a directory"
    weights = (
        ADAPTER_SAFE_WEIGHTS_NAME,
        ADAPTER_WEIGHTS_NAME,
        SAFE_WEIGHTS_NAME,
        SAFE_WEIGHTS_INDEX_NAME,
        WEIGHTS_NAME,
        WEIGHTS_INDEX_NAME,
    )
    if not any((path / name).is_file() for name in weights):
        return "no model weights"
    if not getattr(training_args, "save_only_model", False):
        missing = [name for name in (OPTIMIZER_NAME, SCHEDULER_NAME) if not (path / name).is_file()]
        if missing:
            return f"missing {', '.join(missing)}"
    state_file = path / TRAINER_STATE_NAME
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"missing {TRAINER_STATE_NAME} (written last: the save was interrupted)"
    except (json.JSONDecodeError, UnicodeDecodeError):
        return f"{TRAINER_STATE_NAME} is truncated (the save was interrupted)"
    match = CHECKPOINT_DIR.match(path.name)
    if match and state.get("global_step") != int(match.group(1)):
        return f"{TRAINER_STATE_NAME} records step {state.get('global_step')}, not {match.group(1)}"
    return None


def last_checkpoint(training_args: Any) -> str | None:
    """The checkpoint to resume from: the one asked for, else the newest COMPLETE `checkpoint-N` in
    `output_dir` (incomplete ones, left by a kill during a save, are skipped with a warning and overwritten
    when training reaches their step again).

    Rerunning the same recipe with the same output directory after an interruption continues where the
    last complete checkpoint left off (weights, optimizer, scheduler, RNG state and the data order, see
    `DataOrderCallback`) and gives the same losses and weights as an uninterrupted run.
    Raises RecipeError (a ValueError) when `--resume_from_checkpoint PATH` names an incomplete checkpoint.
    """
    asked = training_args.resume_from_checkpoint
    if asked:
        problem = checkpoint_problem(asked, training_args)
        if problem:
            from training.recipe import RecipeError

            raise RecipeError(f"--resume_from_checkpoint {asked}: cannot resume from it ({problem})")
        return str(asked)
    out = Path(training_args.output_dir)
    if not out.is_dir():
        return None
    found = sorted(
        (int(m.group(1)), p) for p in out.iterdir() if p.is_dir() and (m := CHECKPOINT_DIR.match(p.name))
    )
    for _, path in reversed(found):
        problem = checkpoint_problem(path, training_args)
        if problem is None:
            logger.info("resuming from %s", path)
            return str(path)
        logger.warning("skipping incomplete checkpoint %s: %s", path, problem)
    return None


def _train_samplers(dataloader: Any) -> list[Any]:
    """The index samplers under a (possibly accelerate-wrapped) training DataLoader."""
    found, seen = [], set()
    stack = [dataloader]
    while stack:
        obj = stack.pop()
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        if hasattr(obj, "lengths") or type(obj).__name__.endswith("RandomSampler"):
            found.append(obj)
        stack += [getattr(obj, name, None) for name in ("batch_sampler", "sampler")]
    return found


def data_order_callback(seed: int) -> Any:
    """A TrainerCallback that makes each epoch's data order a function of (seed, epoch) only.

    Why: Trainer 5.x resumes mid-epoch by rebuilding the epoch's order and skipping the batches already
    seen (`skip_first_batches`), and restores the RNG state only after that. Two samplers do not rebuild
    the same order: `LengthGroupedSampler` (`train_sampling_strategy: group_by_length`, the SFT recipes)
    has no generator and draws from the global torch RNG, whose state at that point differs from the
    interrupted run's; and accelerate's `SeedableRandomSampler` (the default random strategy) is seeded
    with `seed + epoch`, but its `set_epoch` does not reach it through the skipping DataLoader, so a run
    resumed in epoch e > 0 reuses epoch 0's order. This callback, at every epoch start, gives a
    length-grouped sampler a generator seeded with `seed + epoch` and tells seedable samplers the epoch.
    Measured: a resumed tiny SFT run then logs the same losses and saves the same weights as an
    uninterrupted one (tests/training/test_training_resume.py).
    """
    import math

    import torch
    from transformers import TrainerCallback

    class DataOrderCallback(TrainerCallback):
        def on_epoch_begin(self, args, state, control, train_dataloader=None, **kwargs):
            epoch = math.floor(state.epoch + 1e-6) if state.epoch else 0
            for sampler in _train_samplers(train_dataloader):
                if hasattr(sampler, "lengths"):  # LengthGroupedSampler draws from sampler.generator
                    sampler.generator = torch.Generator().manual_seed(seed + epoch)
                elif hasattr(sampler, "set_epoch"):
                    sampler.set_epoch(epoch)

    return DataOrderCallback()


def keep_trainable_dtypes_on_resume(trainer: Any) -> None:
    """Make Trainer's checkpoint loading keep the trainable parameters' dtypes.

    TRL's SFT/DPO trainers cast QLoRA adapter weights to bfloat16 (QLoRA paper, section 3), but on resume
    Trainer 5.x reloads the adapter with `PeftModel.load_adapter(..., is_trainable=True)`, which upcasts it
    to float32 (peft's `autocast_adapter_dtype`): the resumed run then trains in another precision and its
    losses drift from the uninterrupted run's (measured on the tiny SFT recipe resumed at step 4: loss
    6.325702 vs 6.325722 at step 5, 6.262917 vs 6.262731 at step 8). Wrapping the instance's `_load_from_checkpoint` casts each trainable
    parameter back to the dtype it had before loading (before the optimizer and its state are created).
    """
    load = trainer._load_from_checkpoint

    def load_keeping_dtypes(resume_from_checkpoint: str, model: Any = None) -> None:
        target = model if model is not None else trainer.model
        dtypes = {name: p.dtype for name, p in target.named_parameters() if p.requires_grad}
        load(resume_from_checkpoint, model)
        for name, param in target.named_parameters():
            if name in dtypes and param.dtype != dtypes[name]:
                param.data = param.data.to(dtypes[name])

    trainer._load_from_checkpoint = load_keeping_dtypes


def library_versions() -> dict[str, str]:
    """Versions of the training stack, recorded so a run can be reproduced."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("torch", "transformers", "trl", "peft", "accelerate", "datasets", "bitsandbytes"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def run_record(
    script_args: Any,
    *,
    script: str,
    base_model: str,
    eval_split: str | None,
    world_size: int,
    parent_adapter: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The provenance of one run, read by publishing (model card) and evaluation. The dataset part
    comes from the script arguments every script shares (name, config, splits, stage)."""
    from training.data import dataset_version

    name = script_args.dataset_name
    record = {
        "stage": script_args.stage,
        "script": script,
        "base_model": base_model,
        "parent_adapter": parent_adapter,
        "dataset": {
            "path": str(Path(name).expanduser().resolve()) if Path(name).exists() else name,
            "config": script_args.dataset_config,
            "revision": script_args.dataset_revision,
            "version": dataset_version(name),
            "train_split": script_args.dataset_train_split,
            "eval_split": eval_split,
        },
        "world_size": world_size,
        "libraries": library_versions(),
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if extra:
        record.update(extra)
    return record


def exit_on_input_error(cli: Callable[[], Any]) -> None:
    """Run a script's CLI; bad input (recipe, dataset, model) ends with its message, not a traceback."""
    from training.data import DatasetContractError
    from training.models import ModelNotAvailableError
    from training.recipe import RecipeError

    try:
        cli()
    except (RecipeError, DatasetContractError, ModelNotAvailableError) as exc:
        raise SystemExit(f"error: {exc}") from None


def check_one_run(trainer: Any) -> None:
    """Refuse to train when the launcher started N processes that did not join one process group.

    `accelerate launch --multi_gpu` on a machine without GPUs, without `use_cpu`/ACCELERATE_USE_CPU, starts
    independent single-process runs that overwrite each other's output directory.
    """
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    joined = trainer.accelerator.num_processes
    if launched > 1 and joined != launched:
        raise RuntimeError(
            f"launched {launched} processes but this one trains alone (world size {joined}): on CPU set "
            "`use_cpu: true` in the recipe or export ACCELERATE_USE_CPU=1 (see training/accelerate_configs/)"
        )


def finish_run(
    trainer: Any,
    *,
    resume_from: str | None,
    record: dict[str, Any],
    config: dict[str, Any],
    tokenizer: Any,
    eval_dataset: Any | None,
    after_train: Callable[[Any], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Train, evaluate, save the model, tokenizer, metrics and run record, then end the process group.

    `after_train` runs on every rank after training (e.g. the classifier's threshold tuning, which predicts
    over the distributed validation set) and returns extra fields for the run record.
    """
    check_one_run(trainer)
    args = trainer.args
    trainer.add_callback(data_order_callback(args.data_seed if args.data_seed is not None else args.seed))
    keep_trainable_dtypes_on_resume(trainer)
    out = Path(trainer.args.output_dir)
    train_result = trainer.train(resume_from_checkpoint=resume_from)
    metrics = dict(train_result.metrics)
    metrics["train_samples"] = len(trainer.train_dataset)
    trainer.log_metrics("train", metrics)
    trainer.save_metrics("train", metrics)
    trainer.save_state()
    eval_metrics = None
    if eval_dataset is not None:
        eval_metrics = trainer.evaluate()
        eval_metrics["eval_samples"] = len(eval_dataset)
        trainer.log_metrics("eval", eval_metrics)
        trainer.save_metrics("eval", eval_metrics)
    extra = after_train(trainer) if after_train is not None else {}
    trainer.save_model(str(out))
    trainer.accelerator.wait_for_everyone()
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(str(out))
        record = {**record, **extra, "global_step": trainer.state.global_step, "resumed_from": resume_from}
        write_text(out / RUN_RECORD, json.dumps(record, indent=2, sort_keys=True) + "\n")
        write_text(out / RESOLVED_CONFIG, yaml.safe_dump(config, sort_keys=True))
        logger.info("run written to %s", out)
    trainer.accelerator.wait_for_everyone()
    trainer.end()
    return {"train": metrics, "eval": eval_metrics, **extra}
