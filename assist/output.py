"""What the user sees: the crisis note and resources first for a high-risk post, then the draft, and
always, last, a one-line pointer to the crisis resources.

The note does not depend on the model: it is decided by `redditess_core.safety.CrisisScreen` on the post (and on the
human draft and the generated text), so an empty, off-topic or harmful generation cannot remove it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from redditess_core.safety import CrisisScreen

RISK_NOTE = (
    "!! CRISIS NOTE: this post contains language about suicide or self-harm. The person may need urgent help. "
    "Before anything else, encourage them to contact a crisis line or emergency services, and consider "
    "whether a generated reply is appropriate at all."
)
DRAFT_HEADER = {
    "draft": "Draft reply (written by a model: read, edit and take responsibility for it before sending):",
    "improve": "Revised reply (written by a model from your draft: check it still says what you mean):",
}


@dataclass
class AssistResult:
    mode: str  # "draft" | "improve"
    high_risk: bool
    risk_sources: list[str]
    notice: str | None
    reply: str
    adapter: str
    base_model: str
    footer: str = ""
    risk_categories: list[str] = field(default_factory=list)

    def render_text(self) -> str:
        parts = []
        if self.high_risk:
            parts += [RISK_NOTE, "", self.notice or "", "", "-" * 72]
        parts += [DRAFT_HEADER[self.mode], "", self.reply.strip() or "(the model produced no text)"]
        if self.footer:
            parts += ["", self.footer]
        return "\n".join(parts).rstrip() + "\n"

    def render_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"


def assess(screen: CrisisScreen, texts: dict[str, str | None]) -> tuple[bool, list[str], str | None]:
    """Which of the named texts (post, draft, reply) carry crisis language, and the notice to show."""
    sources, _ = assess_categories(screen, texts)
    return bool(sources), sources, screen.notice() if sources else None


def assess_categories(screen: CrisisScreen, texts: dict[str, str | None]) -> tuple[list[str], list[str]]:
    """The names of the high-risk texts and the union of their matched categories (screened in one batch)."""
    names = [name for name, text in texts.items() if text]
    results = screen.screen_many([texts[n] for n in names])
    sources = [n for n, r in zip(names, results, strict=True) if r.high_risk]
    categories = sorted({c for r in results for c in r.categories})
    return sources, categories
