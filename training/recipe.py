"""Parse a recipe (YAML + command-line overrides) into the scripts' dataclasses with `TrlParser`.

TRL's parser silently keeps YAML keys that no dataclass knows when `fail_with_unknown_args=False` (what its
stock scripts do), so a typo in a recipe (`learning_rat: 1e-4`) trains with the default. Here an unknown key
is an error that names the key and the recipe file, before any model is loaded.
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

# Keys TrlParser itself consumes from a recipe.
_RESERVED_KEYS = {"env"}


@dataclass
class KitScriptArguments(ScriptArguments):
    """TRL's ScriptArguments with what every kit script adds: RedditESS split defaults, stage, CPU threads."""

    dataset_test_split: str = field(
        default="validation", metadata={"help": "Split evaluated during training; never `test`."}
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


def known_keys(dataclass_types: Sequence[type]) -> set[str]:
    """All field names the parser accepts (the union over the dataclasses)."""
    return {f.name for dc in dataclass_types for f in dataclasses.fields(dc)}


def check_recipe(path: Path, dataclass_types: Sequence[type]) -> dict[str, Any]:
    """Load a recipe and fail on keys no dataclass knows, naming them and the file."""
    if not path.is_file():
        raise RecipeError(f"recipe not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise RecipeError(f"recipe {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RecipeError(f"recipe {path} must be a YAML mapping of argument names to values")
    unknown = sorted(set(data) - known_keys(dataclass_types) - _RESERVED_KEYS)
    if unknown:
        owners = ", ".join(dc.__name__ for dc in dataclass_types)
        raise RecipeError(
            f"recipe {path}: unknown key(s) {', '.join(repr(k) for k in unknown)} "
            f"(not a field of {owners}); fix the spelling or remove them"
        )
    return data


def parse_recipe(dataclass_types: Sequence[type], argv: Sequence[str] | None = None) -> tuple[Any, ...]:
    """Parse `--config recipe.yaml [--key value ...]` into instances of `dataclass_types` (CLI wins over YAML)."""
    from trl import TrlParser

    args = list(sys.argv[1:] if argv is None else argv)
    path = _recipe_path(args)
    if path is not None:
        check_recipe(path, dataclass_types)
    parser = TrlParser(list(dataclass_types))
    # Unknown command-line flags already make HfArgumentParser raise, naming them.
    return parser.parse_args_and_config(args=args, fail_with_unknown_args=True)


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
