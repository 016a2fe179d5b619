"""DPO really starts from the SFT policy, keeps training it, and DPO2 continues from DPO1 on a pairs file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch
from transformers import TrainerCallback

from redditess_core.prompts import SYSTEM_PROMPT
from training import RECIPES_DIR, dpo
from training.models import load_tokenizer

DEMO_VERSION = "0.1.0-test"  # tests/conftest.py builds `demo_dataset` (the `mini_dataset` here) with it

PROBE = "My depression makes it hard to get out of bed."


def _logits(model, ids) -> torch.Tensor:
    # Train mode with dropout 0 in the recipes: the same bitsandbytes compute path as during training.
    model.train()
    with torch.no_grad():
        return model(**ids).logits.float().clone()


class StartState(TrainerCallback):
    """Captures, before the first step, the policy's logits and its adapters' weights."""

    def __init__(self, ids) -> None:
        self.ids, self.logits, self.adapters = ids, None, {}

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.logits = _logits(model, self.ids)
        with model.disable_adapter():
            self.base_logits = _logits(model, self.ids)
        self.adapters = {n: p.detach().float().clone() for n, p in model.named_parameters() if "lora_" in n}
        self.active = model.active_adapter


def _sft_policy_logits(llama: Path, sft_run: Path, ids) -> torch.Tensor:
    """Base (4-bit as in the recipe) + the SFT adapter, loaded independently of the DPO script."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    base = AutoModelForCausalLM.from_pretrained(
        llama,
        dtype=torch.float32,
        quantization_config=BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.float32,
        ),
    )
    model = PeftModel.from_pretrained(base, str(sft_run))
    for name, param in model.named_parameters():
        if "lora_" in name:  # TRL keeps QLoRA adapters in bf16 during training
            param.data = param.data.to(torch.bfloat16)
    return _logits(model, ids)


def test_dpo_starts_from_the_sft_adapter_and_trains_it(
    tiny_models: dict[str, Path], mini_dataset: Path, gm_sft_run: Path, tmp_path: Path, recipe_argv
) -> None:
    llama = tiny_models["tiny-llama"]
    ids = load_tokenizer(str(gm_sft_run))(PROBE, return_tensors="pt")
    start = StartState(ids)
    out = tmp_path / "gm-dpo"
    argv = recipe_argv(
        "gm-dpo",
        model_name_or_path=llama,
        dataset_name=mini_dataset,
        parent_run=gm_sft_run,
        output_dir=out,
        max_steps=4,
        eval_steps=4,
        save_steps=4,
        logging_steps=1,
    )
    dpo.main(*dpo.parse_recipe(dpo.DATACLASSES, argv), callbacks=[start])

    # Step 0: the policy is base + SFT adapter (same logits as an independent load), not the bare base.
    sft_logits = _sft_policy_logits(llama, gm_sft_run, ids)
    torch.testing.assert_close(start.logits, sft_logits, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(start.logits, start.base_logits, atol=1e-3)
    # The reference adapter is a frozen copy of the SFT adapter.
    from safetensors.torch import load_file

    sft_weights = load_file(str(gm_sft_run / "adapter_model.safetensors"))
    defaults = {n: p for n, p in start.adapters.items() if ".default." in n}
    refs = {n: p for n, p in start.adapters.items() if ".ref." in n}
    assert len(defaults) == len(refs) == len(sft_weights) > 0
    for name, weight in sft_weights.items():
        key = name.replace("base_model.model.", "base_model.model.", 1).replace(".weight", ".default.weight")
        torch.testing.assert_close(defaults[key], weight.float(), atol=1e-2, rtol=1e-2)
        torch.testing.assert_close(refs[key.replace(".default.", ".ref.")], defaults[key])
    assert start.active == "default"

    # The first loss is ln 2 (policy == reference) and DPO then moves the policy.
    log = json.loads((out / "trainer_state.json").read_text())["log_history"]
    losses = [h["loss"] for h in log if "loss" in h]
    assert abs(losses[0] - 0.6931) < 1e-3, losses
    saved = load_file(str(out / "adapter_model.safetensors"))
    assert set(saved) == set(sft_weights)
    assert any(not torch.allclose(saved[n].float(), sft_weights[n].float()) for n in saved)

    record = json.loads((out / "redditess_run.json").read_text())
    assert record["parent_adapter"] == str(gm_sft_run.resolve()) and record["stage"] == "gm-dpo"
    assert record["dpo_mode"] == "continue"
    fmt = record["chat_format"]  # the tiny template has a system role; the demo rows' system turn is recorded
    assert fmt["fold_system_turn"] is False and fmt["decided_by"] == "parent run"
    assert fmt["system_prompt"] == SYSTEM_PROMPT  # the builder's default, which the demo build keeps
    assert record["dataset"] == {**record["dataset"], "config": "preference", "version": DEMO_VERSION}
    assert (out / "eval_results.json").is_file() and (out / "tokenizer.json").is_file()


def test_dpo2_on_a_pairs_file_continues_dpo1(
    tiny_models: dict[str, Path], mini_dataset: Path, gm_sft_run: Path, tmp_path: Path, recipe_argv
) -> None:
    from training.data import load_splits

    # Through the kit's loader: `datasets.load_dataset(folder)` keys its cache on the folder *name*, and
    # other tests load altered copies of a folder also named `redditess`.
    pairs = load_splits(str(mini_dataset), "preference", ["train[:8]"])["train[:8]"]
    pairs_file = tmp_path / "human" / "pairs.jsonl"
    pairs_file.parent.mkdir()
    pairs.to_json(str(pairs_file))
    (pairs_file.parent / "manifest.json").write_text(json.dumps({"version": "human-0.1"}))
    common = {"model_name_or_path": tiny_models["tiny-llama"], "max_steps": 2, "save_strategy": "no"}
    dpo1 = tmp_path / "gm-dpo"
    dpo.cli(
        recipe_argv(
            "gm-dpo",
            **common,
            dataset_name=mini_dataset,
            parent_run=gm_sft_run,
            output_dir=dpo1,
            eval_strategy="no",
        )
    )
    dpo2 = tmp_path / "gm-dpo2"
    dpo.cli(recipe_argv("gm-dpo2", **common, dataset_name=pairs_file, parent_run=dpo1, output_dir=dpo2))
    record = json.loads((dpo2 / "redditess_run.json").read_text())
    assert record["stage"] == "gm-dpo2" and record["parent_adapter"] == str(dpo1.resolve())
    assert record["dataset"]["version"] == "human-0.1" and record["dataset"]["config"] is None
    assert json.loads((dpo2 / "train_results.json").read_text())["train_samples"] == 8


def test_im_dpo_on_improvement_pairs(
    tiny_models: dict[str, Path], mini_dataset: Path, gm_sft_run: Path, tmp_path: Path, recipe_argv
) -> None:
    out = tmp_path / "im-dpo"
    dpo.cli(
        recipe_argv(
            "im-dpo",
            model_name_or_path=tiny_models["tiny-llama"],
            dataset_name=mini_dataset,
            parent_run=gm_sft_run,
            output_dir=out,
            max_steps=2,
            eval_steps=2,
            save_strategy="no",
        )
    )
    record = json.loads((out / "redditess_run.json").read_text())
    assert record["dataset"]["config"] == "improvement" and record["stage"] == "im-dpo"


def _recipe_without_parent(tmp_path: Path, recipe: str = "gm-dpo") -> Path:
    """The tiny DPO recipe with its `parent_run` line removed (a YAML default cannot be unset on the CLI)."""
    text = (RECIPES_DIR / "tiny" / f"{recipe}.yaml").read_text()
    lines = [line for line in text.splitlines() if not line.startswith("parent_run:")]
    assert len(lines) == len(text.splitlines()) - 1
    path = tmp_path / f"{recipe}-from-base.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("use_peft", [True, False])
def test_dpo_without_parent_run_trains_from_the_base_with_the_base_as_reference(
    tiny_models: dict[str, Path], mini_dataset: Path, tmp_path: Path, caplog, use_peft: bool
) -> None:
    """TRL's own DPO script: the policy starts as the base model and the reference is the base model
    (LoRA: the adapter disabled; full weights: a frozen copy of the base)."""
    llama = tiny_models["tiny-llama"]
    out = tmp_path / "gm-dpo-base"
    argv = ["--config", str(_recipe_without_parent(tmp_path))]
    overrides = {
        "model_name_or_path": llama,
        "dataset_name": mini_dataset,
        "output_dir": out,
        "max_steps": 2,
        "logging_steps": 1,
        "eval_strategy": "no",
        "save_strategy": "no",
        "use_peft": use_peft,
        "load_in_4bit": use_peft,  # full-weight training of a 4-bit model is not possible
        "log_level": "info",
    }
    for key, value in overrides.items():
        argv += [f"--{key}", str(value)]
    seen = {}

    class Reference(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            seen["peft"] = hasattr(model, "disable_adapter")

    with caplog.at_level(logging.INFO, logger="training"):
        script_args, training_args, model_args = dpo.parse_recipe(dpo.DATACLASSES, argv)
        assert script_args.parent_run is None
        dpo.main(script_args, training_args, model_args, callbacks=[Reference()])
    assert "DPO mode: from_base" in caplog.text
    record = json.loads((out / "redditess_run.json").read_text())
    assert record["dpo_mode"] == "from_base" and record["parent_adapter"] is None
    assert record["base_model"] == str(llama.resolve())
    assert record["chat_format"]["decided_by"] == "template"
    assert seen["peft"] is use_peft
    # Policy == reference at step 0: the first DPO loss is ln 2.
    log = json.loads((out / "trainer_state.json").read_text())["log_history"]
    losses = [h["loss"] for h in log if "loss" in h]
    assert abs(losses[0] - 0.6931) < 1e-3, losses
    if use_peft:
        adapter = json.loads((out / "adapter_config.json").read_text())
        assert adapter["base_model_name_or_path"] == str(llama.resolve())
    else:
        assert (out / "model.safetensors").is_file() and not (out / "adapter_config.json").exists()
