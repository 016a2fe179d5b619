"""Training benchmark: the kit's scripts against bare TRL/Trainer calls, the MiniLM classifier, SFT padding.

    python benchmarks/bench_training.py [--workdir DIR] [--repeats 2] [--json results.json]

Prints, on the demo dataset built by the real builder and tiny models built offline:
1. train samples/s of each tiny recipe through `training/<x>.py` versus the same TRL trainer (or transformers
   `Trainer` for the classifier) called bare with the same arguments and rows; ratio = kit / bare. Runs
   alternate (kit, bare, kit, bare...) and the best of each is kept, so background load hits both alike.
2. the effective-support classifier with the real all-MiniLM-L6-v2 encoder on CPU: train and inference
   samples/s.
3. the share of padding tokens in SFT batches with the recipe's settings (length-grouped sampling) versus
   plain random batches, over one epoch of the GM and IM training sets.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from redditess_core.contract import MANIFEST_FILE  # noqa: E402
from training import RECIPES_DIR, classifier, dpo, sft  # noqa: E402
from training.data import load_splits  # noqa: E402
from training.models import load_tokenizer, model_init_kwargs  # noqa: E402
from training.recipe import parse_recipe  # noqa: E402

logger = logging.getLogger("bench_training")


@dataclass
class BenchArguments:
    """Command line of the benchmark."""

    workdir: str | None = field(default=None, metadata={"help": "Keep dataset, models and runs here."})
    repeats: int = field(default=3, metadata={"help": "Alternating runs per side; the best is reported."})
    sft_steps: int = field(default=20, metadata={"help": "Optimizer steps of each SFT measurement."})
    dpo_steps: int = field(default=10, metadata={"help": "Optimizer steps of each DPO measurement."})
    json: str | None = field(default=None, metadata={"help": "Also write the figures to this JSON file."})
    minilm_threads: int | None = field(
        default=None, metadata={"help": "torch threads for the MiniLM part (default: every core)."}
    )


def build_inputs(work: Path) -> tuple[Path, dict[str, Path]]:
    """The demo RedditESS folder (real builder, synthetic sample) and tiny models fitted to its text."""
    from dataset_builder.config import BuildConfig
    from dataset_builder.pipeline import build
    from dataset_builder.synthetic import write_sample
    from training.tiny import TinyConfig, build_all, dataset_corpus

    dataset = work / "redditess"
    if not (dataset / MANIFEST_FILE).is_file():
        write_sample(work / "raw", seed=0)
        build(
            BuildConfig(inputs=[work / "raw"], out=dataset, version="0.1.0-bench", seed=0),
            key=b"bench-key-not-secret-0000",
        )
    models = build_all(work / "tiny", TinyConfig(extra_text=dataset_corpus(dataset)))
    return dataset, models


def _args(script: Any, recipe: Path, overrides: dict[str, Any]) -> tuple[Any, ...]:
    argv = ["--config", str(recipe)]
    for key, value in overrides.items():
        argv += [f"--{key}", str(value)]
    return parse_recipe(script.DATACLASSES, argv)


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    return path


def kit_sps(script: Any, recipe: Path, overrides: dict[str, Any]) -> float:
    """train samples/s of one run of the kit's script."""
    return float(script.main(*_args(script, recipe, overrides))["train"]["train_samples_per_second"])


def bare_sft_sps(recipe: Path, overrides: dict[str, Any]) -> float:
    """The same SFT as a bare SFTTrainer call: same SFTConfig, model, LoRA, quantization, rows."""
    from trl import SFTTrainer, get_peft_config, get_quantization_config

    script_args, training_args, model_args = _args(sft, recipe, overrides)
    split = script_args.dataset_train_split
    tokenizer = load_tokenizer(model_args.model_name_or_path)
    data = load_splits(script_args.dataset_name, script_args.dataset_config, [split])
    rows = sft.prepare_rows(data, script_args, training_args, tokenizer)[0][split]
    training_args.model_init_kwargs = model_init_kwargs(model_args, training_args)
    trainer = SFTTrainer(
        model=model_args.model_name_or_path,
        args=training_args,
        train_dataset=rows,
        processing_class=tokenizer,
        quantization_config=get_quantization_config(model_args),
        peft_config=get_peft_config(model_args),
    )
    return float(trainer.train().metrics["train_samples_per_second"])


def bare_dpo_sps(recipe: Path, overrides: dict[str, Any]) -> float:
    """The same DPO as a bare DPOTrainer call on the same starting policy (base + SFT adapter)."""
    from trl import DPOTrainer

    script_args, training_args, model_args = _args(dpo, recipe, overrides)
    split = script_args.dataset_train_split
    parent = Path(script_args.parent_run)
    policy, _, peft_config = dpo.load_policy(parent, model_args, training_args)
    tokenizer = load_tokenizer(str(parent))
    data = load_splits(
        script_args.dataset_name, script_args.dataset_config, [split], expected_config="preference"
    )
    rows = dpo.prepare_rows(data, script_args, training_args, tokenizer, parent)[0][split]
    trainer = DPOTrainer(
        model=policy,
        args=training_args,
        train_dataset=rows,
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    return float(trainer.train().metrics["train_samples_per_second"])


def bare_classifier_sps(recipe: Path, overrides: dict[str, Any]) -> float:
    """The same classifier as a bare transformers Trainer (default loss, no metrics/threshold hooks)."""
    from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding, Trainer
    from trl import get_peft_config

    script_args, training_args, model_args = _args(classifier, recipe, overrides)
    training_args.eval_strategy = "no"
    training_args.save_strategy = "no"
    training_args.load_best_model_at_end = False
    model_args.lora_task_type = "SEQ_CLS"
    tokenizer = load_tokenizer(model_args.model_name_or_path, causal_lm=False)
    ds = load_splits(script_args.dataset_name, script_args.dataset_config, [script_args.dataset_train_split])[
        script_args.dataset_train_split
    ]

    def encode(batch: dict[str, list[Any]]) -> dict[str, Any]:
        rows = [dict(zip(batch, v, strict=True)) for v in zip(*batch.values(), strict=True)]
        posts, comments = zip(*(classifier.pair_texts(r) for r in rows), strict=True)
        enc = tokenizer(
            list(posts), list(comments), truncation="longest_first", max_length=script_args.max_length
        )
        enc["labels"] = batch["label"]
        return enc

    enc = ds.map(encode, batched=True, remove_columns=ds.column_names)
    model = AutoModelForSequenceClassification.from_pretrained(model_args.model_name_or_path, num_labels=2)
    peft_config = get_peft_config(model_args)
    if peft_config is not None:
        from peft import get_peft_model

        model = get_peft_model(model, peft_config)
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=enc,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
    )
    return float(trainer.train().metrics["train_samples_per_second"])


def compare_recipes(
    dataset: Path, models: dict[str, Path], runs: Path, a: BenchArguments
) -> list[dict[str, Any]]:
    """Kit vs bare, alternating, best of `repeats` each."""
    llama, encoder = str(models["tiny-llama"]), str(models["tiny-encoder"])
    base = {"dataset_name": dataset, "eval_strategy": "no", "save_strategy": "no", "report_to": "none"}
    sft_o = {**base, "model_name_or_path": llama, "max_steps": a.sft_steps}
    dpo_o = {**base, "model_name_or_path": llama, "max_steps": a.dpo_steps}
    # The DPO stages need their SFT parents: train them once with the kit.
    for stage in ("gm-sft", "im-sft"):
        if not (runs / "parents" / stage / "adapter_model.safetensors").is_file():
            sft.main(
                *_args(
                    sft,
                    RECIPES_DIR / "tiny" / f"{stage}.yaml",
                    {**sft_o, "output_dir": runs / "parents" / stage},
                )
            )
    cases = [
        ("tiny/gm-sft", sft, bare_sft_sps, sft_o),
        ("tiny/im-sft", sft, bare_sft_sps, sft_o),
        ("tiny/gm-dpo", dpo, bare_dpo_sps, {**dpo_o, "parent_run": runs / "parents" / "gm-sft"}),
        ("tiny/im-dpo", dpo, bare_dpo_sps, {**dpo_o, "parent_run": runs / "parents" / "im-sft"}),
        (
            "tiny/classifier",
            classifier,
            bare_classifier_sps,
            {
                "dataset_name": dataset,
                "model_name_or_path": encoder,
                "num_train_epochs": 1,
                "report_to": "none",
            },
        ),
    ]
    results = []
    for name, script, bare, overrides in cases:
        recipe = RECIPES_DIR / f"{name}.yaml"
        kit, bare_runs = [], []
        for i in range(a.repeats):
            kit.append(kit_sps(script, recipe, {**overrides, "output_dir": _fresh(runs / f"{name}-kit-{i}")}))
            bare_runs.append(bare(recipe, {**overrides, "output_dir": _fresh(runs / f"{name}-bare-{i}")}))
        row = {
            "recipe": name,
            "kit_sps": max(kit),
            "bare_sps": max(bare_runs),
            "ratio": max(kit) / max(bare_runs),
        }
        results.append(row)
        print(
            f"{name:18s} kit {row['kit_sps']:8.2f} samples/s   bare {row['bare_sps']:8.2f}   ratio {row['ratio']:.3f}"
        )
    return results


def minilm_classifier(dataset: Path, runs: Path, threads: int | None = None) -> dict[str, Any]:
    """all-MiniLM-L6-v2 (22.7M) on CPU: one training epoch through the kit, then batched inference.

    Uses every core unless told otherwise: the tiny recipes before it set `torch_threads: 1` in this process.
    """
    import torch

    torch.set_num_threads(threads or os.cpu_count() or 1)

    out = _fresh(runs / "minilm")
    metrics = classifier.main(
        *_args(
            classifier,
            RECIPES_DIR / "all-minilm-l6-v2" / "classifier.yaml",
            {"dataset_name": dataset, "output_dir": out, "num_train_epochs": 1},
        )
    )
    model, tokenizer, info = classifier.load_classifier(out)
    rows = load_splits(str(dataset), "effective_support", ["train"])["train"]
    pairs = [classifier.pair_texts(r) for r in rows]
    start = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(pairs), 64):
            posts, comments = zip(*pairs[i : i + 64], strict=True)
            enc = tokenizer(
                list(posts),
                list(comments),
                truncation="longest_first",
                max_length=256,
                padding=True,
                return_tensors="pt",
            )
            model(**enc)
    infer_sps = len(pairs) / (time.perf_counter() - start)
    result = {
        "train_samples": metrics["train"]["train_samples"],
        "train_sps": metrics["train"]["train_samples_per_second"],
        "inference_sps": infer_sps,
        "inference_samples": len(pairs),
        "validation_f1": metrics["eval"]["eval_f1"],
        "threshold": info["threshold"],
        "threads": torch.get_num_threads(),
    }
    print(
        f"MiniLM classifier ({result['threads']} threads)  train {result['train_sps']:.1f} samples/s ({result['train_samples']} rows, 1 epoch, "
        f"max_length 256)   inference {infer_sps:.1f} samples/s   validation F1 {result['validation_f1']:.3f}"
    )
    return result


def padding_share(dataset: Path, models: dict[str, Path], runs: Path) -> list[dict[str, Any]]:
    """Share of pad tokens per SFT batch over one epoch: recipe (length-grouped) vs plain random batches."""
    from trl import SFTTrainer

    results = []
    for stage in ("gm-sft", "im-sft"):
        shares = {}
        for label, strategy in (("recipe", None), ("plain", "random")):
            overrides = {
                "dataset_name": dataset,
                "model_name_or_path": models["tiny-llama"],
                "output_dir": runs / "padding",
                "load_in_4bit": "false",
                "use_peft": "false",
                "eval_strategy": "no",
            }
            if strategy:
                overrides["train_sampling_strategy"] = strategy
            script_args, training_args, model_args = _args(
                sft, RECIPES_DIR / "tiny" / f"{stage}.yaml", overrides
            )
            tokenizer = load_tokenizer(str(models["tiny-llama"]))
            data = load_splits(str(dataset), script_args.dataset_config, ["train"])
            rows = sft.prepare_rows(data, script_args, training_args, tokenizer)[0]["train"]
            trainer = SFTTrainer(
                model=str(models["tiny-llama"]),
                args=training_args,
                train_dataset=rows,
                processing_class=tokenizer,
            )
            real = total = 0
            for batch in trainer.get_train_dataloader():
                mask = batch["attention_mask"]
                real += int(mask.sum())
                total += mask.numel()
            shares[label] = 1 - real / total
            if label == "recipe":
                shares["recipe_strategy"] = training_args.train_sampling_strategy
                shares["batch_size"] = training_args.per_device_train_batch_size
        row = {"stage": stage, **shares}
        results.append(row)
        print(
            f"SFT padding {stage}: recipe ({row['recipe_strategy']}, batch {row['batch_size']}) "
            f"{100 * row['recipe']:.1f}% pad tokens   plain random batches {100 * row['plain']:.1f}%"
        )
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from transformers import HfArgumentParser

    (a,) = HfArgumentParser(BenchArguments).parse_args_into_dataclasses(args=argv)
    logging.basicConfig(level=logging.WARNING)
    work = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp(prefix="bench-training-"))
    work.mkdir(parents=True, exist_ok=True)
    dataset, models = build_inputs(work)
    runs = work / "runs"
    print(f"bench_training: dataset {dataset}, {os.cpu_count()} CPU cores")
    results = {
        "recipes": compare_recipes(dataset, models, runs, a),
        "minilm_classifier": minilm_classifier(dataset, runs, a.minilm_threads),
        "sft_padding": padding_share(dataset, models, runs),
    }
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=2) + "\n")
    if not a.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
