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
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

RUN_RECORD = "redditess_run.json"
RESOLVED_CONFIG = "redditess_config.yaml"


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
    logging.getLogger("training").setLevel(level)
    transformers.utils.logging.set_verbosity(level)
    datasets.utils.logging.set_verbosity(level)


def last_checkpoint(training_args: Any) -> str | None:
    """The checkpoint to resume from: the one asked for, else the newest `checkpoint-*` in `output_dir`.

    Rerunning the same recipe with the same output directory after an interruption continues where the
    last checkpoint left off (optimizer, scheduler, RNG and data order included) instead of starting over.
    """
    from transformers.trainer_utils import get_last_checkpoint

    asked = training_args.resume_from_checkpoint
    if asked:
        return str(asked)
    out = Path(training_args.output_dir)
    if not out.is_dir():
        return None
    found = get_last_checkpoint(str(out))
    if found:
        logger.info("resuming from %s", found)
    return found


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file through a temporary sibling and a rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
        atomic_write_text(out / RUN_RECORD, json.dumps(record, indent=2, sort_keys=True) + "\n")
        atomic_write_text(out / RESOLVED_CONFIG, yaml.safe_dump(config, sort_keys=True))
        logger.info("run written to %s", out)
    trainer.accelerator.wait_for_everyone()
    trainer.end()
    return {"train": metrics, "eval": eval_metrics, **extra}
