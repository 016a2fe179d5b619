"""The writing assistant as a loaded-model service: models loaded once, crisis screen first, input limits.

Both front ends call it: the command line (`python -m assist draft|improve`, one request) and the web app
(`python -m assist serve`, assist/app.py, many requests). One `AssistService` holds the Generation Model
adapter (mode `draft`) and/or the Improvement Model adapter (mode `improve`); when both were trained on
the same base model it is held in memory once, with the two adapters switched per request.

Order of a request (`AssistService.run`): check the inputs (empty / oversize -> `InputError`), screen the
post and the human draft with `redditess_core.safety.CrisisScreen`, generate, screen the generated reply too, and return
an `assist.output.AssistResult` whose crisis note and resources are decided by the screen, never by the
model. Texts are never logged: log lines carry the mode, lengths and the risk flag only.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Literal

from assist.model import LoadedModel, add_adapter, generate, load
from assist.output import AssistResult, assess_categories
from assist.prompts import draft_messages, improve_messages, parse_post
from redditess_core.safety import CrisisScreen

logger = logging.getLogger(__name__)

Mode = Literal["draft", "improve"]
MODES: tuple[Mode, ...] = ("draft", "improve")
# The prompts' task per mode (the Generation Model drafts, the Improvement Model revises).
MODE_TASK = {"draft": "gm", "improve": "im"}
# A Reddit post body is at most 40,000 characters; support posts are far shorter (the builder's corpora:
# median a few hundred). Longer inputs would only be truncated by the models' context, so they are refused.
MAX_POST_CHARS = 10_000
MAX_REPLY_CHARS = 5_000
MAX_NEW_TOKENS = 512


class InputError(ValueError):
    """An input the assistant refuses (empty, too long, bad sampling setting); the message is for the user."""


@dataclass
class Sampling:
    """Decoding settings. Defaults are safe: greedy (reproducible), 200 new tokens."""

    max_new_tokens: int = 200
    do_sample: bool = False
    temperature: float = 0.7
    top_p: float = 0.9
    seed: int = 0

    def checked(self) -> Sampling:
        if not 1 <= int(self.max_new_tokens) <= MAX_NEW_TOKENS:
            raise InputError(f"Reply length must be between 1 and {MAX_NEW_TOKENS} tokens.")
        if self.do_sample and not 0.05 <= float(self.temperature) <= 2.0:
            raise InputError("Temperature must be between 0.05 and 2.")
        if self.do_sample and not 0.05 <= float(self.top_p) <= 1.0:
            raise InputError("Top-p must be between 0.05 and 1.")
        return Sampling(
            int(self.max_new_tokens),
            bool(self.do_sample),
            float(self.temperature),
            float(self.top_p),
            int(self.seed),
        )


def check_text(text: str | None, what: str, limit: int) -> str:
    """`text` stripped, or InputError naming `what` when it is empty or longer than `limit` characters."""
    text = (text or "").strip()
    if not text:
        raise InputError(f"The {what} is empty: paste the {what} first.")
    if len(text) > limit:
        raise InputError(
            f"The {what} is too long: {len(text):,} characters, the limit is {limit:,}. Shorten it and try again."
        )
    return text


class AssistService:
    """Adapters loaded once; `draft(post)` and `improve(post, reply)` per request (thread-safe).

    `adapters` maps a mode to an adapter (local run directory or Hub id). Raises `assist.model.AssistLoadError`
    when a model cannot be loaded.
    """

    def __init__(
        self,
        adapters: dict[str, str],
        *,
        base_model: str | None = None,
        revision: str | None = None,
        load_in_4bit: bool = False,
        screen: CrisisScreen | None = None,
    ) -> None:
        unknown = set(adapters) - set(MODES)
        if unknown or not adapters:
            raise ValueError(f"adapters must map some of {MODES} to adapters, got {sorted(adapters)}")
        self.screen = screen or CrisisScreen()
        self.models: dict[str, LoadedModel] = {}
        self.loads = 0  # base models loaded (tests pin "load once")
        self._lock = threading.Lock()
        first: LoadedModel | None = None
        for mode in MODES:
            adapter = adapters.get(mode)
            if adapter is None:
                continue
            if first is not None and adapter == first.adapter:
                self.models[mode] = first
            elif first is not None:
                self.models[mode] = add_adapter(
                    first, adapter, mode, revision=revision, check_base=base_model is None
                )
            else:
                started = time.perf_counter()
                first = load(adapter, base_model=base_model, revision=revision, load_in_4bit=load_in_4bit)
                self.loads += 1
                self.models[mode] = first
                logger.info(
                    "loaded %s on %s in %.1f s", adapter, first.base_model, time.perf_counter() - started
                )

    @property
    def modes(self) -> list[str]:
        return [m for m in MODES if m in self.models]

    def draft(self, post: str, sampling: Sampling | None = None) -> AssistResult:
        """A reply drafted by the Generation Model for `post` (first line the title, then the body)."""
        return self.run("draft", post, None, sampling)

    def improve(self, post: str, reply: str, sampling: Sampling | None = None) -> AssistResult:
        """The human `reply` to `post`, revised by the Improvement Model."""
        return self.run("improve", post, reply, sampling)

    def run(self, mode: str, post: str, reply: str | None, sampling: Sampling | None = None) -> AssistResult:
        if mode not in self.models:
            raise InputError(f"This server has no model for `{mode}` (start it with the adapter for it).")
        post_text = check_text(post, "post", MAX_POST_CHARS)
        human = check_text(reply, "reply", MAX_REPLY_CHARS) if mode == "improve" else None
        sampling = (sampling or Sampling()).checked()
        parsed = parse_post(post_text)
        # Crisis screen first: decided on the inputs before any generation, whatever the model writes.
        pre_sources, _ = assess_categories(self.screen, {"post": parsed.text, "draft": human})
        loaded = self.models[mode]
        messages = draft_messages(parsed) if mode == "draft" else improve_messages(parsed, human or "")
        started = time.perf_counter()
        with self._lock:  # one generation at a time per loaded model (adapters are switched per request)
            text = generate(
                loaded,
                messages,
                max_new_tokens=sampling.max_new_tokens,
                do_sample=sampling.do_sample,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                seed=sampling.seed,
                task=MODE_TASK[mode],
            )
        sources, categories = assess_categories(
            self.screen, {"post": parsed.text, "draft": human, "reply": text}
        )
        high_risk = bool(sources)
        logger.info(
            "%s: post %d chars, reply %d chars, high_risk=%s (screened before generation: %s), %.1f s",
            mode,
            len(post_text),
            len(text),
            high_risk,
            bool(pre_sources),
            time.perf_counter() - started,
        )
        notice = self.screen.notice() if high_risk else None
        return AssistResult(
            mode,
            high_risk,
            sources,
            notice,
            text,
            loaded.adapter,
            loaded.base_model,
            self.screen.footer(),
            categories,
        )
