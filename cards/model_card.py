"""Render the model card of a trained adapter from its run directory (ModelCard / ModelCardData / EvalResult).

Inputs are the files a training run leaves (see training/README.md): `adapter_config.json`,
`redditess_run.json` (stage, base model, dataset version), `redditess_config.yaml` (every resolved
argument), `train_results.json` / `eval_results.json`, plus optional evaluation-kit reports. Local
paths in those files are reduced to their last component: a home directory can carry a username.

`base_model` must be a Hub model id (the Hub links the card to it, and `adapter_config.json`'s
`base_model_name_or_path` is what PEFT loads): when the run was trained from a local folder, its name is
not taken for an id; `ModelCardInputs.base_model_id` (`--base-model`) must name the Hub model instead.
`model-index` holds the evaluation kit's task metrics only (`cards.eval_results`); the trainer's own
figures (loss, rewards, runtime) are shown in the training section.
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
from huggingface_hub.utils import HFValidationError, validate_repo_id

from cards.eval_results import task_metrics
from cards.markdown import flatten, table
from redditess_core.contract import RESOLVED_CONFIG, RUN_RECORD
from redditess_core.jsonfile import read_json_object

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


class InvalidBaseModel(ValueError):
    """The card's base model is not a Hub model id: a local path, an invalid id, or none recorded."""


def _path_syntax(value: str) -> bool:
    """Written as a path: absolute, home- or dot-relative, with backslashes or a drive letter."""
    v = value.strip()
    return v.startswith(("/", "~", ".")) or "\\" in v or (len(v) > 1 and v[1] == ":")


def looks_like_local_path(value: str) -> bool:
    """A path rather than a Hub id: written as one, or an existing file or folder here (a run records the
    path it loaded its base from, and a relative one can read like `NAMESPACE/NAME`)."""
    return _path_syntax(value) or Path(value.strip()).expanduser().exists()


def check_hub_model_id(value: str, what: str) -> str:
    """`value` if it is a syntactically valid Hub model id (`NAME` or `NAMESPACE/NAME`), else InvalidBaseModel.

    Whether the model exists is checked by publishing, against the Hub (`publish.hub.execute`)."""
    if _path_syntax(value):
        raise InvalidBaseModel(
            f"{what} {public_name(value)!r} is a local path, not a Hub model id (NAMESPACE/NAME)"
        )
    try:
        validate_repo_id(value)
    except HFValidationError as err:
        raise InvalidBaseModel(f"{what} {public_name(value)!r} is not a Hub model id: {err}") from None
    return value


def resolve_base_model(
    run_dir: Path, record: Mapping[str, Any], adapter: Mapping[str, Any], override: str | None
) -> str:
    """The Hub id for `base_model`: `override` (`--base-model`) if given, else the run's recorded base when
    that is a Hub id. A run trained from a local folder needs `override`: the folder's name is not an id."""
    if override:
        return check_hub_model_id(override, "--base-model")
    recorded = record.get("base_model") or adapter.get("base_model_name_or_path")
    if not recorded:
        raise InvalidBaseModel(
            f"{run_dir.name}: the run records no base model; pass --base-model with the Hub id of the model "
            "it was trained from"
        )
    recorded = str(recorded)
    if looks_like_local_path(recorded):
        raise InvalidBaseModel(
            f"{run_dir.name}: the run's base model is a local path (folder {public_name(recorded)!r}), and a "
            "folder name is not a Hub id; pass --base-model with the Hub id of the model it was trained from "
            "(e.g. --base-model mistralai/Mistral-7B-Instruct-v0.2)"
        )
    return check_hub_model_id(recorded, f"{run_dir.name}: the run's base model")


def _read_json(path: Path) -> dict[str, Any]:
    """The JSON object in `path`, or {} when the run has no such file."""
    return read_json_object(path) if path.is_file() else {}


@dataclass
class ModelCardInputs:
    """What the card needs beyond the run directory: the Hub ids to show and an optional eval report."""

    repo_id: str | None = None
    base_model_id: str | None = None  # required when the run's base model is a local folder
    dataset_id: str | None = None
    eval_reports: dict[str, Mapping[str, Any]] | None = None  # name (file stem) -> evaluation-kit JSON
    eval_system: str | None = None  # this model's name in the reports' systems (eval linguistic)
    example_messages: list[dict[str, str]] | None = (
        None  # the kit's prompt of an example post, for the quick start
    )
    revision: str | None = None  # the version tag the quick start loads
    license: str = "other"


def _stage_role(stage: str) -> str:
    for prefix, role in ROLE_BY_STAGE.items():
        if stage.startswith(prefix):
            return role
    return "supportive-reply model"


def build_model_card_data(run_dir: Path, inputs: ModelCardInputs) -> tuple[ModelCardData, dict[str, Any]]:
    """The YAML metadata (with EvalResult entries) and the template context."""
    raw_record = _read_json(run_dir / RUN_RECORD)
    raw_adapter = _read_json(run_dir / "adapter_config.json")
    base_model = resolve_base_model(run_dir, raw_record, raw_adapter, inputs.base_model_id)
    record = scrub_paths(raw_record)
    adapter = scrub_paths(raw_adapter)
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
    load_in_4bit = bool(record.get("load_in_4bit", by_leaf.get("load_in_4bit", False)))
    task_type = "text-classification" if stage.startswith("classifier") else "text-generation"
    metrics = task_metrics(inputs.eval_reports, inputs.eval_system, task_type)
    model_name = inputs.repo_id.split("/")[-1] if inputs.repo_id else run_dir.name
    eval_results = [
        EvalResult(
            task_type=m.task_type,
            dataset_type=str(dataset_id),
            dataset_name=f"RedditESS {dataset.get('version') or ''}".strip(),
            dataset_config=dataset.get("config"),
            dataset_split=m.split,
            dataset_revision=dataset.get("revision"),
            metric_type=m.metric_type,
            metric_name=m.metric_name,
            metric_value=m.value,
        )
        for m in metrics
    ]
    methods = training_methods(stage, record)
    tags = ["peft", "lora", "redditess", "mental-health", "peer-support", stage]
    tags += (["trl"] if methods else []) + [m for m in methods if m not in tags]
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
        "eval_table": table(
            ["report", "split", "metric", "value"],
            [(f"evaluation/{m.source}.json", m.split, m.metric_name, m.value) for m in metrics],
        ),
        "has_eval": bool(metrics),
        "train_table": table(
            ["metric", "value"], sorted(_flat_numbers(_read_json(run_dir / "train_results.json")))
        ),
        "trainer_eval_table": table(
            ["metric", "value"], sorted(_flat_numbers(_read_json(run_dir / "eval_results.json")))
        ),
        "methods": methods,
        "is_classifier": task_type == "text-classification",
        "revision": inputs.revision or "main",
        "quick_start": quick_start(
            base_model,
            inputs.repo_id or "ORG/NAME",
            inputs.revision or "main",
            task_type,
            inputs.example_messages,
        ),
        "crisis": _crisis_context(),
    }
    return data, context


EXAMPLE_POST = (
    "Lonely in my first semester",
    "Everyone here already seems to have friends and I just sit in my room.",
)
EXAMPLE_REPLY = "That sounds really isolating. A lot of people feel this way in their first months."


def quick_start(
    base_model_id: str, repo_id: str, revision: str, task_type: str, messages: list[dict[str, str]] | None
) -> str:
    """A runnable Python snippet loading the adapter on its base with PEFT + transformers.

    `messages` is the chat prompt of the example, as the kit renders it for this stage (system turn folded
    when the run folded it); without it the example post is the only (user) turn."""
    head = (
        "import torch\n"
        "from peft import PeftModel\n"
        f"from transformers import {'AutoModelForSequenceClassification' if task_type == 'text-classification' else 'AutoModelForCausalLM'}, AutoTokenizer\n\n"
    )
    load = (
        f'model = PeftModel.from_pretrained(base, "{repo_id}", revision="{revision}").eval()\n'
        f'tokenizer = AutoTokenizer.from_pretrained("{repo_id}", revision="{revision}")\n\n'
    )
    if task_type == "text-classification":
        return (
            head
            + f'base = AutoModelForSequenceClassification.from_pretrained("{base_model_id}", num_labels=2)\n'
            + load
            + f"post = {json.dumps(chr(10).join([EXAMPLE_POST[0], '', EXAMPLE_POST[1]]))}\n"
            + f"reply = {json.dumps(EXAMPLE_REPLY)}\n"
            + 'inputs = tokenizer(post, reply, truncation=True, return_tensors="pt")\n'
            + "with torch.no_grad():\n"
            + "    p_effective = model(**inputs).logits.softmax(-1)[0, 1].item()\n"
            + 'print(f"P(effective) = {p_effective:.2f}")  # compare with the threshold file of this repository\n'
        )
    messages = messages or [{"role": "user", "content": f"{EXAMPLE_POST[0]}\n\n{EXAMPLE_POST[1]}"}]
    return (
        head
        + f'base = AutoModelForCausalLM.from_pretrained("{base_model_id}", dtype="auto")\n'
        + load
        + f"messages = {json.dumps(messages, indent=4, ensure_ascii=False)}\n"
        + "inputs = tokenizer.apply_chat_template(\n"
        + '    messages, add_generation_prompt=True, return_dict=True, return_tensors="pt"\n'
        + ").to(model.device)\n"
        + "with torch.no_grad():\n"
        + "    output = model.generate(**inputs, max_new_tokens=200, do_sample=True, temperature=0.7, top_p=0.9)\n"
        + 'print(tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True))\n'
    )


def training_methods(stage: str, record: Mapping[str, Any]) -> list[str]:
    """TRL methods behind the adapter, in order: `sft` when the run is an SFT stage or continues one (a DPO
    stage with a parent adapter starts from the SFT adapter), `dpo` for a DPO stage. A DPO run without a
    parent trains on the base directly: no `sft`."""
    script = str(record.get("script") or "")
    is_dpo = "dpo" in stage or script.endswith("dpo.py")
    is_sft = "sft" in stage or script.endswith("sft.py") or (is_dpo and bool(record.get("parent_adapter")))
    return (["sft"] if is_sft else []) + (["dpo"] if is_dpo else [])


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
