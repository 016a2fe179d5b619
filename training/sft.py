"""Supervised fine-tuning of the Generation Model (GM) and the Improvement Model (IM), TRL-style.

    python training/sft.py --config training/recipes/tiny/gm-sft.yaml [--key value ...]
    accelerate launch --config_file training/accelerate_configs/<cfg>.yaml training/sft.py --config ...

GM: RedditESS `sft` config (system, user = post, assistant = an effective comment).
IM: RedditESS `improvement` config, learning prompt (post + draft) -> chosen (the better-received revision).
Every TRL/transformers argument (SFTConfig, ModelConfig, ScriptArguments) works from the YAML recipe or the
command line; the kit adds the few fields of `SFTScriptArguments`. The run directory's layout is described
in training/README.md; `training/dpo.py` continues from it (`sft_adapter_path`).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from typing import Any

from datasets import Dataset
from trl import ModelConfig, SFTConfig, SFTTrainer, get_peft_config, get_quantization_config

from redditess_core.chat import CONFIG_TASK, RECORD_KEY, ChatFormat, decide_chat_format
from training.data import (
    TrainRowArguments,
    fit_to_length,
    load_splits,
    to_sft_rows,
    train_subset,
    trained_system_prompt,
)
from training.models import load_tokenizer, model_init_kwargs, recipe_chat_template, resolve_model_path
from training.recipe import KitScriptArguments, parse_recipe, resolved_config
from training.run import exit_on_input_error, finish_run, last_checkpoint, run_record, setup_run

logger = logging.getLogger(__name__)

SFT_CONFIGS = ("sft", "improvement")


@dataclass
class SFTScriptArguments(KitScriptArguments, TrainRowArguments):
    """TRL's ScriptArguments with the RedditESS defaults and the kit's SFT options."""

    dataset_config: str | None = field(
        default="sft", metadata={"help": "RedditESS config: `sft` (GM) or `improvement` (IM)."}
    )
    stage: str = field(
        default="sft", metadata={"help": "Name recorded in redditess_run.json (gm-sft, im-sft)."}
    )
    sft_format: str = field(
        default="prompt_completion",
        metadata={
            "help": "`prompt_completion` (loss on the reply only, works with any chat template) or `messages` "
            "(needs `assistant_only_loss` and a template with {%% generation %%} markers)."
        },
    )
    fold_system_turn: bool | None = field(
        default=None,
        metadata={
            "help": "Merge the system turn into the first user turn. Unset: decided from the chat template (folded "
            "when it rejects or drops a system turn, as Mistral-7B-Instruct-v0.2's does); true/false force it. "
            "Recorded in redditess_run.json, read back by eval and assist."
        },
    )


DATACLASSES = (SFTScriptArguments, SFTConfig, ModelConfig)


def prepare_rows(
    data: dict[str, Dataset], script_args: SFTScriptArguments, training_args: SFTConfig, tokenizer: Any
) -> tuple[dict[str, Dataset], dict[str, dict[str, int]], ChatFormat]:
    """The SFT rows of each split as the trainer gets them, with the chat format they were rendered in.

    `data` maps split names to RedditESS rows (the train split under `script_args.dataset_train_split`);
    the chat format is decided once from the tokenizer (`redditess_core.chat.decide_chat_format`, the
    recipe's `fold_system_turn` forcing it); rows are then fitted to `max_length`. Returns
    (rows per split, fitted counts per split, chat format). Shared by `main` and benchmarks/bench_training.py.
    """
    chat_format = decide_chat_format(
        tokenizer,
        forced=script_args.fold_system_turn,
        system_prompt=trained_system_prompt(
            data[script_args.dataset_train_split], script_args.dataset_config
        ),
        task=CONFIG_TASK[script_args.dataset_config],
        chat_template=recipe_chat_template(training_args.chat_template_path),
    )
    rows, fitted = {}, {}
    for name, ds in data.items():
        converted = to_sft_rows(
            ds,
            script_args.dataset_config,
            sft_format=script_args.sft_format,
            fold_system=chat_format.fold_system_turn,
        )
        rows[name], fitted[name] = fit_to_length(
            converted, tokenizer, training_args.max_length, script_args.overlong_rows, where=name
        )
    return rows, fitted, chat_format


def main(
    script_args: SFTScriptArguments,
    training_args: SFTConfig,
    model_args: ModelConfig,
    callbacks: list[Any] | None = None,
) -> dict[str, Any]:
    """Run one SFT stage and write the run directory; returns train/eval metrics."""
    setup_run(script_args, training_args)
    config = resolved_config(script_args, training_args, model_args)
    if script_args.dataset_config not in SFT_CONFIGS:
        raise ValueError(
            f"SFT trains on the RedditESS configs {list(SFT_CONFIGS)}, got dataset_config="
            f"{script_args.dataset_config!r}"
        )
    base = resolve_model_path(model_args.model_name_or_path)
    evaluating = training_args.eval_strategy != "no"
    splits = [script_args.dataset_train_split] + ([script_args.dataset_test_split] if evaluating else [])
    data = load_splits(
        script_args.dataset_name, script_args.dataset_config, splits, revision=script_args.dataset_revision
    )
    train_split = script_args.dataset_train_split
    data[train_split] = train_subset(
        data[train_split], script_args.train_subset_size, script_args.train_subset_seed
    )
    tokenizer = load_tokenizer(base, training_args.chat_template_path)
    rows, fitted, chat_format = prepare_rows(data, script_args, training_args, tokenizer)
    training_args.model_init_kwargs = model_init_kwargs(model_args, training_args)
    resume_from = last_checkpoint(training_args)
    eval_dataset = rows[script_args.dataset_test_split] if evaluating else None
    trainer = SFTTrainer(
        model=base,
        args=training_args,
        train_dataset=rows[script_args.dataset_train_split],
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        quantization_config=get_quantization_config(model_args),
        peft_config=get_peft_config(model_args),
        callbacks=callbacks,
    )
    record = run_record(
        script_args,
        script="training/sft.py",
        base_model=base,
        eval_split=script_args.dataset_test_split if evaluating else None,
        world_size=trainer.accelerator.num_processes,
        extra={
            "load_in_4bit": model_args.load_in_4bit,
            "use_peft": model_args.use_peft,
            "overlong_rows": fitted,
            RECORD_KEY: chat_format.to_record(),
        },
    )
    return finish_run(
        trainer,
        resume_from=resume_from,
        record=record,
        config=config,
        tokenizer=trainer.processing_class,
        eval_dataset=eval_dataset,
    )


def cli(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the recipe and overrides, then run."""
    return main(*parse_recipe(DATACLASSES, sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    exit_on_input_error(cli)
