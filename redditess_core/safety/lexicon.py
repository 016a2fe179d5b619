"""The crisis lexicon (`redditess_core/safety/lexicon.yaml`): categorized phrase patterns, misspellings and context rules.

Loading expands `{MACRO}` references, checks every category and context kind, and compiles each pattern
with RE2 (through pyarrow) so a bad entry fails at load time with its index, not on the first post.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import yaml

CATEGORIES = ("explicit_intent", "passive_ideation", "plan_means", "farewell", "self_harm", "slang")
LEXICON_ENV = "REDDITESS_CRISIS_LEXICON"


@dataclass(frozen=True)
class Entry:
    category: str
    lang: str
    pattern: str  # RE2, macros expanded


@dataclass(frozen=True)
class Context:
    kind: str
    pattern: str
    action: str  # "neutralize" (blank out the phrase) or "suppress" (drop `suppresses` in the clause)
    suppresses: tuple[str, ...] = ()
    unless: str | None = None


@dataclass(frozen=True)
class Lexicon:
    version: str
    entries: tuple[Entry, ...]
    contexts: tuple[Context, ...]
    spelling: dict[str, list[str]]
    source: str

    def category_pattern(self, category: str) -> str:
        return "|".join(f"(?:{e.pattern})" for e in self.entries if e.category == category)

    def languages(self) -> list[str]:
        return sorted({e.lang for e in self.entries})


def _check(pattern: str, where: str) -> None:
    try:
        pc.match_substring_regex(pa.array([""], pa.string()), pattern)
    except pa.ArrowInvalid as err:
        raise ValueError(f"{where}: invalid RE2 pattern: {err}") from None


def _expand(pattern: str, macros: dict[str, str], where: str) -> str:
    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in macros:
            raise ValueError(f"{where}: unknown macro {{{m.group(1)}}}")
        return macros[m.group(1)]

    return re.sub(r"\{([A-Z_]+)\}", sub, pattern)


def parse_lexicon(data: dict[str, Any], source: str) -> Lexicon:
    """A Lexicon from the YAML mapping; ValueError naming the entry when something is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("patterns"), list):
        raise ValueError(f"{source}: no `patterns` list")
    macros = {k: str(v) for k, v in (data.get("macros") or {}).items()}
    entries = []
    for i, item in enumerate(data["patterns"]):
        where = f"{source}: patterns[{i}]"
        if not isinstance(item, dict) or item.get("category") not in CATEGORIES or not item.get("pattern"):
            raise ValueError(f"{where}: needs `pattern` and a `category` among {', '.join(CATEGORIES)}")
        pattern = _expand(str(item["pattern"]), macros, where)
        _check(pattern, where)
        entries.append(Entry(item["category"], str(item.get("lang", "en")), pattern))
    contexts = []
    for i, item in enumerate(data.get("contexts") or []):
        where = f"{source}: contexts[{i}]"
        action = item.get("action", "suppress")
        suppresses = tuple(item.get("suppresses") or ())
        if action not in ("neutralize", "suppress") or not item.get("pattern") or not item.get("kind"):
            raise ValueError(f"{where}: needs `kind`, `pattern` and action neutralize|suppress")
        if action == "suppress" and (not suppresses or set(suppresses) - set(CATEGORIES)):
            raise ValueError(f"{where}: `suppresses` must list categories among {', '.join(CATEGORIES)}")
        pattern = _expand(str(item["pattern"]), macros, where)
        unless = _expand(str(item["unless"]), macros, where) if item.get("unless") else None
        _check(pattern, where)
        if unless:
            _check(unless, f"{where}.unless")
        contexts.append(Context(str(item["kind"]), pattern, action, suppresses, unless))
    spelling = {str(k): [str(v) for v in vs] for k, vs in (data.get("spelling") or {}).items()}
    missing = set(CATEGORIES) - {e.category for e in entries}
    if missing:
        raise ValueError(f"{source}: no pattern for categories {sorted(missing)}")
    return Lexicon(str(data.get("version", "unknown")), tuple(entries), tuple(contexts), spelling, source)


@lru_cache(maxsize=8)
def load_lexicon(path: str | None = None) -> Lexicon:
    """The bundled lexicon, or the YAML file at `path` (or $REDDITESS_CRISIS_LEXICON)."""
    path = path or os.environ.get(LEXICON_ENV)
    if path:
        text, source = Path(path).read_text(encoding="utf-8"), str(path)
    else:
        text = (
            importlib_resources.files("redditess_core.safety")
            .joinpath("lexicon.yaml")
            .read_text(encoding="utf-8")
        )
        source = "redditess_core/safety/lexicon.yaml"
    return parse_lexicon(yaml.safe_load(text), source)
