"""One definition of crisis / self-harm language.

The same pattern flags `is_sensitive` rows in the dataset (run inside DuckDB, RE2 syntax) and
screens posts before any draft is shown to a user, so the two can never disagree.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import yaml

# Lower-cased text is matched. RE2- and Python-compatible (no look-around).
_CRISIS_TERMS = [
    r"suicid\w*",
    r"kill(ing)? my ?self",
    r"end(ing)? (it all|my life|things)",
    r"take my (own )?life",
    r"want(ed)? to die",
    r"wish i (was|were) dead",
    r"better off dead",
    r"don'?t want to (live|be alive|exist)",
    r"self[- ]?harm\w*",
    r"cut(ting)? my(self| wrists?| arms?)",
    r"overdos\w*",
    r"no reason to live",
    r"hang(ing)? my ?self",
    r"jump(ing)? off (a|the) (bridge|building|roof)",
]
CRISIS_SQL_PATTERN = r"\b(" + "|".join(_CRISIS_TERMS) + r")\b"
_CRISIS_RE = re.compile(CRISIS_SQL_PATTERN)


def screen_text(text: str | None) -> bool:
    """True when the text contains crisis or self-harm language."""
    return bool(text) and _CRISIS_RE.search(text.lower()) is not None


def load_resources(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The dated crisis-resource file; `REDDITESS_CRISIS_RESOURCES` overrides the bundled one."""
    path = path or os.environ.get("REDDITESS_CRISIS_RESOURCES")
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = importlib_resources.files("safety").joinpath("resources.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not data.get("resources"):
        raise ValueError(f"crisis resources file {path or 'safety/resources.yaml'} has no `resources` list")
    return data


@dataclass
class CrisisScreen:
    """Screens a text and renders the crisis-resource notice to show beside a draft."""

    resources: dict[str, Any] = field(default_factory=load_resources)

    def is_high_risk(self, text: str | None) -> bool:
        return screen_text(text)

    def notice(self) -> str:
        lines = [self.resources.get("message", "").strip(), ""]
        for item in self.resources["resources"]:
            lines.append(f"- {item['region']}: {item['name']}: {item['contact']}")
        lines.append(f"(resources reviewed {self.resources.get('reviewed', 'unknown')})")
        return "\n".join(lines).strip()
