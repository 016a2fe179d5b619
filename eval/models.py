"""Load models for evaluation: a causal LM (optionally with a PEFT adapter) and a sequence classifier.

Trained runs save the tokenizer beside the adapter, and classifier runs save `threshold.json`
({"threshold": float, "positive_label": "effective"}); both are picked up here when present.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redditess_core.contract import THRESHOLD_FILE

logger = logging.getLogger(__name__)


def _has_tokenizer(path: Path) -> bool:
    return any((path / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json", "tokenizer.model"))


def _check_dir(path: str | Path, what: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_dir():
        raise FileNotFoundError(f"{what} folder not found: {p}")
    if not (p / "config.json").is_file() and not (p / "adapter_config.json").is_file():
        raise FileNotFoundError(f"{what} folder {p} holds neither config.json nor adapter_config.json")
    return p


def _base_and_adapter(model: str | Path, adapter: str | Path | None) -> tuple[Path, Path | None]:
    """An adapter folder passed as the model is split into (its base model, the adapter)."""
    model_p = _check_dir(model, "model")
    adapter_p = _check_dir(adapter, "adapter") if adapter else None
    if adapter_p is None and (model_p / "adapter_config.json").is_file():
        base = json.loads((model_p / "adapter_config.json").read_text()).get("base_model_name_or_path")
        if not base:
            raise ValueError(f"{model_p}/adapter_config.json names no base_model_name_or_path; pass --model")
        return _check_dir(base, "base model"), model_p
    if adapter_p is not None and not (adapter_p / "adapter_config.json").is_file():
        raise ValueError(f"{adapter_p} is not a PEFT adapter (no adapter_config.json)")
    return model_p, adapter_p


def load_tokenizer(model: Path, adapter: Path | None, *, padding_side: str) -> Any:
    """The adapter's own tokenizer when it saved one (it may carry the chat template), else the base's."""
    from transformers import AutoTokenizer

    source = adapter if adapter is not None and _has_tokenizer(adapter) else model
    tokenizer = AutoTokenizer.from_pretrained(str(source))
    tokenizer.padding_side = padding_side
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError(f"tokenizer of {source} has neither a pad nor an EOS token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_causal_lm(
    model: str | Path, adapter: str | Path | None = None
) -> tuple[Any, Any, Path, Path | None]:
    """(model, tokenizer, base path, adapter path) for generation, in eval mode on CPU, float32."""
    import torch
    from transformers import AutoModelForCausalLM

    base, adapter_p = _base_and_adapter(model, adapter)
    tokenizer = load_tokenizer(base, adapter_p, padding_side="left")
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"tokenizer of {adapter_p or base} has no chat template; generation needs one")
    lm = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    if adapter_p is not None:
        from peft import PeftModel

        lm = PeftModel.from_pretrained(lm, str(adapter_p))
    lm.eval()
    return lm, tokenizer, base, adapter_p


@dataclass
class Classifier:
    """A sequence classifier with its decision threshold on P(positive label)."""

    model: Any
    tokenizer: Any
    base: Path
    adapter: Path | None
    positive_index: int
    threshold: float
    num_labels: int


def load_classifier(
    model: str | Path, adapter: str | Path | None = None, *, num_labels: int | None = None
) -> Classifier:
    """Load a sequence classifier and its decision threshold.

    A finished classifier run (a folder with threshold.json, full model or LoRA adapter) is loaded by
    `redditess_core.classifier.load_classifier`, the loader training documents, so evaluation reads it
    exactly as training wrote it. Anything else (a reward model with num_labels=1, a base encoder, base + adapter) loads here;
    the positive class is the label named `effective` in the config, else index 1, threshold 0.5.
    """
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    run_dir = Path(adapter or model)
    if num_labels != 1 and (run_dir / THRESHOLD_FILE).is_file():
        from redditess_core.classifier import load_classifier as load_run

        clf, tokenizer, info = load_run(run_dir)
        if "threshold" not in info:
            raise ValueError(f"{run_dir / THRESHOLD_FILE}: missing 'threshold'")
        names = info.get("labels") or [clf.config.id2label[i] for i in range(clf.config.num_labels)]
        positive = info.get("positive_label", "effective")
        if positive not in names:
            raise ValueError(f"{run_dir / THRESHOLD_FILE}: positive_label {positive!r} not in labels {names}")
        base, adapter_p = _base_and_adapter(model, adapter)
        return Classifier(
            clf, tokenizer, base, adapter_p, names.index(positive), float(info["threshold"]), len(names)
        )

    base, adapter_p = _base_and_adapter(model, adapter)
    tokenizer = load_tokenizer(base, adapter_p, padding_side="right")
    config = AutoConfig.from_pretrained(str(base))
    kwargs: dict[str, Any] = {"dtype": torch.float32}
    architectures = getattr(config, "architectures", None) or [""]
    if num_labels is not None:
        kwargs["num_labels"] = num_labels
    elif not architectures[0].endswith("ForSequenceClassification"):
        kwargs["num_labels"] = 2
    if getattr(config, "pad_token_id", None) is None:
        kwargs["pad_token_id"] = tokenizer.pad_token_id
    clf = AutoModelForSequenceClassification.from_pretrained(str(base), **kwargs)
    if adapter_p is not None:
        from peft import PeftModel

        clf = PeftModel.from_pretrained(clf, str(adapter_p))
    clf.eval()
    label2id = {str(k): int(v) for k, v in (getattr(clf.config, "label2id", None) or {}).items()}
    n = int(clf.config.num_labels)
    return Classifier(clf, tokenizer, base, adapter_p, label2id.get("effective", 1 if n > 1 else 0), 0.5, n)
