"""Shape RedditESS rows for TRL: select, fold, fit to length.

Loading and the column check are the core's (`redditess_core.loading.load_splits`: a RedditESS folder, a
single .jsonl/.json/.parquet file such as the DPO2 pairs `eval human` writes, or a Hub id), as is the data
contract (`redditess_core.contract`). The dataset version is read from the folder's `manifest.json`
(`dataset_version`) so every run records what it trained on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redditess_core.loading import (  # noqa: F401 - the training scripts' loader and its errors
    DatasetContractError,
    dataset_version,
    load_splits,
)
from redditess_core.prompts import DRAFT_SEPARATOR, fold_system_turn, system_text

logger = logging.getLogger(__name__)


def _maybe_fold(messages: list[dict[str, str]], fold_system: bool) -> list[dict[str, str]]:
    return fold_system_turn(messages) if fold_system else messages


def trained_system_prompt(ds: Any, contract: str | None) -> str | None:
    """The system turn the rows of `ds` open with (`messages` of `sft`, `prompt` of the preference configs),
    recorded in the run so eval and assist prompt the model with it; None when the rows have none, or several
    (logged)."""
    from collections import Counter

    column = "messages" if contract == "sft" else "prompt"
    found = Counter(system_text(turns) for turns in ds[column])
    if len(found) != 1:
        logger.warning(
            "the training rows open with %d different system turns: none is recorded for eval and assist",
            len(found),
        )
        return None
    return next(iter(found))


def to_sft_rows(ds: Any, contract: str, *, sft_format: str, fold_system: bool) -> Any:
    """Rows for SFTTrainer: `messages` (language modeling) or `prompt`/`completion` (completion-only loss).

    The GM trains on `sft` (system, user = post, assistant = effective comment); the IM trains on
    `improvement` as prompt (post + draft) -> completion (the better-received revision).
    """
    if sft_format not in ("prompt_completion", "messages"):
        raise ValueError(f"sft_format must be 'prompt_completion' or 'messages', got {sft_format!r}")

    def convert(row: dict[str, Any]) -> dict[str, Any]:
        if contract == "sft":
            msgs = _maybe_fold(row["messages"], fold_system)
            prompt, completion = msgs[:-1], msgs[-1:]
        else:
            prompt, completion = _maybe_fold(row["prompt"], fold_system), row["chosen"]
        if completion[-1]["role"] != "assistant":
            raise DatasetContractError(
                f"the last turn to learn must be the assistant's, got {completion[-1]}"
            )
        if sft_format == "messages":
            return {"messages": [*prompt, *completion]}
        return {"prompt": prompt, "completion": completion}

    keep = ["messages"] if sft_format == "messages" else ["prompt", "completion"]
    converted = ds.map(convert, remove_columns=ds.column_names)
    return converted.select_columns(keep)


def to_preference_rows(ds: Any, *, fold_system: bool) -> Any:
    """Rows for DPOTrainer: conversational prompt / chosen / rejected (extra contract columns dropped)."""
    ds = ds.select_columns(["prompt", "chosen", "rejected"])
    if fold_system:
        ds = ds.map(lambda row: {"prompt": fold_system_turn(row["prompt"])})
    return ds


@dataclass
class TrainRowArguments:
    """Row selection shared by the SFT and DPO scripts: a seeded random subset, and what to do with rows
    longer than `max_length`."""

    train_subset_size: int | None = field(
        default=None,
        metadata={
            "help": "Train on a seeded random subset of this many rows. Prefer it to `train[:N]`: the files are "
            "sorted by post id, so a slice takes the oldest posts."
        },
    )
    train_subset_seed: int = field(default=0, metadata={"help": "Seed of `train_subset_size`'s shuffle."})
    overlong_rows: str = field(
        default="truncate_prompt",
        metadata={
            "help": "Rows longer than `max_length` tokens: `truncate_prompt` (cut the post from the left, never "
            "the reply or the draft to revise; rows that still do not fit are dropped) or `drop`. Counted and "
            "logged, and recorded in redditess_run.json."
        },
    )


def train_subset(ds: Any, size: int | None, seed: int) -> Any:
    """A seeded random subset of `size` rows (all rows when `size` is None or not smaller than the split)."""
    if size is None or size >= len(ds):
        return ds
    if size <= 0:
        raise ValueError(f"train_subset_size must be positive, got {size}")
    return ds.shuffle(seed=seed).select(range(size)).flatten_indices()


def select_pair_sources(ds: Any, sources: Sequence[str] | None, *, where: str) -> Any:
    """Keep the rows whose `pair_source` is one of `sources` (all rows when `sources` is empty or None)."""
    if not sources:
        return ds
    if "pair_source" not in ds.column_names:
        raise DatasetContractError(
            f"{where}: pair_sources={list(sources)} needs a `pair_source` column (found {sorted(ds.column_names)})"
        )
    present = set(ds.unique("pair_source"))
    unknown = [s for s in sources if s not in present]
    if unknown:
        logger.warning("%s: no rows with pair_source %s (present: %s)", where, unknown, sorted(present))
    return ds.filter(lambda source: source in set(sources), input_columns="pair_source")


# The improvement prompt's user turn ends with the draft to revise: left truncation never reaches it.
PROTECTED_MARKERS = (DRAFT_SEPARATOR,)
_ELLIPSIS = "…"


def _count_tokens(tokenizer: Any, messages: list[dict[str, str]]) -> int:
    ids = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=False)
    if isinstance(ids, dict):  # some tokenizers return a BatchEncoding whatever `return_dict` says
        ids = ids["input_ids"]
    return len(ids)


def _row_tokens(tokenizer: Any, prompt: list[dict[str, str]], completions: list[list[dict[str, str]]]) -> int:
    return max(_count_tokens(tokenizer, [*prompt, *completion]) for completion in completions)


def _split_row(row: dict[str, Any]) -> tuple[list[dict[str, str]], list[list[dict[str, str]]], str]:
    """(prompt turns, the completions it must fit with, row shape) of a TRL row."""
    if "messages" in row:
        return row["messages"][:-1], [row["messages"][-1:]], "messages"
    if "completion" in row:
        return row["prompt"], [row["completion"]], "prompt_completion"
    return row["prompt"], [row["chosen"], row["rejected"]], "preference"


def fit_row(
    row: dict[str, Any], tokenizer: Any, max_length: int, mode: str
) -> tuple[dict[str, Any] | None, str]:
    """Fit one TRL row (messages, prompt/completion or prompt/chosen/rejected) into `max_length` tokens.

    Returns (row, status) with status `kept`, `truncated` (the last user turn lost words from its start: the
    post's opening, never the reply, and never the draft an improvement prompt asks to revise) or `dropped`
    (row None: `mode` is `drop`, or even the protected part and the reply do not fit).
    """
    prompt, completions, shape = _split_row(row)
    if _row_tokens(tokenizer, prompt, completions) <= max_length:
        return row, "kept"
    if mode == "drop":
        return None, "dropped"
    users = [i for i, turn in enumerate(prompt) if turn["role"] == "user"]
    if not users:
        return None, "dropped"
    last = users[-1]
    content = prompt[last]["content"]
    cut_at = len(content)
    for marker in PROTECTED_MARKERS:
        if marker in content:
            cut_at = content.rindex(marker)
    head, protected = content[:cut_at], content[cut_at:]
    ids = tokenizer(head, add_special_tokens=False)["input_ids"]
    overflow = _row_tokens(tokenizer, prompt, completions) - max_length
    drop = overflow + 2
    while drop < len(ids):
        new_content = _ELLIPSIS + tokenizer.decode(ids[drop:], skip_special_tokens=True) + protected
        new_prompt = [*prompt[:last], {**prompt[last], "content": new_content}, *prompt[last + 1 :]]
        excess = _row_tokens(tokenizer, new_prompt, completions) - max_length
        if excess <= 0:
            if shape == "messages":
                return {**row, "messages": [*new_prompt, *completions[0]]}, "truncated"
            return {**row, "prompt": new_prompt}, "truncated"
        drop += max(excess, 1)
    return None, "dropped"


def fit_to_length(
    ds: Any, tokenizer: Any, max_length: int | None, mode: str, *, where: str
) -> tuple[Any, dict]:
    """Fit every row of a TRL dataset into `max_length` tokens (see `fit_row`); returns (dataset, counts).

    TRL keeps the start of an over-long sequence, so without this a long post leaves a row with no reply
    tokens at all (6% of reddit-college `sft` rows at 1,024 tokens). Counts are logged.
    """
    if mode not in ("truncate_prompt", "drop"):
        raise ValueError(f"overlong_rows must be 'truncate_prompt' or 'drop', got {mode!r}")
    counts = {"rows": len(ds), "kept": 0, "truncated": 0, "dropped": 0}
    if max_length is None:
        counts["kept"] = len(ds)
        return ds, counts
    columns = ds.column_names
    rows, statuses = [], []
    for row in ds:
        fitted, status = fit_row(row, tokenizer, max_length, mode)
        statuses.append(status)
        if fitted is not None:
            rows.append({c: fitted[c] for c in columns})
    for status in statuses:
        counts[status] += 1
    logger.info(
        "%s: %d rows, %d over max_length=%d: %d had their post truncated from the left, %d dropped",
        where, counts["rows"], counts["truncated"] + counts["dropped"], max_length, counts["truncated"],
        counts["dropped"],
    )  # fmt: skip
    if counts["truncated"] == 0 and counts["dropped"] == 0:
        return ds, counts
    from datasets import Dataset

    if not rows:
        raise DatasetContractError(f"{where}: no row fits max_length={max_length} with its reply")
    return Dataset.from_list(rows, features=ds.features), counts
