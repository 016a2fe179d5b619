"""Parse a recipe (YAML + command-line overrides) into the scripts' dataclasses with `TrlParser`.

A typo in a recipe (`learning_rat: 1e-4`) would train with the default: `TrlParser` reports the keys no
dataclass accepts, and they are raised here as a `RecipeError` that names them and the recipe file, before
any model is loaded.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from trl import ScriptArguments

logger = logging.getLogger(__name__)


@dataclass
class KitScriptArguments(ScriptArguments):
    """TRL's ScriptArguments with what every kit script adds: RedditESS split defaults, stage, CPU threads."""

    dataset_test_split: str = field(
        default="validation", metadata={"help": "Split evaluated during training; never `test`."}
    )
    dataset_revision: str | None = field(
        default=None,
        metadata={
            "help": "Revision of a Hub dataset (a tag such as v0.1.0, a branch or a commit); recorded in "
            "redditess_run.json. Pin it so a run can be repeated on the same rows. Not allowed for a local "
            "folder or file."
        },
    )
    stage: str = field(
        default="train", metadata={"help": "Name recorded in redditess_run.json (gm-sft, ...)."}
    )
    torch_threads: int | None = field(
        default=None,
        metadata={
            "help": "CPU threads for torch (None: torch's default). The tiny recipes use 1: on a shared 2-core "
            "machine, OpenMP threads spin-waiting for a descheduled peer made tiny-model steps 10x slower."
        },
    )


class RecipeError(ValueError):
    """A recipe file is unreadable or has a key no dataclass of the script accepts."""


def _recipe_path(argv: Sequence[str]) -> Path | None:
    if "--config" not in argv:
        return None
    idx = list(argv).index("--config")
    if idx + 1 >= len(argv):
        raise RecipeError("--config needs a path to a recipe YAML file")
    return Path(argv[idx + 1])


def parse_recipe(dataclass_types: Sequence[type], argv: Sequence[str] | None = None) -> tuple[Any, ...]:
    """Parse `--config recipe.yaml [--key value ...]` into instances of `dataclass_types` (CLI wins over YAML).

    The recipe's keys are matched by `TrlParser.set_defaults_with_config` (what `parse_args_and_config` does)
    before any dataclass is built, so an unknown key is reported first, as a RecipeError naming it and the
    recipe file, and not hidden behind a dataclass's own validation error. A missing or malformed recipe and
    unknown command-line flags are RecipeErrors too.
    """
    from trl import TrlParser

    args = list(sys.argv[1:] if argv is None else argv)
    path = _recipe_path(args)
    parser = TrlParser(list(dataclass_types))
    owners = ", ".join(dc.__name__ for dc in dataclass_types)
    if path is not None:
        recipe = _read_recipe(path)
        recipe.pop("env", None)  # TrlParser exports it as environment variables
        unknown = parser.set_defaults_with_config(**recipe)[::2]
        if unknown:
            keys = ", ".join(repr(k.removeprefix("--")) for k in unknown)
            raise RecipeError(
                f"recipe {path}: unknown key(s) {keys} (not a field of {owners}); fix the spelling or remove them"
            )
    *parsed, from_command_line = parser.parse_args_and_config(args=args, return_remaining_strings=True)
    if from_command_line:
        raise RecipeError(f"unknown command-line argument(s) {from_command_line} (not a field of {owners})")
    return tuple(parsed)


def _read_recipe(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise RecipeError(f"recipe not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RecipeError(f"recipe {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RecipeError(f"recipe {path} must be a YAML mapping of argument names to values")
    return data


def resolved_config(*parsed: Any) -> dict[str, Any]:
    """A plain dict of every parsed field (what the run really used), for `redditess_config.yaml`."""
    out: dict[str, Any] = {}
    for obj in parsed:
        d = obj.to_dict() if hasattr(obj, "to_dict") else dataclasses.asdict(obj)
        for key, value in d.items():
            out[key] = _plain(value)
    return dict(sorted(out.items()))


def _plain(value: Any) -> Any:
    """YAML-safe version of a config value (enums and odd objects become strings)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    return str(value)
