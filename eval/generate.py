"""`python -m eval generate`: GM drafts or IM revisions for a split's prompts, batched, seeded, resumable.

Records go to `<output>.partial` batch by batch (flushed), so an interrupted run loses at most one batch; a
rerun with the same model, adapter, data and settings skips the ids already done. Only a complete run is
renamed to `<output>`, sorted in dataset order. Every record carries the provenance of the run.

Prompts are rendered in the model's chat format (`redditess_core.chat`): the system-turn decision and the
system turn recorded by its training run (`redditess_run.json` beside the adapter or model), else decided
from its tokenizer's chat template (folded when the template rejects a system turn, as Mistral v0.2's does).
A model trained on a build with a custom `--system_prompt` is thus asked with that system turn, whatever the
evaluated dataset's rows carry; each record's `prompt` is the conversation as asked (before folding).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from eval.data import TASK_CONFIG, PromptItem, load_prompts
from eval.io import write_jsonl
from eval.runtime import RuntimeArguments
from eval.versions import dataset_info, model_info, provenance
from redditess_core.batching import length_batches
from redditess_core.chat import ChatFormat, chat_format_for, read_run_record
from redditess_core.prompts import with_system_prompt

logger = logging.getLogger(__name__)


@dataclass
class GenerateArguments(RuntimeArguments):
    """Generate replies with a base model, optionally with a PEFT adapter (GM or IM)."""

    model: str = field(metadata={"help": "Base model folder (or an adapter folder whose base is recorded)."})
    dataset: str = field(metadata={"help": "RedditESS folder."})
    output: str = field(metadata={"help": "Output JSONL file."})
    adapter: str | None = field(default=None, metadata={"help": "PEFT adapter folder (GM/IM after SFT/DPO)."})
    task: str = field(
        default="gm", metadata={"help": "gm (draft a reply to the post) or im (revise a draft)."}
    )
    split: str = field(default="test", metadata={"help": "Dataset split."})
    system_name: str | None = field(default=None, metadata={"help": "Name of this system in reports."})
    batch_size: int = field(default=8, metadata={"help": "Prompts per generate() call."})
    max_new_tokens: int = field(default=128)
    max_prompt_length: int = field(default=1024, metadata={"help": "Prompts are truncated from the left."})
    do_sample: bool = field(default=True)
    temperature: float = field(default=0.7)
    top_p: float = field(default=0.9)
    seed: int = field(default=42)
    max_samples: int | None = field(default=None, metadata={"help": "First N prompts only."})
    system_prompt: str = field(
        default="model",
        metadata={
            "help": "System turn of the prompts: `model` (the one the model was trained with, from its run "
            "record; the dataset's when unknown) or `dataset` (the evaluated rows' own)."
        },
    )
    append_crisis_notice: bool = field(
        default=False,
        metadata={
            "help": "Append the crisis-resource notice to replies to high-risk posts (the deployed guard)."
        },
    )


def _settings(args: GenerateArguments) -> dict[str, Any]:
    keys = (
        "task",
        "max_new_tokens",
        "max_prompt_length",
        "do_sample",
        "temperature",
        "top_p",
        "seed",
        "append_crisis_notice",
    )
    return {k: getattr(args, k) for k in keys}


def _run_key(meta: dict[str, Any]) -> str:
    """What must match for a rerun to reuse records: weights, data version and settings."""
    key = {
        "model": (meta["model"] or {}).get("fingerprint"),
        "adapter": (meta["adapter"] or {}).get("fingerprint"),
        "dataset": meta["dataset"].get("manifest_sha256") or meta["dataset"].get("version"),
        "split": meta["dataset"].get("split"),
        "settings": meta["settings"],
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def _load_done(path: Path, run_key: str) -> dict[str, dict[str, Any]]:
    """Records already written for this run; a torn last line (interrupted write) is dropped."""
    if not path.exists():
        return {}
    done: dict[str, dict[str, Any]] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            if lineno == len(lines):
                logger.warning("%s: dropping a torn last line (interrupted run)", path)
                continue
            raise ValueError(
                f"{path}: line {lineno} is not valid JSON; delete the file to start over"
            ) from None
        if rec.get("run_key") != run_key:
            raise ValueError(
                f"{path}: line {lineno} comes from a different run (model/adapter/data/settings changed); "
                "delete it or choose another --output"
            )
        done[rec["id"]] = rec
    return done


def _default_name(args: GenerateArguments) -> str:
    return args.system_name or Path(args.adapter or args.model).name


def run_generate(args: GenerateArguments) -> Path:
    """Generate for every prompt not yet done; return the finished output path."""
    import torch
    from tqdm.auto import tqdm
    from transformers import set_seed

    from eval.models import load_causal_lm
    from redditess_core.safety import CrisisScreen

    if args.system_prompt not in ("model", "dataset"):
        raise ValueError(f"--system_prompt must be `model` or `dataset`, got {args.system_prompt!r}")
    items = load_prompts(args.dataset, args.task, args.split, args.max_samples)
    out = Path(args.output)
    work = out.with_name(out.name + ".partial")
    lm, tokenizer, base, adapter = load_causal_lm(args.model, args.adapter)
    chat_format = chat_format_for(tokenizer, read_run_record(adapter or base), where=str(adapter or base))
    if args.system_prompt == "dataset":
        chat_format = replace(chat_format, system_prompt=None)
    items = _as_asked(items, chat_format, args.task)
    meta = {
        "system": _default_name(args),
        "model": model_info(base),
        "adapter": model_info(adapter),
        "dataset": dataset_info(args.dataset, TASK_CONFIG[args.task], args.split),
        "settings": {**_settings(args), "chat_format": chat_format.to_record()},
    }
    run_key = _run_key(meta)
    done = _load_done(out, run_key)
    done.update(_load_done(work, run_key))
    for rec in done.values():  # the name is a label, not part of the run: a rename relabels old records
        rec["system"] = meta["system"]
    todo = [it for it in items if it.id not in done]
    logger.info(
        "%s: %d prompts, %d already done, %d to generate",
        meta["system"],
        len(items),
        len(items) - len(todo),
        len(todo),
    )
    screen = CrisisScreen() if args.append_crisis_notice else None
    if todo:
        work.parent.mkdir(parents=True, exist_ok=True)
        texts = [chat_format.render(tokenizer, it.prompt, task=args.task) for it in todo]
        tokenizer.truncation_side = "left"
        lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
        prov = provenance(**meta)
        with work.open("w", encoding="utf-8") as f:
            for rec in done.values():
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            progress = tqdm(total=len(todo), desc=f"generate {meta['system']}", unit="prompt")
            for batch in length_batches(lengths, args.batch_size):
                batch_items = [todo[i] for i in batch]
                # Seed from the batch's ids: the same batch reproduces the same samples after a resume.
                set_seed(
                    args.seed
                    + int(hashlib.sha256("|".join(it.id for it in batch_items).encode()).hexdigest()[:8], 16)
                    % 10**6
                )
                enc = tokenizer(
                    [texts[i] for i in batch],
                    add_special_tokens=False,
                    padding=True,
                    truncation=True,
                    max_length=args.max_prompt_length,
                    return_tensors="pt",
                )
                gen_kwargs: dict[str, Any] = {
                    "max_new_tokens": args.max_new_tokens,
                    "do_sample": args.do_sample,
                }
                if args.do_sample:
                    gen_kwargs.update(temperature=args.temperature, top_p=args.top_p)
                with torch.inference_mode():
                    output = lm.generate(**enc, **gen_kwargs, pad_token_id=tokenizer.pad_token_id)
                new_tokens = output[:, enc["input_ids"].shape[1] :]
                replies = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
                for it, reply in zip(batch_items, replies, strict=True):
                    rec = _record(it, reply.strip(), meta["system"], args.task, run_key, prov, screen)
                    done[it.id] = rec
                    f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
                progress.update(len(batch_items))
            progress.close()
    ordered = [done[it.id] for it in items]
    write_jsonl(out, ordered)
    if work.exists():
        work.unlink()
    logger.info("wrote %d records to %s", len(ordered), out)
    return out


def _as_asked(items: list[PromptItem], chat_format: ChatFormat, task: str) -> list[PromptItem]:
    """The items with the system turn the model is asked with; logs how many rows it replaced."""
    if chat_format.system_prompt is None or chat_format.task not in (None, task):
        return items
    out = [replace(it, prompt=with_system_prompt(it.prompt, chat_format.system_prompt)) for it in items]
    changed = sum(a.prompt != b.prompt for a, b in zip(items, out, strict=True))
    if changed:
        logger.info(
            "%d of %d prompts get the system turn the model was trained with (the dataset's differs; "
            "--system_prompt dataset keeps the dataset's)",
            changed,
            len(items),
        )
    return out


def _record(
    item: PromptItem, reply: str, system: str, task: str, run_key: str, prov: dict[str, Any], screen: Any
) -> dict[str, Any]:
    notice = screen is not None and screen.is_high_risk(item.post)
    if notice:
        reply = f"{reply}\n\n{screen.notice()}"
    rec = {k: v for k, v in asdict(item).items() if k != "extra"}
    rec.update(
        system=system, task=task, response=reply, crisis_notice_added=notice, run_key=run_key, provenance=prov
    )
    return rec
