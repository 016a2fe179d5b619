"""`python -m publish dataset DIR --repo ORG/NAME ...` and `python -m publish adapter RUN_DIR --repo ORG/NAME ...`.

Arguments are dataclasses parsed by `HfArgumentParser`; the folder is the one positional argument.
Exit status: 0 done, 2 a problem explained on stderr (invalid folder, auth, permission, network, tag).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from transformers import HfArgumentParser

from cards.model_card import ModelCardInputs
from publish.adapter import plan_adapter
from publish.dataset import FolderInvalid, plan_dataset
from publish.hub import PublishError, execute
from publish.plan import InvalidRepoId, UploadPlan, check_repo_id
from redditess_core.jsonfile import read_json_object

logger = logging.getLogger("publish")

USAGE = """usage:
  python -m publish dataset DIR --repo ORG/NAME [--public] [--gated auto|manual|off] [--tag vX.Y.Z] [--dry-run]
  python -m publish adapter RUN_DIR --repo ORG/NAME [--public] [--tag vX.Y.Z] [--dry-run]
        [--base-model HUB_ID] [--dataset HUB_ID] [--eval-report FILE ...] [--eval-system NAME]
  every subcommand: [--log_level debug|info|warning|error|critical]
(add --help after the subcommand for every option)"""


@dataclass
class PublishArgs:
    repo: str = field(metadata={"help": "Target repository, ORG/NAME."})
    public: bool = field(default=False, metadata={"help": "Make a new repository public (default: private)."})
    private: bool = field(default=True, metadata={"help": "Make a new repository private (the default)."})
    gated: Literal["auto", "manual", "off"] = field(
        default="manual", metadata={"help": "Gated access: manual review (default), auto approval, or off."}
    )
    tag: str | None = field(
        default=None, metadata={"help": "Version tag; datasets default to v<manifest version>. Never moved."}
    )
    dry_run: bool = field(default=False, metadata={"help": "Write the tree and the operations; no network."})
    dry_run_dir: str | None = field(
        default=None, metadata={"help": "Where --dry-run writes (default publish-dry-run/ORG__NAME)."}
    )
    log_level: Literal["debug", "info", "warning", "error", "critical"] = field(
        default="info", metadata={"help": "Logging level (debug also logs each Hub request)."}
    )


@dataclass
class AdapterCardArgs:
    base_model: str | None = field(
        default=None,
        metadata={
            "help": "Hub id of the base model (card `base_model` and adapter_config.json), checked on the Hub "
            "before upload. Required when the run was trained from a local folder: its name is not a Hub id."
        },
    )
    dataset: str | None = field(
        default=None, metadata={"help": "Hub id of the RedditESS dataset repository."}
    )
    eval_report: list[str] | None = field(
        default=None,
        metadata={
            "help": "Evaluation-kit JSON files (metrics.json, judge.json, linguistic.json): their task metrics "
            "become the card's model-index; the files are uploaded under evaluation/."
        },
    )
    eval_system: str | None = field(
        default=None,
        metadata={"help": "This model's system name in a linguistic report that compares several systems."},
    )


def _private(args: PublishArgs) -> bool:
    """Private unless --public (or --no_private) is given: the data and models are sensitive."""
    return args.private and not args.public


def _finish(plan: UploadPlan, args: PublishArgs) -> int:
    if args.dry_run:
        out = Path(args.dry_run_dir or Path("publish-dry-run") / plan.repo_id.replace("/", "__"))
        plan.write_dry_run(out)
        print(
            f"dry run: {len(plan.files)} file(s) in {out / 'tree'}, operations in {out / 'operations.json'}"
        )
        return 0
    result = execute(plan)
    if result.tag:
        print(f"tag {result.tag} -> {result.commit_oid}")
    print(result.commit_url)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", level=logging.INFO, stream=sys.stderr)
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # one line per request is noise for users
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if not argv or argv[0] not in ("dataset", "adapter"):
        print(USAGE, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    folder = (
        next((a for a in rest if not a.startswith("-")), None)
        if rest and not rest[0].startswith("-")
        else None
    )
    if folder is not None:
        rest.remove(folder)
    types = (PublishArgs,) if command == "dataset" else (PublishArgs, AdapterCardArgs)
    parser = HfArgumentParser(
        types, prog=f"python -m publish {command} {'DIR' if command == 'dataset' else 'RUN_DIR'}"
    )
    parsed = parser.parse_args_into_dataclasses(args=rest)
    if folder is None:
        parser.error("the folder to publish is required as the first argument")
    args: PublishArgs = parsed[0]
    logging.getLogger().setLevel(args.log_level.upper())
    if args.log_level == "debug":
        logging.getLogger("httpx2").setLevel(logging.DEBUG)
    if args.public and "--private" in rest:
        parser.error("--public and --private exclude each other")
    try:
        check_repo_id(args.repo)  # before reading the folder or any network call, dry runs included
    except InvalidRepoId as err:
        print(f"publish: {err}", file=sys.stderr)
        return 2
    try:
        if command == "dataset":
            plan = plan_dataset(folder, args.repo, private=_private(args), gated=args.gated, tag=args.tag)
        else:
            card: AdapterCardArgs = parsed[1]
            reports = {Path(f).stem: read_json_object(f) for f in card.eval_report or []}
            inputs = ModelCardInputs(
                base_model_id=card.base_model,
                dataset_id=card.dataset,
                eval_reports=reports,
                eval_system=card.eval_system,
            )
            plan = plan_adapter(
                folder, args.repo, private=_private(args), gated=args.gated, tag=args.tag, inputs=inputs
            )
        return _finish(plan, args)
    except (FolderInvalid, PublishError, FileNotFoundError, ValueError) as err:
        print(f"publish: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
