"""The one system-turn policy and how a model's conversations are rendered, for every entry point.

The RedditESS prompts open with a system turn. Some chat templates have no system role: Mistral-7B-Instruct-
v0.2's raises `TemplateError` on it ("Conversation roles must alternate user/assistant/..."), others drop it
silently. For those the system text is folded into the first user turn (`prompts.fold_system_turn`).

The decision is taken once, from the tokenizer the model is trained with (`decide_chat_format`: render a
probe conversation; fold when the template raises or drops the system text); a recipe's `fold_system_turn`
may force it. Training writes it into the run record (`redditess_run.json`, key `chat_format`) together with
the system turn it trained on; `eval generate`, the LLM judge and `assist` read it back
(`chat_format_for`), and decide from the tokenizer only for a model without a run record (a base model).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from redditess_core.contract import RUN_RECORD
from redditess_core.jsonfile import read_json_object
from redditess_core.prompts import Message, fold_system_turn, with_system_prompt

logger = logging.getLogger(__name__)

# The key of the chat format in the run record (contract.RUN_RECORD) training writes next to a model.
RECORD_KEY = "chat_format"
# The task a model's prompts serve, by the data-contract config it trained on.
CONFIG_TASK = {"sft": "gm", "preference": "gm", "improvement": "im"}

_PROBE_SYSTEM = "redditess-system-probe"


class ChatFormatError(ValueError):
    """The chat template cannot render the conversation the way the recipe asks."""


@dataclass(frozen=True)
class ChatFormat:
    """How a model's conversations are rendered.

    fold_system_turn: merge the system turn into the first user turn before applying the template.
    decided_by: `template` (the tokenizer's template rejects or drops a system turn, or accepts it),
        `recipe` (forced by the recipe's `fold_system_turn`), `run record` (read back from training).
    system_prompt: the system turn the model was trained with (None: unknown; the prompts' own is kept).
    task: what that system turn was for, `gm` (drafting: the `sft` / `preference` prompts) or `im` (revising:
        `improvement`); None when unknown. The trained system turn replaces a prompt's only for the same task.
    """

    fold_system_turn: bool
    decided_by: str
    system_prompt: str | None = None
    task: str | None = None

    def conversation(self, messages: list[Message], task: str | None = None) -> list[Message]:
        """`messages` (a prompt for `task`, `gm` or `im`) with the trained system turn, when it is known and
        was trained for the same task, and folded as the template needs."""
        if self.task is None or task is None or task == self.task:
            messages = with_system_prompt(messages, self.system_prompt)
        return fold_system_turn(messages) if self.fold_system_turn else messages

    def render(
        self,
        tokenizer: Any,
        messages: list[Message],
        *,
        task: str | None = None,
        add_generation_prompt: bool = True,
    ) -> str:
        """The prompt text of `messages` in the tokenizer's chat template (special tokens included)."""
        return tokenizer.apply_chat_template(
            self.conversation(messages, task), add_generation_prompt=add_generation_prompt, tokenize=False
        )

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> ChatFormat | None:
        """The chat format stored in a run record, or None when the record has none (runs before it existed)."""
        stored = (record or {}).get(RECORD_KEY)
        if not isinstance(stored, dict) or "fold_system_turn" not in stored:
            return None
        return cls(
            bool(stored["fold_system_turn"]), "run record", stored.get("system_prompt"), stored.get("task")
        )


def system_turn_support(tokenizer: Any, chat_template: str | None = None) -> str:
    """How the tokenizer's chat template (or `chat_template`) treats a leading system turn:
    `accepts` (rendered), `rejects` (the template raises, e.g. Mistral-7B-Instruct-v0.2) or `drops` (renders
    without the system text). Raises ChatFormatError when the template cannot render a plain user/assistant
    exchange either."""
    import jinja2

    probe = [
        {"role": "system", "content": _PROBE_SYSTEM},
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "hi"},
    ]
    try:
        text = tokenizer.apply_chat_template(probe, tokenize=False, chat_template=chat_template)
    except jinja2.TemplateError as err:
        try:
            tokenizer.apply_chat_template(probe[1:], tokenize=False, chat_template=chat_template)
        except jinja2.TemplateError as err2:
            raise ChatFormatError(
                f"the chat template cannot render a user/assistant exchange: {err2}"
            ) from err
        return "rejects"
    return "accepts" if _PROBE_SYSTEM in text else "drops"


def decide_chat_format(
    tokenizer: Any,
    *,
    forced: bool | None = None,
    system_prompt: str | None = None,
    task: str | None = None,
    chat_template: str | None = None,
) -> ChatFormat:
    """The system-turn decision for a model trained (or prompted) with `tokenizer`.

    `forced` (a recipe's `fold_system_turn`) wins, except that keeping the system turn on a template that
    rejects or drops it raises ChatFormatError (it would fail, or train without the instructions).
    """
    support = system_turn_support(tokenizer, chat_template)
    if forced is None:
        fmt = ChatFormat(support != "accepts", "template", system_prompt, task)
    elif not forced and support != "accepts":
        raise ChatFormatError(
            f"fold_system_turn is false but the chat template {support} a system turn: set it to true or "
            "leave it unset (the kit then folds the system turn into the first user turn)"
        )
    else:
        fmt = ChatFormat(bool(forced), "recipe", system_prompt, task)
    logger.info(
        "system turn: %s (the chat template %s a system turn; decided by the %s)",
        "folded into the first user turn" if fmt.fold_system_turn else "kept",
        support,
        fmt.decided_by,
    )
    return fmt


def read_run_record(folder: str | Path) -> dict[str, Any] | None:
    """The run record of a local trained model or adapter folder, or None when there is none."""
    path = Path(folder).expanduser() / RUN_RECORD
    return read_json_object(path) if path.is_file() else None


def chat_format_for(tokenizer: Any, record: dict[str, Any] | None, *, where: str = "model") -> ChatFormat:
    """The chat format to prompt a model with: the one its training recorded, else decided from its tokenizer.

    A recorded format that keeps the system turn on a template that rejects it (a hand-edited record, or a
    tokenizer swapped after training) is overridden, with a warning.
    """
    recorded = ChatFormat.from_record(record)
    if recorded is None:
        return decide_chat_format(tokenizer)
    if not recorded.fold_system_turn:
        support = system_turn_support(tokenizer)
        if support != "accepts":
            logger.warning(
                "%s: the run record keeps the system turn, but the tokenizer's template %s it: folding",
                where,
                support,
            )
            return replace(recorded, fold_system_turn=True, decided_by="template")
    logger.info(
        "%s: system turn %s (from the run record)", where, "folded" if recorded.fold_system_turn else "kept"
    )
    return recorded
