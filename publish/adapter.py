"""Plan the publication of a trained adapter: weights, tokenizer, run record, resolved config, model card.

Only an allow-list of files leaves the run directory (no checkpoints, optimizer states or logs), and
JSON / YAML metadata is uploaded with local paths reduced to their last component.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from cards.model_card import (
    EXAMPLE_POST,
    ModelCardInputs,
    render_model_card,
    resolve_base_model,
    scrub_paths,
)
from cards.validate import validate_adapter_folder
from publish.dataset import FolderInvalid
from publish.plan import PlannedFile, UploadPlan
from redditess_core.contract import RESOLVED_CONFIG, RUN_RECORD

logger = logging.getLogger(__name__)

REQUIRED = ("adapter_config.json", "adapter_model.safetensors")
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "chat_template.json",
    "tokenizer.model",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
)
METADATA_JSON = (RUN_RECORD, "train_results.json", "eval_results.json", "all_results.json")


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()


EXAMPLE_DRAFT = "Sorry you feel that way. Maybe join a club?"


def example_messages(run_dir: Path, record: dict[str, Any]) -> list[dict[str, str]] | None:
    """The kit's chat prompt for the card's example post, as this stage was trained on it: the run record's
    chat format (`redditess_core.chat`: the trained system turn, folded into the user turn when the run folded
    it), or the resolved config's `fold_system_turn` for runs recorded before the chat format existed; None for
    a classifier."""
    from redditess_core.chat import ChatFormat
    from redditess_core.prompts import draft_messages, fold_system_turn, improve_messages

    stage = str(record.get("stage") or "")
    if stage.startswith("classifier"):
        return None
    title, body = EXAMPLE_POST
    task = "im" if stage.startswith("im") else "gm"
    messages = improve_messages(title, body, EXAMPLE_DRAFT) if task == "im" else draft_messages(title, body)
    recorded = ChatFormat.from_record(record)
    if recorded is not None:
        return recorded.conversation(messages, task)
    config_path = run_dir / RESOLVED_CONFIG
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    fold = record.get("fold_system_turn", (config or {}).get("fold_system_turn", False))
    return fold_system_turn(messages) if fold else messages


def adapter_files(run_dir: Path, inputs: ModelCardInputs) -> list[PlannedFile]:
    """Every file of the adapter repository. Raises FolderInvalid for a folder that is not a run directory,
    `cards.model_card.InvalidBaseModel` when the base model is not a Hub id."""
    missing = [n for n in REQUIRED if not (run_dir / n).is_file()]
    if missing:
        raise FolderInvalid(f"{run_dir}: not an adapter run directory, missing {', '.join(missing)}")
    adapter_config = json.loads((run_dir / "adapter_config.json").read_text(encoding="utf-8"))
    record = json.loads((run_dir / RUN_RECORD).read_text()) if (run_dir / RUN_RECORD).is_file() else {}
    base = resolve_base_model(run_dir, record, adapter_config, inputs.base_model_id)
    inputs.base_model_id = base
    if inputs.example_messages is None:
        inputs.example_messages = example_messages(run_dir, record)
    files = [
        PlannedFile("README.md", content=render_model_card(run_dir, inputs).encode()),
        PlannedFile(
            "adapter_config.json", content=_json_bytes({**adapter_config, "base_model_name_or_path": base})
        ),
        PlannedFile("adapter_model.safetensors", local_path=run_dir / "adapter_model.safetensors"),
    ]
    files += [PlannedFile(n, local_path=run_dir / n) for n in TOKENIZER_FILES if (run_dir / n).is_file()]
    for name in METADATA_JSON:
        if (run_dir / name).is_file():
            files.append(
                PlannedFile(name, content=_json_bytes(scrub_paths(json.loads((run_dir / name).read_text()))))
            )
    if (run_dir / RESOLVED_CONFIG).is_file():
        config = scrub_paths(yaml.safe_load((run_dir / RESOLVED_CONFIG).read_text(encoding="utf-8")))
        files.append(PlannedFile(RESOLVED_CONFIG, content=yaml.safe_dump(config, sort_keys=True).encode()))
    for name, report in (inputs.eval_reports or {}).items():
        files.append(PlannedFile(f"evaluation/{name}.json", content=_json_bytes(scrub_paths(dict(report)))))
    return sorted(files, key=lambda f: f.path_in_repo)


def plan_adapter(
    run_dir: str | os.PathLike[str],
    repo_id: str,
    *,
    private: bool,
    gated: str,
    tag: str | None,
    inputs: ModelCardInputs | None = None,
) -> UploadPlan:
    """Describe the adapter upload and validate the exact tree offline before anything is sent."""
    run_dir = Path(run_dir)
    inputs = inputs or ModelCardInputs()
    inputs.repo_id = repo_id
    inputs.revision = inputs.revision or tag
    record = json.loads((run_dir / RUN_RECORD).read_text()) if (run_dir / RUN_RECORD).is_file() else {}
    files = adapter_files(run_dir, inputs)
    logger.info(
        "base model %s; %d file(s) planned; validating the staged tree", inputs.base_model_id, len(files)
    )
    plan = UploadPlan(
        repo_id=repo_id,
        repo_type="model",
        private=private,
        gated=gated,
        tag=tag,
        base_model=inputs.base_model_id,
        commit_message=f"Publish {record.get('stage', 'adapter')} adapter"
        + (
            f" trained on RedditESS {record['dataset']['version']}"
            if (record.get("dataset") or {}).get("version")
            else ""
        ),
        files=files,
    )
    with tempfile.TemporaryDirectory() as tmp:
        staged = plan.write_dry_run(Path(tmp) / "staged") / "tree"
        report = validate_adapter_folder(staged)
        if not report.ok:
            raise FolderInvalid(report.render().replace(str(staged), str(run_dir)))
    return plan
