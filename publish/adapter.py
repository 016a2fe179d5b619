"""Plan the publication of a trained adapter: weights, tokenizer, run record, resolved config, model card.

Only an allow-list of files leaves the run directory (no checkpoints, optimizer states or logs), and
JSON / YAML metadata is uploaded with local paths reduced to their last component.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from cards.model_card import ModelCardInputs, render_model_card, scrub_paths
from cards.validate import validate_adapter_folder
from publish.dataset import FolderInvalid
from publish.plan import PlannedFile, UploadPlan
from redditess_core.contract import RESOLVED_CONFIG, RUN_RECORD

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


def adapter_files(run_dir: Path, inputs: ModelCardInputs) -> list[PlannedFile]:
    missing = [n for n in REQUIRED if not (run_dir / n).is_file()]
    if missing:
        raise FolderInvalid(f"{run_dir}: not an adapter run directory, missing {', '.join(missing)}")
    adapter_config = json.loads((run_dir / "adapter_config.json").read_text(encoding="utf-8"))
    base = inputs.base_model_id or scrub_paths(adapter_config.get("base_model_name_or_path"))
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
    record = json.loads((run_dir / RUN_RECORD).read_text()) if (run_dir / RUN_RECORD).is_file() else {}
    plan = UploadPlan(
        repo_id=repo_id,
        repo_type="model",
        private=private,
        gated=gated,
        tag=tag,
        commit_message=f"Publish {record.get('stage', 'adapter')} adapter"
        + (
            f" trained on RedditESS {record['dataset']['version']}"
            if (record.get("dataset") or {}).get("version")
            else ""
        ),
        files=adapter_files(run_dir, inputs),
    )
    with tempfile.TemporaryDirectory() as tmp:
        staged = plan.write_dry_run(Path(tmp) / "staged") / "tree"
        report = validate_adapter_folder(staged)
        if not report.ok:
            raise FolderInvalid(report.render().replace(str(staged), str(run_dir)))
    return plan
