"""Load a base model with a released adapter (Hub id or local path) and generate one reply.

Resolution goes through `peft` / `transformers` / `huggingface_hub`, so HF_HUB_OFFLINE=1 is respected:
offline, a Hub id loads from the local cache or fails with a message saying so. The tokenizer comes
from the adapter (publishing uploads it with the chat template the model was trained with) and falls
back to the base model's. 4-bit loading uses bitsandbytes NF4 (works on CPU, slower).

How the conversation is rendered (the system turn the adapter was trained with, folded into the user turn
or not) is read from the adapter's run record (`redditess_run.json`, uploaded with it by publishing) through
`redditess_core.chat.chat_format_for`; an adapter without one is prompted as its tokenizer's template allows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redditess_core.chat import RUN_RECORD, ChatFormat, chat_format_for, read_run_record

logger = logging.getLogger(__name__)


class AssistLoadError(RuntimeError):
    """The adapter or base model could not be resolved; the message says which and why."""


@dataclass
class LoadedModel:
    """A PeftModel on its base, the tokenizer and chat format to prompt it with, which adapter to activate."""

    model: Any
    tokenizer: Any
    base_model: str
    adapter: str
    chat_format: ChatFormat
    adapter_name: str = "default"


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def adapter_run_record(adapter: str, revision: str | None = None) -> dict[str, Any] | None:
    """The training run record of a local adapter folder or of a Hub adapter (None when it has none)."""
    if Path(adapter).expanduser().is_dir():
        return read_run_record(adapter)
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, LocalEntryNotFoundError

    try:
        path = hf_hub_download(adapter, RUN_RECORD, revision=revision)
    except (EntryNotFoundError, LocalEntryNotFoundError, HfHubHTTPError, OSError, ValueError):
        logger.info("%s has no %s: the chat format is decided from its tokenizer", adapter, RUN_RECORD)
        return None
    return read_run_record(Path(path).parent)


def load(
    adapter: str, *, base_model: str | None = None, revision: str | None = None, load_in_4bit: bool = False
) -> LoadedModel:
    import torch
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled
    from peft import PeftConfig, PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    try:
        peft_config = PeftConfig.from_pretrained(adapter, revision=revision)
    except (ValueError, OSError, HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled) as err:
        hint = " (HF_HUB_OFFLINE=1: a Hub id must already be in the local cache)" if _offline() else ""
        raise AssistLoadError(f"cannot load the adapter {adapter!r}{hint}: {err}") from None
    base = base_model or peft_config.base_model_name_or_path
    if not base:
        raise AssistLoadError(f"{adapter!r} does not name its base model; pass --base-model")
    kwargs: dict[str, Any] = {"dtype": torch.float32}
    if load_in_4bit:
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float32
        )
    try:
        model = AutoModelForCausalLM.from_pretrained(base, **kwargs)
    except (OSError, ValueError) as err:
        raise AssistLoadError(
            f"cannot load the base model {base!r} (pass --base-model to choose another): {err}"
        ) from None
    model = PeftModel.from_pretrained(model, adapter, revision=revision).eval()
    try:
        tokenizer = AutoTokenizer.from_pretrained(adapter, revision=revision)
    except (OSError, ValueError):
        logger.info("no tokenizer with the adapter; using the base model's")
        tokenizer = AutoTokenizer.from_pretrained(base)
    if tokenizer.chat_template is None:
        raise AssistLoadError(f"the tokenizer of {adapter!r} has no chat template")
    chat_format = chat_format_for(tokenizer, adapter_run_record(adapter, revision), where=adapter)
    return LoadedModel(model, tokenizer, str(base), adapter, chat_format)


def add_adapter(
    loaded: LoadedModel, adapter: str, name: str, *, revision: str | None = None, check_base: bool = True
) -> LoadedModel:
    """Load a second adapter (e.g. the Improvement Model beside the Generation Model) onto the SAME base
    model in memory when it names the same base, so a 7B base is held once; `generate` activates it.

    Raises AssistLoadError when the adapter cannot be resolved or was trained on another base model
    (load it separately with `load` then).
    """
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled
    from peft import PeftConfig
    from transformers import AutoTokenizer

    try:
        peft_config = PeftConfig.from_pretrained(adapter, revision=revision)
    except (ValueError, OSError, HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled) as err:
        hint = " (HF_HUB_OFFLINE=1: a Hub id must already be in the local cache)" if _offline() else ""
        raise AssistLoadError(f"cannot load the adapter {adapter!r}{hint}: {err}") from None
    if check_base and peft_config.base_model_name_or_path not in (None, loaded.base_model):
        raise AssistLoadError(
            f"{adapter!r} was trained on {peft_config.base_model_name_or_path!r}, not {loaded.base_model!r}"
        )
    loaded.model.load_adapter(adapter, adapter_name=name, revision=revision)
    loaded.model.eval()
    try:
        tokenizer = AutoTokenizer.from_pretrained(adapter, revision=revision)
    except (OSError, ValueError):
        tokenizer = loaded.tokenizer
    chat_format = chat_format_for(tokenizer, adapter_run_record(adapter, revision), where=adapter)
    return LoadedModel(loaded.model, tokenizer, loaded.base_model, adapter, chat_format, adapter_name=name)


def generate(
    loaded: LoadedModel,
    messages: list[dict[str, str]],
    *,
    max_new_tokens: int,
    do_sample: bool,
    temperature: float,
    top_p: float,
    seed: int,
    task: str | None = None,
) -> str:
    """One reply to the conversation, rendered in the model's chat format (`loaded.chat_format`: the system
    turn it was trained with, folded into the user turn when its template has no system role). `task` (`gm`
    for a draft, `im` for a revision) keeps a model trained for the other task from swapping the system turn."""
    import torch
    from transformers import set_seed

    tok = loaded.tokenizer
    inputs = tok.apply_chat_template(
        loaded.chat_format.conversation(messages, task),
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    if getattr(loaded.model, "active_adapter", loaded.adapter_name) != loaded.adapter_name:
        loaded.model.set_adapter(loaded.adapter_name)
    set_seed(seed)
    gen_kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens, "do_sample": do_sample}
    if do_sample:
        gen_kwargs.update(temperature=temperature, top_p=top_p)
    if tok.pad_token_id is not None:
        gen_kwargs["pad_token_id"] = tok.pad_token_id
    with torch.no_grad():
        out = loaded.model.generate(**inputs, **gen_kwargs)
    new_tokens = out[0, inputs["input_ids"].shape[1] :]
    return tok.decode(new_tokens, skip_special_tokens=True).strip()
