"""Direct preference optimization of the GM and IM: continuing a previous stage, or directly on a base model.

    python training/dpo.py --config training/recipes/tiny/gm-dpo.yaml [--key value ...]
    accelerate launch --config_file training/accelerate_configs/<cfg>.yaml training/dpo.py --config ...

Two modes, logged at the start of the run and recorded in redditess_run.json (`dpo_mode`):
- `from_base` (no `parent_run`): DPO directly on `model_name_or_path` (a base or an instruct model), as TRL's
  own `trl/scripts/dpo.py` does. With `use_peft` a fresh LoRA adapter is trained and the reference is the
  model with the adapter disabled, i.e. the base itself; without it, the reference is a frozen copy of the
  base. The tokenizer is the base's.
- `continue` (`parent_run` names the run directory of the previous stage; LLUMI chains SFT -> DPO1 -> DPO2,
  RedditESS SFT -> DPO):
  - Parent saved a LoRA adapter (the default): the policy is the base model (quantized as the recipe says)
    plus that adapter, loaded trainable, and DPO keeps training the same adapter. TRL's DPOTrainer copies
    it into a frozen `ref` adapter, so the reference policy is the SFT (or DPO1) policy, not the bare base
    model. The recipe's `lora_*` values are then ignored: the parent adapter's shape is kept.
  - Parent saved full weights (SFT without LoRA): they are the new base; with `use_peft` a fresh LoRA goes
    on top and the reference is that model with adapters disabled, i.e. again the parent policy.
  The tokenizer (and its chat template) is taken from the parent run, and so is the parent's system-turn
  decision (`fold_system_turn`, unless the recipe sets it), so every stage formats prompts alike.

Data: GM on the `preference` config, IM on `improvement` (prompt, chosen revision, rejected draft); DPO2 on
human-judged pairs in the `preference` format, a RedditESS-style folder or a single .jsonl/.parquet file.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from datasets import Dataset
from trl import DPOConfig, DPOTrainer, ModelConfig, get_peft_config, get_quantization_config

from redditess_core.chat import CONFIG_TASK, RECORD_KEY, ChatFormat, decide_chat_format, read_run_record
from training.data import (
    TrainRowArguments,
    fit_to_length,
    load_splits,
    select_pair_sources,
    to_preference_rows,
    train_subset,
    trained_system_prompt,
)
from training.models import load_tokenizer, model_init_kwargs, resolve_model_path
from training.recipe import KitScriptArguments, parse_recipe, resolved_config
from training.run import exit_on_input_error, finish_run, last_checkpoint, run_record, setup_run

logger = logging.getLogger(__name__)

DPO_CONFIGS = ("preference", "improvement")


@dataclass
class DPOScriptArguments(KitScriptArguments, TrainRowArguments):
    """TRL's ScriptArguments with the RedditESS defaults and the stage chaining."""

    pair_sources: list[str] | None = field(
        default=None,
        metadata={
            "help": "Train only on pairs with these `pair_source` values (preference: votes, label; improvement: "
            "similar_reply, self_edit); default all. The RedditESS recipe trains on label pairs."
        },
    )
    dataset_config: str | None = field(
        default="preference",
        metadata={"help": "`preference` (GM), `improvement` (IM); none for a loose file of DPO2 pairs."},
    )
    stage: str = field(
        default="dpo", metadata={"help": "Name recorded in redditess_run.json (gm-dpo, im-dpo...)."}
    )
    parent_run: str | None = field(
        default=None,
        metadata={
            "help": "Run directory of the previous stage (SFT for DPO1, DPO1 for DPO2). Unset: DPO directly on "
            "`model_name_or_path`, with that model as the reference (TRL's own DPO script)."
        },
    )
    fold_system_turn: bool | None = field(
        default=None,
        metadata={
            "help": "Merge the system turn into the first user turn. Unset: the parent run's decision, else "
            "decided from the chat template (folded when it rejects or drops a system turn, as "
            "Mistral-7B-Instruct-v0.2's does); true/false force it."
        },
    )


DATACLASSES = (DPOScriptArguments, DPOConfig, ModelConfig)


def load_policy(parent: Path, model_args: ModelConfig, training_args: DPOConfig) -> tuple[Any, str, Any]:
    """Build the policy that DPO starts from: (model or model path, base model, peft_config for the trainer)."""
    from peft import PeftModel
    from trl.trainer.utils import create_model_from_path

    adapter_config = parent / "adapter_config.json"
    init_kwargs = model_init_kwargs(model_args, training_args)
    quantization_config = get_quantization_config(model_args)
    if not adapter_config.is_file():
        base = resolve_model_path(str(parent))
        training_args.model_init_kwargs = {**init_kwargs, "quantization_config": quantization_config}
        if quantization_config is None:
            training_args.model_init_kwargs.pop("quantization_config")
        return base, base, get_peft_config(model_args)
    recorded_base = json.loads(adapter_config.read_text()).get("base_model_name_or_path")
    base = resolve_model_path(model_args.model_name_or_path or recorded_base)
    if recorded_base and Path(recorded_base).resolve() != Path(base).resolve():
        logger.warning("parent adapter was trained on %s, loading it on %s", recorded_base, base)
    if quantization_config is not None:
        init_kwargs["quantization_config"] = quantization_config
    model = create_model_from_path(base, **init_kwargs)
    policy = PeftModel.from_pretrained(model, str(parent), is_trainable=True)
    logger.info(
        "DPO policy = %s + adapter of %s (continued); reference = a frozen copy of that adapter", base, parent
    )
    return policy, base, None


def load_base_policy(model_args: ModelConfig, training_args: DPOConfig) -> tuple[str, str, Any, Any]:
    """DPO without a parent run, as TRL's `trl/scripts/dpo.py`: (model path for DPOTrainer to load, base model,
    peft_config, tokenizer). The reference policy is the base (LoRA disabled, or a frozen copy without LoRA)."""
    base = resolve_model_path(model_args.model_name_or_path)
    init_kwargs = model_init_kwargs(model_args, training_args)
    quantization_config = get_quantization_config(model_args)
    if quantization_config is not None:
        init_kwargs["quantization_config"] = quantization_config
    training_args.model_init_kwargs = init_kwargs
    peft_config = get_peft_config(model_args)
    logger.info(
        "DPO from the base model (no parent_run): policy = %s%s; reference = %s",
        base,
        " + a new LoRA adapter" if peft_config is not None else " (all weights trained)",
        "the same model with the adapter disabled" if peft_config is not None else "a frozen copy of it",
    )
    return base, base, peft_config, load_tokenizer(base)


def prepare_rows(
    data: dict[str, Dataset],
    script_args: DPOScriptArguments,
    training_args: DPOConfig,
    tokenizer: Any,
    parent: Path | None,
) -> tuple[dict[str, Dataset], dict[str, dict[str, int]], ChatFormat]:
    """The preference rows of each split as DPOTrainer gets them, with the chat format they were rendered in.

    The chat format is the parent run's when `parent` records one and the recipe does not force
    `fold_system_turn` (the policy continues in the format it was trained in), else decided from the
    tokenizer (`redditess_core.chat.decide_chat_format`). Rows are fitted to `max_length`. Returns
    (rows per split, fitted counts per split, chat format). Shared by `main` and benchmarks/bench_training.py.
    """
    forced, inherited = script_args.fold_system_turn, False
    if parent is not None:
        parent_format = ChatFormat.from_record(read_run_record(parent))
        inherited = script_args.fold_system_turn is None and parent_format is not None
        forced = parent_format.fold_system_turn if inherited else script_args.fold_system_turn
    chat_format = decide_chat_format(
        tokenizer,
        forced=forced,
        system_prompt=trained_system_prompt(data[script_args.dataset_train_split], "preference"),
        task=CONFIG_TASK.get(script_args.dataset_config or "preference"),
    )
    if inherited:
        chat_format = replace(chat_format, decided_by="parent run")
    rows, fitted = {}, {}
    for name, ds in data.items():
        rows[name], fitted[name] = fit_to_length(
            to_preference_rows(ds, fold_system=chat_format.fold_system_turn),
            tokenizer,
            training_args.max_length,
            script_args.overlong_rows,
            where=name,
        )
    return rows, fitted, chat_format


def main(
    script_args: DPOScriptArguments,
    training_args: DPOConfig,
    model_args: ModelConfig,
    callbacks: list[Any] | None = None,
) -> dict[str, Any]:
    """Run one DPO stage (from `parent_run`, or from the base model without one) and write the run directory;
    returns train/eval metrics."""
    setup_run(script_args, training_args)
    config = resolved_config(script_args, training_args, model_args)
    parent = Path(script_args.parent_run).expanduser() if script_args.parent_run else None
    if parent is not None and not parent.is_dir():
        raise FileNotFoundError(f"parent_run {parent} is not a directory (run the previous stage first)")
    if script_args.dataset_config is not None and script_args.dataset_config not in DPO_CONFIGS:
        raise ValueError(
            f"DPO trains on the RedditESS configs {list(DPO_CONFIGS)}, got dataset_config="
            f"{script_args.dataset_config!r}"
        )
    evaluating = training_args.eval_strategy != "no"
    splits = [script_args.dataset_train_split] + ([script_args.dataset_test_split] if evaluating else [])
    data = load_splits(
        script_args.dataset_name,
        script_args.dataset_config,
        splits,
        revision=script_args.dataset_revision,
        expected_config="preference",
    )
    data = {
        name: select_pair_sources(ds, script_args.pair_sources, where=f"{script_args.dataset_name} [{name}]")
        for name, ds in data.items()
    }
    train_split = script_args.dataset_train_split
    data[train_split] = train_subset(
        data[train_split], script_args.train_subset_size, script_args.train_subset_seed
    )
    mode = "from_base" if parent is None else "continue"
    logger.info(
        "DPO mode: %s",
        "from_base (no parent_run: the base model is the starting point and the reference)"
        if parent is None
        else f"continue (parent_run {parent}: its policy is the starting point and the reference)",
    )
    if parent is None:
        policy, base, peft_config, tokenizer = load_base_policy(model_args, training_args)
    else:
        policy, base, peft_config = load_policy(parent, model_args, training_args)
        tokenizer = load_tokenizer(str(parent))
    rows, fitted, chat_format = prepare_rows(data, script_args, training_args, tokenizer, parent)
    resume_from = last_checkpoint(training_args)
    eval_dataset = rows[script_args.dataset_test_split] if evaluating else None
    trainer = DPOTrainer(
        model=policy,
        args=training_args,
        train_dataset=rows[script_args.dataset_train_split],
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=callbacks,
    )
    record = run_record(
        script_args,
        script="training/dpo.py",
        base_model=base,
        eval_split=script_args.dataset_test_split if evaluating else None,
        parent_adapter=str(parent.resolve()) if parent is not None else None,
        world_size=trainer.accelerator.num_processes,
        extra={
            "dpo_mode": mode,
            RECORD_KEY: chat_format.to_record(),
            "load_in_4bit": model_args.load_in_4bit,
            "beta": training_args.beta,
            "pair_sources": script_args.pair_sources,
            "overlong_rows": fitted,
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
