"""The effective-support classifier: (post, comment) -> effective / not_effective.

    python training/classifier.py --config training/recipes/all-minilm-l6-v2/classifier.yaml [--key value ...]
    accelerate launch --config_file training/accelerate_configs/<cfg>.yaml training/classifier.py --config ...

`AutoModelForSequenceClassification` on the RedditESS `effective_support` config (the paper's BERT/RoBERTa
setting), with LoRA (`lora_task_type: SEQ_CLS`, the classification head trained in full through PEFT's
`modules_to_save`) or full fine-tuning (`use_peft: false`). Imbalance is handled with class weights
(`class_weighting: balanced`). F1 of the positive class, macro F1 and MCC are computed on `validation` at every
evaluation; with `load_best_model_at_end` + `metric_for_best_model: macro_f1` the best checkpoint is the one
saved. After training, the decision threshold on P(effective) is tuned on validation for `threshold_metric`
(`macro_f1` by default, or `mcc`; never positive-class F1 alone, whose optimum on imbalanced data is "all
effective") and saved with the metric used as `threshold.json`, which `load_classifier` and the evaluation kit
use.

Parsed like TRL's scripts (TrlParser): `ClassifierScriptArguments`, transformers `TrainingArguments`, TRL
`ModelConfig`.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from transformers import TrainingArguments
from trl import ModelConfig, get_peft_config, get_quantization_config

from redditess_core.atomic import write_text
from redditess_core.classifier import (  # noqa: F401 - part of this script's documented API
    THRESHOLD_METRICS,
    load_classifier,
    pair_texts,
    tune_threshold,
)
from redditess_core.contract import LABEL_NAMES, THRESHOLD_FILE
from training.data import load_splits
from training.models import load_tokenizer, model_init_kwargs, resolve_model_path
from training.recipe import KitScriptArguments, parse_recipe, resolved_config
from training.run import (
    exit_on_input_error,
    finish_run,
    last_checkpoint,
    run_record,
    setup_run,
)

logger = logging.getLogger(__name__)

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids", "labels")


@dataclass
class ClassifierScriptArguments(KitScriptArguments):
    """Data and imbalance options of the classifier (TRL's ScriptArguments with RedditESS defaults)."""

    dataset_config: str | None = field(default="effective_support", metadata={"help": "RedditESS config."})
    stage: str = field(default="classifier", metadata={"help": "Name recorded in redditess_run.json."})
    max_length: int = field(
        default=256, metadata={"help": "Tokens per (post, comment) pair, truncating longest first."}
    )
    class_weighting: str = field(
        default="balanced", metadata={"help": "`balanced` (n / (k * n_class) weights in the loss) or `none`."}
    )
    positive_label: str = field(
        default="effective", metadata={"help": "Class predicted when P(class) >= the tuned threshold."}
    )
    threshold_metric: str = field(
        default="macro_f1",
        metadata={
            "help": "What the decision threshold maximises on validation: `macro_f1` or `mcc` (never "
            "positive-class F1 alone, which on imbalanced data ends at 'everything positive')."
        },
    )


DATACLASSES = (ClassifierScriptArguments, TrainingArguments, ModelConfig)


def class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Balanced weights n / (k * n_c); a class absent from training gets weight 0 (and a warning)."""
    counts = np.bincount(labels, minlength=num_classes).astype(float)
    weights = np.where(counts > 0, len(labels) / (num_classes * np.maximum(counts, 1)), 0.0)
    if (counts == 0).any():
        logger.warning("classes absent from training data: %s", np.flatnonzero(counts == 0).tolist())
    return weights


def positive_probs(logits: np.ndarray, positive_id: int) -> np.ndarray:
    """Softmax probability of the positive class."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True))[:, positive_id]


def make_compute_metrics(positive_id: int):
    """F1/precision/recall of the positive class, macro-F1, MCC and accuracy at the argmax decision."""
    from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef, precision_score, recall_score

    def compute_metrics(eval_pred: Any) -> dict[str, float]:
        logits, labels = eval_pred.predictions, eval_pred.label_ids
        preds = logits.argmax(-1)
        pos_true, pos_pred = labels == positive_id, preds == positive_id
        return {
            "f1": float(f1_score(pos_true, pos_pred, zero_division=0)),
            "precision": float(precision_score(pos_true, pos_pred, zero_division=0)),
            "recall": float(recall_score(pos_true, pos_pred, zero_division=0)),
            "macro_f1": float(f1_score(labels, preds, average="macro", zero_division=0)),
            "mcc": float(matthews_corrcoef(labels, preds)),
            "accuracy": float(accuracy_score(labels, preds)),
        }

    return compute_metrics


def _label_names(feature: Any) -> list[str]:
    names = getattr(feature, "names", None)
    return list(names) if names else list(LABEL_NAMES)


def main(
    script_args: ClassifierScriptArguments,
    training_args: TrainingArguments,
    model_args: ModelConfig,
    callbacks: list[Any] | None = None,
) -> dict[str, Any]:
    """Train the classifier, tune and save its threshold, write the run directory; returns metrics."""
    import torch
    from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding, Trainer

    setup_run(script_args, training_args)
    if model_args.use_peft and model_args.lora_task_type != "SEQ_CLS":
        logger.warning(
            "lora_task_type %s -> SEQ_CLS (a classifier's head must be trained)", model_args.lora_task_type
        )
        model_args.lora_task_type = "SEQ_CLS"
    if script_args.threshold_metric not in THRESHOLD_METRICS:
        raise ValueError(
            f"threshold_metric must be one of {THRESHOLD_METRICS}, got {script_args.threshold_metric!r}"
        )
    if script_args.class_weighting not in ("balanced", "none"):
        raise ValueError(f"class_weighting must be 'balanced' or 'none', got {script_args.class_weighting!r}")
    config = resolved_config(script_args, training_args, model_args)
    base = resolve_model_path(model_args.model_name_or_path)
    evaluating = training_args.eval_strategy != "no"
    splits = [script_args.dataset_train_split, script_args.dataset_test_split]
    data = load_splits(
        script_args.dataset_name,
        script_args.dataset_config,
        splits,
        revision=script_args.dataset_revision,
        expected_config="effective_support",
    )
    names = _label_names(data[script_args.dataset_train_split].features["label"])
    if script_args.positive_label not in names:
        raise ValueError(f"positive_label {script_args.positive_label!r} is not a label name: {names}")
    positive_id = names.index(script_args.positive_label)
    tokenizer = load_tokenizer(base, causal_lm=False)

    def encode(batch: dict[str, list[Any]]) -> dict[str, Any]:
        rows = [dict(zip(batch, values, strict=True)) for values in zip(*batch.values(), strict=True)]
        posts, comments = zip(*(pair_texts(r) for r in rows), strict=True) if rows else ((), ())
        enc = tokenizer(
            list(posts), list(comments), truncation="longest_first", max_length=script_args.max_length
        )
        enc["labels"] = batch["label"]
        return enc

    encoded = {}
    for split, ds in data.items():
        ds = ds.filter(lambda r: r["label"] is not None)
        enc = ds.map(encode, batched=True, remove_columns=ds.column_names)
        encoded[split] = enc.select_columns([c for c in MODEL_INPUTS if c in enc.column_names])
    train_ds, val_ds = encoded[script_args.dataset_train_split], encoded[script_args.dataset_test_split]

    init_kwargs = model_init_kwargs(model_args, training_args)
    quantization_config = get_quantization_config(model_args)
    if quantization_config is not None:
        init_kwargs["quantization_config"] = quantization_config
    init_kwargs["dtype"] = (
        getattr(torch, init_kwargs["dtype"])
        if init_kwargs.get("dtype") not in (None, "auto")
        else init_kwargs.get("dtype")
    )
    model = AutoModelForSequenceClassification.from_pretrained(
        base,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={n: i for i, n in enumerate(names)},
        **{k: v for k, v in init_kwargs.items() if v is not None},
    )
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    peft_config = get_peft_config(model_args)
    if peft_config is not None:
        from peft import get_peft_model

        model = get_peft_model(model, peft_config)
        if training_args.gradient_checkpointing:
            model.enable_input_require_grads()

    weights = None
    if script_args.class_weighting == "balanced":
        weights = torch.tensor(class_weights(np.asarray(train_ds["labels"]), len(names)), dtype=torch.float32)
        logger.info("class weights %s", dict(zip(names, weights.tolist(), strict=True)))

    def weighted_loss(outputs: Any, labels: Any, num_items_in_batch: Any = None) -> Any:
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs.logits
        w = weights.to(logits.device, logits.dtype) if weights is not None else None
        return torch.nn.functional.cross_entropy(logits.view(-1, len(names)), labels.view(-1), weight=w)

    resume_from = last_checkpoint(training_args)
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train_ds,
        eval_dataset=val_ds if evaluating else None,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_loss_func=weighted_loss,
        compute_metrics=make_compute_metrics(positive_id),
        callbacks=callbacks,
    )

    def tune(trainer: Any) -> dict[str, Any]:
        pred = trainer.predict(val_ds, metric_key_prefix="threshold")
        probs = positive_probs(pred.predictions, positive_id)
        labels = pred.label_ids == positive_id
        tuned = {
            **tune_threshold(probs, labels, script_args.threshold_metric),
            "positive_label": script_args.positive_label,
            "labels": names,
            "tuned_on": script_args.dataset_test_split,
            "n_validation": int(len(labels)),
        }
        if trainer.accelerator.is_main_process:
            out = Path(training_args.output_dir)
            write_text(out / THRESHOLD_FILE, json.dumps(tuned, indent=2, sort_keys=True) + "\n")
        logger.info(
            "decision threshold %.4f (validation %s %.4f, predicted positive %.1f%% vs %.1f%% true)",
            tuned["threshold"],
            tuned["metric"],
            tuned[f"validation_{tuned['metric']}"],
            100 * tuned["validation_predicted_positive_rate"],
            100 * tuned["validation_positive_rate"],
        )
        return {"threshold": tuned}

    record = run_record(
        script_args,
        script="training/classifier.py",
        base_model=base,
        eval_split=script_args.dataset_test_split,
        world_size=trainer.accelerator.num_processes,
        extra={
            "use_peft": model_args.use_peft,
            "class_weighting": script_args.class_weighting,
            "class_weights": weights.tolist() if weights is not None else None,
        },
    )
    return finish_run(
        trainer,
        resume_from=resume_from,
        record=record,
        config=config,
        tokenizer=tokenizer,
        eval_dataset=val_ds if evaluating else None,
        after_train=tune,
    )


def cli(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the recipe and overrides, then run."""
    return main(*parse_recipe(DATACLASSES, sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    exit_on_input_error(cli)
