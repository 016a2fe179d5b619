"""One crisis screen for every path: the dataset's `is_sensitive`, `eval safety`, `assist`.

The screen is rule-based by default and works offline: texts are normalized (`redditess_core.safety.normalize`), then
matched against the categorized phrase lexicon (`redditess_core/safety/lexicon.yaml`) sentence by sentence, and context
rules of the same sentence (prevention work, news and fiction, games, cooking, resolved past experience,
idioms, negation) keep trigger-looking words from flagging on their own. A risk statement anywhere in a
long post still flags, whatever the rest of the post is about.

Everything runs vectorized over Arrow string arrays with RE2 (pyarrow.compute): `screen_texts` screens a
whole column in a few passes (the builder's path), `screen` is the same code on one text. An optional
text-classification model (`redditess_core.safety.model.ModelScorer`) can be combined with the rules: a text is
high-risk when either flags it.

Results carry the risk level and the matched categories only, never the text, so they can be logged.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources as importlib_resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from redditess_core.safety.lexicon import CATEGORIES, Lexicon, load_lexicon
from redditess_core.safety.normalize import (
    BOUNDARY,
    LEET_CANDIDATE,
    REPEAT_CANDIDATE,
    apply_where,
    fold_accents,
    normalize,
    spelling_fixer,
)

if TYPE_CHECKING:
    from redditess_core.safety.model import ModelScorer

logger = logging.getLogger(__name__)

MODEL_CATEGORY = "model"


@dataclass(frozen=True)
class ScreenResult:
    """The screen's verdict on one text: `high_risk`, the matched lexicon `categories` (plus "model" when
    the model scorer flagged it), the context kinds that silenced a match (`suppressed_by`, for audit) and
    the model's positive-label probability when a model was used."""

    high_risk: bool
    categories: tuple[str, ...] = ()
    suppressed_by: tuple[str, ...] = ()
    model_score: float | None = None

    @property
    def risk_level(self) -> str:
        return "high" if self.high_risk else "low"

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "categories": list(self.categories),
            "suppressed_by": list(self.suppressed_by),
        }


def _flat_form(pattern: str) -> str:
    """The pattern for a whole raw text, lower-cased and without apostrophes but otherwise as written:
    clause anchors become word boundaries and each space any run of non-word characters, so a text
    matches whenever one of its normalized clauses would (a superset, checked per clause afterwards)."""
    pattern = re.sub(r"(?<!\[)\^", r"\\b", pattern).replace("$", r"\b")
    return pattern.replace(" ", "(?:[^a-z0-9]+)")


# Lexicon entries are matched in groups of about this many pattern characters when looking for candidate
# texts: RE2's DFA stays small and fast for such groups, while one pattern for the whole lexicon overflows
# its memory budget and falls back to a much slower engine (measured on reddit-college comments).
_CANDIDATE_GROUP_CHARS = 8000
_PARALLEL_MIN_ROWS = 10_000


def _pack(patterns: list[str], budget: int) -> list[str]:
    groups: list[list[str]] = [[]]
    size = 0
    for pattern in patterns:
        if groups[-1] and size + len(pattern) > budget:
            groups.append([])
            size = 0
        groups[-1].append(pattern)
        size += len(pattern)
    return ["|".join(f"(?:{p})" for p in group) for group in groups if group]


class RuleScreen:
    """The compiled lexicon: `flags(texts)` screens an Arrow column, `results(texts)` gives ScreenResults.

    Two stages: every text is normalized without clause boundaries and matched against the lexicon as a
    whole (cheap, a superset); only the matching texts are normalized again into clauses, where the
    context rules apply and the categories are decided.
    """

    def __init__(self, lexicon: Lexicon | None = None, threads: int | None = None) -> None:
        self.lexicon = lexicon or load_lexicon()
        self.category_patterns = {c: self.lexicon.category_pattern(c) for c in CATEGORIES}
        self.candidate_patterns = _pack(
            [_flat_form(e.pattern) for e in self.lexicon.entries], _CANDIDATE_GROUP_CHARS
        )
        spelling, _ = spelling_fixer(self.lexicon.spelling)
        self.unusual_pattern = "|".join([LEET_CANDIDATE, REPEAT_CANDIDATE, _flat_form(spelling)])
        self.neutralizers = [c for c in self.lexicon.contexts if c.action == "neutralize"]
        self.suppressors = [c for c in self.lexicon.contexts if c.action == "suppress"]
        self.threads = threads or min(4, os.cpu_count() or 1)

    def candidates(self, texts: pa.Array) -> np.ndarray:
        """Indices of the texts that may be high-risk (the first stage)."""
        if len(texts) >= _PARALLEL_MIN_ROWS and self.threads > 1:
            step = -(-len(texts) // self.threads)
            with ThreadPoolExecutor(self.threads) as pool:  # pyarrow.compute releases the GIL
                parts = list(
                    pool.map(self._candidates, [texts.slice(i, step) for i in range(0, len(texts), step)])
                )
            return np.concatenate([p + i * step for i, p in enumerate(parts)])
        return self._candidates(texts)

    def _candidates(self, texts: pa.Array) -> np.ndarray:
        arr = pc.fill_null(texts, "")
        arr = apply_where(arr, pc.invert(pc.string_is_ascii(arr)), fold_accents)
        arr = pc.ascii_lower(pc.replace_substring(arr, "'", ""))
        # Texts with leetspeak, repeated letters or a listed misspelling get the full normalization.
        unusual = pc.match_substring_regex(arr, self.unusual_pattern)
        arr = apply_where(arr, unusual, lambda sub: normalize(sub, self.lexicon.spelling, clauses=False))
        found = np.zeros(len(arr), dtype=bool)
        for pattern in self.candidate_patterns:
            found |= _match(arr, pattern)
        return np.flatnonzero(found)

    def _matrix(self, texts: pa.Array | Sequence[str | None]) -> tuple[int, np.ndarray, np.ndarray]:
        """(n, hits[n, n_categories], suppressed[n, n_suppressors]) as boolean arrays."""
        if isinstance(texts, pa.ChunkedArray):
            arr = texts.combine_chunks()
        else:
            arr = texts if isinstance(texts, pa.Array) else pa.array(list(texts), pa.string())
        if pa.types.is_large_string(arr.type):
            arr = arr.cast(pa.string())
        n = len(arr)
        hits = np.zeros((n, len(CATEGORIES)), dtype=bool)
        suppressed = np.zeros((n, len(self.suppressors)), dtype=bool)
        candidates = self.candidates(arr)
        if len(candidates) == 0:
            return n, hits, suppressed
        norm = normalize(arr.take(pa.array(candidates)), self.lexicon.spelling, clauses=True)
        lists = pc.split_pattern(norm, BOUNDARY)
        parents = candidates[pc.list_parent_indices(lists).to_numpy()]
        clauses = pc.list_flatten(lists)
        for rule in self.neutralizers:
            clauses = pc.replace_substring_regex(clauses, rule.pattern, " ~ ")
        active = []
        for rule in self.suppressors:
            on = _match(clauses, rule.pattern)
            if rule.unless:
                on &= ~_match(clauses, rule.unless)
            active.append(on)
        for j, category in enumerate(CATEGORIES):
            matched = _match(clauses, self.category_patterns[category])
            if not matched.any():
                continue
            silenced = np.zeros(len(matched), dtype=bool)
            for k, rule in enumerate(self.suppressors):
                if category in rule.suppresses:
                    by_rule = matched & active[k]
                    silenced |= by_rule
                    suppressed[parents[by_rule], k] = True
            hits[parents[matched & ~silenced], j] = True
        return n, hits, suppressed

    def flags(self, texts: pa.Array | Sequence[str | None]) -> np.ndarray:
        """One bool per text: high-risk by the rules."""
        _, hits, _ = self._matrix(texts)
        return hits.any(axis=1)

    def results(self, texts: pa.Array | Sequence[str | None]) -> list[ScreenResult]:
        n, hits, suppressed = self._matrix(texts)
        kinds = [rule.kind for rule in self.suppressors]
        out = []
        for i in range(n):
            cats = tuple(c for c, h in zip(CATEGORIES, hits[i], strict=True) if h)
            silenced = tuple(dict.fromkeys(k for k, s in zip(kinds, suppressed[i], strict=True) if s))
            out.append(ScreenResult(bool(cats), cats, () if cats else silenced))
        return out


def _match(arr: pa.Array, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(arr, pattern).to_numpy(zero_copy_only=False)


@lru_cache(maxsize=1)
def default_rules() -> RuleScreen:
    return RuleScreen()


def screen_texts(texts: pa.Array | Sequence[str | None]) -> list[ScreenResult]:
    """The rule screen on many texts at once (None and "" are low-risk)."""
    return default_rules().results(texts)


def screen(text: str | None) -> ScreenResult:
    """The rule screen on one text."""
    return default_rules().results([text])[0]


def screen_text(text: str | None) -> bool:
    """True when the text is high-risk by the rule screen (kept for existing callers)."""
    return screen(text).high_risk


def load_resources(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The dated crisis-resource file; `REDDITESS_CRISIS_RESOURCES` overrides the bundled one."""
    path = path or os.environ.get("REDDITESS_CRISIS_RESOURCES")
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = (
            importlib_resources.files("redditess_core.safety")
            .joinpath("resources.yaml")
            .read_text(encoding="utf-8")
        )
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not data.get("resources"):
        raise ValueError(
            f"crisis resources file {path or 'redditess_core/safety/resources.yaml'} has no `resources` list"
        )
    return data


@dataclass
class CrisisScreen:
    """Screens texts (rules, plus the optional model scorer) and renders the crisis-resource notice.

    `model`: a `redditess_core.safety.model.ModelScorer`; a text is high-risk when the rules or the model flag it.
    """

    resources: dict[str, Any] = field(default_factory=load_resources)
    model: ModelScorer | None = None
    rules: RuleScreen = field(default_factory=default_rules)

    def screen_many(self, texts: Sequence[str | None]) -> list[ScreenResult]:
        results = self.rules.results(list(texts))
        if self.model is None:
            return results
        scores = self.model.scores([t or "" for t in texts])
        combined = []
        for r, s in zip(results, scores, strict=True):
            flagged = s >= self.model.threshold
            cats = (*r.categories, MODEL_CATEGORY) if flagged else r.categories
            combined.append(ScreenResult(r.high_risk or flagged, cats, r.suppressed_by, round(float(s), 4)))
        return combined

    def screen(self, text: str | None) -> ScreenResult:
        return self.screen_many([text])[0]

    def is_high_risk(self, text: str | None) -> bool:
        return self.screen(text).high_risk

    def notice(self) -> str:
        lines = [self.resources.get("message", "").strip(), ""]
        for item in self.resources["resources"]:
            lines.append(f"- {item['region']}: {item['name']}: {item['contact']}")
        lines.append(f"(resources reviewed {self.resources.get('reviewed', 'unknown')})")
        return "\n".join(lines).strip()

    def footer(self) -> str:
        """The one-line pointer to the resources that ends every output, whatever the screen says."""
        names = "; ".join(f"{item['name']} ({item['contact']})" for item in self.resources["resources"])
        return f"Crisis resources, if you or the poster need them: {names}."
