"""The crisis lexicon (`safety/lexicon.yaml`): categorized phrase patterns, misspellings and context rules.

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
        text = importlib_resources.files("safety").joinpath("lexicon.yaml").read_text(encoding="utf-8")
        source = "safety/lexicon.yaml"
    return parse_lexicon(yaml.safe_load(text), source)


_LANGUAGE_CAP = 256


def required_words(pattern: str) -> set[str] | None:
    """Words at least one of which every match of `pattern` contains as a substring (None: none found).

    Walks the parsed pattern (Python's parser reads the RE2 subset used here). Runs of parts with a small
    finite language (literals, alternations of literals, short optional groups) are expanded to their
    strings, and each string contributes its longest word; an alternation requires the union of its
    branches' requirements; a repeat with a minimum of one requires its body's. A sequence keeps its most
    selective requirement (longest shortest word, then fewest words). Words are alphanumeric runs, since
    normalization may change what separates words.
    """
    from re import _constants as sre
    from re import _parser as sre_parse

    def language(op: Any, av: Any) -> set[str] | None:
        if op is sre.LITERAL:
            return {chr(av)}
        if op is sre.AT:
            return {""}
        if op is sre.SUBPATTERN:
            return seq_language(av[-1])
        if op is sre.BRANCH:
            out: set[str] = set()
            for branch in av[1]:
                lang = seq_language(branch)
                if lang is None:
                    return None
                out |= lang
            return out if len(out) <= _LANGUAGE_CAP else None
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[1] <= 3:
            body = seq_language(av[2])
            if body is None:
                return None
            out, layer = set(), {""}
            for k in range(av[1] + 1):
                if k >= av[0]:
                    out |= layer
                layer = {a + b for a in layer for b in body}
                if len(out) > _LANGUAGE_CAP or len(layer) > _LANGUAGE_CAP:
                    return None
            return out
        return None

    def seq_language(items: Any) -> set[str] | None:
        out = {""}
        for op, av in items:
            lang = language(op, av)
            if lang is None:
                return None
            out = {a + b for a in out for b in lang}
            if len(out) > _LANGUAGE_CAP:
                return None
        return out

    def best_word(text: str) -> str:
        return max(re.split(r"[^a-z0-9]+", text), key=len)

    def requirement(strings: set[str]) -> set[str] | None:
        words = {best_word(s) for s in strings}
        return None if "" in words else words

    def seq(items: Any) -> set[str] | None:
        options: list[set[str]] = []
        run: set[str] = {""}
        for op, av in items:
            lang = language(op, av)
            if lang is not None and len(run) * len(lang) <= _LANGUAGE_CAP:
                run = {a + b for a in run for b in lang}
                continue
            if (req := requirement(run)) is not None:
                options.append(req)
            run = lang if lang is not None else {""}
            if lang is not None:
                continue
            found: set[str] | None = None
            if op is sre.SUBPATTERN:
                found = seq(av[-1])
            elif op is sre.BRANCH:
                branches = [seq(b) for b in av[1]]
                found = None if any(b is None for b in branches) else set().union(*branches)
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] >= 1:
                found = seq(av[2])
            if found:
                options.append(found)
        if (req := requirement(run)) is not None:
            options.append(req)
        if not options:
            return None
        return max(options, key=lambda s: (min(len(w) for w in s), -len(s)))

    return seq(sre_parse.parse(pattern))
