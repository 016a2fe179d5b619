"""Dataclasses -> argparse, with HfArgumentParser's conventions (`--field_name`, `help` and `aliases`
from field metadata, `--flag` / `--flag false` for booleans, lists as several values).

The builder cannot use HfArgumentParser itself: it lives in transformers, and the default build
path must not import transformers (1 s of start-up, and a heavy dependency for a data tool).
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from pathlib import Path
from typing import Any


def _to_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "yes", "1", "t", "y"):
        return True
    if lowered in ("false", "no", "0", "f", "n"):
        return False
    raise argparse.ArgumentTypeError(f"expected a boolean, got {text!r}")


def _unwrap_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def parse(cls_list: tuple[type, ...], argv: list[str], prog: str | None = None) -> tuple[Any, ...]:
    """Parse `argv` into one instance of each dataclass; unknown options are an error naming them."""
    parser = argparse.ArgumentParser(prog=prog, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    owners: list[tuple[type, list[str]]] = []
    for cls in cls_list:
        hints = typing.get_type_hints(cls)
        names = []
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            names.append(f.name)
            tp = _unwrap_optional(hints[f.name])
            kwargs: dict[str, Any] = {"help": f.metadata.get("help"), "dest": f.name}
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            if required:
                kwargs["required"] = True
            else:
                kwargs["default"] = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            if tp is bool:
                kwargs.update(type=_to_bool, nargs="?", const=True)
            elif typing.get_origin(tp) is list:
                (item,) = typing.get_args(tp)
                kwargs.update(type=Path if item is Path else item, nargs="+")
            else:
                kwargs["type"] = tp
            flags = [f"--{f.name}", *f.metadata.get("aliases", [])]
            if "_" in f.name:
                flags.append(f"--{f.name.replace('_', '-')}")
            parser.add_argument(*flags, **kwargs)
        owners.append((cls, names))
    namespace = parser.parse_args(argv)
    values = vars(namespace)
    try:
        return tuple(cls(**{name: values[name] for name in names}) for cls, names in owners)
    except ValueError as exc:  # a dataclass's own check (`__post_init__`): usage and one line, exit 2
        parser.error(str(exc))
