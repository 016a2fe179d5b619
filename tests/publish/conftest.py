"""Fixtures of the publishing tests: a Hub-protocol server, a contract-shaped dataset folder, a tiny adapter run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from hub_client import ORGS, TOKENS
from hub_server import HubServer


@pytest.fixture
def hub():
    with HubServer(TOKENS, ORGS) as server:
        yield server


@pytest.fixture
def contract_folder(demo_dataset: Path, tmp_path: Path) -> Path:
    """A writable copy of the shared demo build (the real builder's folder, named `redditess`)."""
    return Path(shutil.copytree(demo_dataset, tmp_path / "redditess"))


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.tiny import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("models") / "tiny-llama")


@pytest.fixture(scope="session")
def adapter_run(tiny_llama: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory as training leaves it: a real LoRA adapter (non-zero B, so it changes the logits),
    the tokenizer, redditess_run.json, redditess_config.yaml and eval_results.json."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    run = tmp_path_factory.mktemp("runs") / "gm-dpo"
    torch.manual_seed(1)
    model = AutoModelForCausalLM.from_pretrained(tiny_llama)
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    peft_model.save_pretrained(run)
    AutoTokenizer.from_pretrained(tiny_llama).save_pretrained(run)
    record = {
        "stage": "gm-dpo",
        "script": "training/dpo.py",
        "base_model": str(tiny_llama),
        "parent_adapter": str(run.parent / "gm-sft"),
        "dataset": {"path": "/home/someone/data/redditess", "config": "preference", "version": "0.1.0"},
        "world_size": 1,
        "libraries": {"peft": "0.21.2", "trl": "1.16.0"},
        "finished_utc": "2026-11-22T01:00:00Z",
        "load_in_4bit": False,
        "beta": 0.1,
    }
    (run / "redditess_run.json").write_text(json.dumps(record), encoding="utf-8")
    config = {"learning_rate": 5e-5, "max_steps": 10, "beta": 0.1, "lora_r": 4, "output_dir": str(run)}
    (run / "redditess_config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (run / "eval_results.json").write_text(json.dumps({"eval_loss": 0.69, "eval_rewards/accuracies": 0.5}))
    (run / "trainer_state.json").write_text("{}")
    return run


@pytest.fixture(scope="session")
def im_adapter_run(tiny_llama: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second real LoRA adapter on the same tiny base (the Improvement Model of the assist tests)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    run = tmp_path_factory.mktemp("runs") / "im-dpo"
    torch.manual_seed(2)
    model = AutoModelForCausalLM.from_pretrained(tiny_llama)
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    peft_model.save_pretrained(run)
    AutoTokenizer.from_pretrained(tiny_llama).save_pretrained(run)
    return run
