"""Render the model card of a trained adapter from its run directory (ModelCard / ModelCardData / EvalResult).

Inputs are the files a training run leaves (see training/README.md): `adapter_config.json`,
`redditess_run.json` (stage, base model, dataset version), `redditess_config.yaml` (every resolved
argument), `train_results.json` / `eval_results.json`, plus an optional evaluation-kit report. Local
paths in those files are reduced to their last component: a home directory can carry a username.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from cards.markdown import flatten, table
from redditess_core.contract import RESOLVED_CONFIG, RUN_RECORD

TEMPLATES = Path(__file__).resolve().parent / "templates"

# Hyperparameters worth a line in the card (the full resolved config is uploaded beside it).
KEY_HYPERPARAMETERS = (
    "learning_rate",
    "num_train_epochs",
    "max_steps",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "lr_scheduler_type",
    "warmup_ratio",
    "max_length",
    "beta",
    "loss_type",
    "use_peft",
    "lora_r",
    "lora_alpha",
    "lora_dropout",
    "lora_target_modules",
    "load_in_4bit",
    "bnb_4bit_quant_type",
    "assistant_only_loss",
    "seed",
)

ROLE_BY_STAGE = {
    "gm": "Generation Model (GM): drafts a supportive reply to a post for a peer supporter to edit",
    "im": "Improvement Model (IM): revises a peer supporter's draft, keeping its intent and style",
    "classifier": "effective-support classifier: scores whether a reply is likely to be received as effective",
}


def public_name(value: Any) -> Any:
    """A local path becomes its last component (a path can name a user); Hub ids and other values pass."""
    if isinstance(value, str) and value.startswith(("/", "~", "./", "../")) and "\n" not in value:
        return Path(value.rstrip("/")).name
    return value


def scrub_paths(obj: Any) -> Any:
    """Recursively apply `public_name` to every string of a JSON / YAML document."""
    if isinstance(obj, Mapping):
        return {k: scrub_paths(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [scrub_paths(v) for v in obj]
    return public_name(obj)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None


@dataclass
class ModelCardInputs:
    """What the card needs beyond the run directory: the Hub ids to show and an optional eval report."""

    repo_id: str | None = None
    base_model_id: str | None = None
    dataset_id: str | None = None
    eval_reports: dict[str, Mapping[str, Any]] | None = None  # name (file stem) -> evaluation-kit JSON
    license: str = "other"


def _stage_role(stage: str) -> str:
    for prefix, role in ROLE_BY_STAGE.items():
        if stage.startswith(prefix):
            return role
    return "supportive-reply model"


def _metric_rows(metrics: Mapping[str, Any], source: str, split: str) -> list[tuple[str, str, str, float]]:
    rows = []
    for name, value in flatten(metrics).items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if name.endswith(
            ("_runtime", "_samples_per_second", "_steps_per_second", "samples", "epoch", "num_tokens")
        ):
            continue
        rows.append((source, split, name.removeprefix("eval_"), float(value)))
    return rows


def collect_eval_rows(
    run_dir: Path, eval_reports: Mapping[str, Mapping[str, Any]] | None
) -> list[tuple[str, str, str, float]]:
    """(source, split, metric, value) from the run's eval_results.json and the evaluation kit's JSON files.

    A report is either `{"split": ..., "metrics": {name: value}}` (eval classify) or a flat mapping
    (eval judge / linguistic): its numeric fields are taken, strings skipped.
    """
    rows = _metric_rows(_read_json(run_dir / "eval_results.json"), "trainer evaluation", "validation")
    for name, report in (eval_reports or {}).items():
        metrics = report.get("metrics", report)
        rows += _metric_rows(metrics, f"evaluation kit: {name}", str(report.get("split", "test")))
    return rows


def build_model_card_data(run_dir: Path, inputs: ModelCardInputs) -> tuple[ModelCardData, dict[str, Any]]:
    """The YAML metadata (with EvalResult entries) and the template context."""
    record = scrub_paths(_read_json(run_dir / RUN_RECORD))
    adapter = scrub_paths(_read_json(run_dir / "adapter_config.json"))
    config_path = run_dir / RESOLVED_CONFIG
    config = (
        scrub_paths(yaml.safe_load(config_path.read_text(encoding="utf-8")) or {})
        if config_path.is_file()
        else {}
    )
    flat_config = flatten(config) if isinstance(config, Mapping) else {}
    by_leaf = {k.rsplit(".", 1)[-1]: v for k, v in flat_config.items()}
    stage = str(record.get("stage") or "adapter")
    dataset = record.get("dataset") or {}
    dataset_id = inputs.dataset_id or dataset.get("path") or "redditess"
    base_model = (
        inputs.base_model_id
        or record.get("base_model")
        or adapter.get("base_model_name_or_path")
        or "unknown"
    )
    load_in_4bit = bool(record.get("load_in_4bit", by_leaf.get("load_in_4bit", False)))
    task_type = "text-classification" if stage.startswith("classifier") else "text-generation"
    eval_rows = collect_eval_rows(run_dir, inputs.eval_reports)
    model_name = inputs.repo_id.split("/")[-1] if inputs.repo_id else run_dir.name
    eval_results = [
        EvalResult(
            task_type=task_type,
            dataset_type=str(dataset_id),
            dataset_name=f"RedditESS {dataset.get('version') or ''}".strip(),
            dataset_config=dataset.get("config"),
            dataset_split=split,
            metric_type=metric,
            metric_name=f"{metric} ({source})",
            metric_value=value,
        )
        for source, split, metric, value in eval_rows
    ]
    tags = ["peft", "lora", "redditess", "mental-health", "peer-support", stage]
    tags += ["trl", "dpo"] if "dpo" in stage else (["trl", "sft"] if "sft" in stage else [])
    if load_in_4bit:
        tags.append("4-bit")
    data = ModelCardData(
        language=["en"],
        license=inputs.license,
        license_name="redditess-research-use" if inputs.license == "other" else None,
        library_name="peft",
        base_model=str(base_model),
        datasets=[str(dataset_id)],
        pipeline_tag=task_type,
        tags=tags,
        model_name=model_name,
        eval_results=eval_results or None,
    )
    hyper = [(k, by_leaf[k]) for k in KEY_HYPERPARAMETERS if k in by_leaf]
    for key in ("beta", "load_in_4bit"):
        if key in record and key not in dict(hyper):
            hyper.append((key, record[key]))
    context = {
        "model_name": model_name,
        "repo_id": inputs.repo_id or "ORG/NAME",
        "stage": stage,
        "role": _stage_role(stage),
        "is_generator": task_type == "text-generation",
        "is_improvement": stage.startswith("im"),
        "base_model_id": str(base_model),
        "dataset_id": str(dataset_id),
        "dataset_config": dataset.get("config") or "—",
        "dataset_version": dataset.get("version") or "unknown",
        "parent_adapter": record.get("parent_adapter"),
        "script": record.get("script") or "—",
        "world_size": record.get("world_size"),
        "finished": record.get("finished_utc"),
        "libraries": table(["library", "version"], sorted((record.get("libraries") or {}).items())),
        "peft_type": adapter.get("peft_type") or "LORA",
        "adapter_table": table(
            ["setting", "value"],
            [
                (k, adapter.get(k))
                for k in (
                    "peft_type",
                    "task_type",
                    "r",
                    "lora_alpha",
                    "lora_dropout",
                    "target_modules",
                    "bias",
                )
                if k in adapter
            ],
        ),
        "quantization": "4-bit NF4 (bitsandbytes QLoRA)"
        if load_in_4bit
        else "none (full-precision base weights)",
        "hyper_table": table(["hyperparameter", "value"], hyper),
        "eval_table": table(["source", "split", "metric", "value"], eval_rows),
        "has_eval": bool(eval_rows),
        "train_table": table(
            ["metric", "value"], sorted(_flat_numbers(_read_json(run_dir / "train_results.json")))
        ),
        "crisis": _crisis_context(),
    }
    return data, context


def _flat_numbers(d: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Numeric training metrics, without throughput figures that say nothing about the model."""
    skip = ("_runtime", "_per_second", "total_flos")
    return [
        (k, v)
        for k, v in flatten(d).items()
        if isinstance(v, int | float) and not isinstance(v, bool) and not k.endswith(skip)
    ]


def _crisis_context() -> dict[str, Any]:
    from redditess_core.safety import load_resources

    res = load_resources()
    return {"reviewed": res.get("reviewed"), "resources": res["resources"]}


def render_model_card(run_dir: str | os.PathLike[str], inputs: ModelCardInputs | None = None) -> str:
    """The README.md of an adapter repository, rendered through `ModelCard.from_template`."""
    run_dir = Path(run_dir)
    if not (run_dir / "adapter_config.json").is_file():
        raise ValueError(f"{run_dir}: no adapter_config.json; is this a training run directory?")
    data, context = build_model_card_data(run_dir, inputs or ModelCardInputs())
    template = (TEMPLATES / "model_card.md.jinja").read_text(encoding="utf-8")
    return str(ModelCard.from_template(data, template_str=template, **context))
