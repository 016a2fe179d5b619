"""Fixtures of the training tests: tiny models built offline, and the data the scripts train on: the session's
RedditESS folder built by the real builder from the synthetic sample (`demo_dataset`, tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """tiny-llama and tiny-encoder built by `training.tiny` (the same builder the demo uses)."""
    from training.tiny import build_all

    return build_all(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture(scope="session")
def mini_dataset(demo_dataset: Path) -> Path:
    """The session's RedditESS folder built by the real builder from the synthetic sample (tests/conftest.py):
    the training scripts read what a build writes, turns and columns included, not a hand-made copy."""
    return demo_dataset


def _recipe_argv(recipe: str, **overrides: object) -> list[str]:
    """argv for a script: the tiny recipe plus `--key value` overrides (None values are skipped)."""
    from training import RECIPES_DIR

    argv = ["--config", str(RECIPES_DIR / "tiny" / f"{recipe}.yaml")]
    for key, value in overrides.items():
        if value is not None:
            argv += [f"--{key}", str(value)]
    return argv


@pytest.fixture(scope="session")
def gm_sft_run(
    tiny_models: dict[str, Path], mini_dataset: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A finished tiny GM SFT run (4-bit QLoRA), reused by the DPO tests as the parent stage."""
    import torch

    from training import sft

    threads = torch.get_num_threads()
    out = tmp_path_factory.mktemp("runs") / "gm-sft"
    sft.cli(
        _recipe_argv(
            "gm-sft",
            model_name_or_path=tiny_models["tiny-llama"],
            dataset_name=mini_dataset,
            output_dir=out,
            max_steps=6,
            eval_steps=3,
            save_steps=3,
        )
    )
    torch.set_num_threads(threads)
    return out


@pytest.fixture(scope="session")
def recipe_argv():
    """`recipe_argv("gm-sft", output_dir=...)`: argv of a tiny recipe with command-line overrides."""
    return _recipe_argv


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """The tiny recipes set `torch_threads: 1` in-process; give other test areas their thread count back."""
    import torch

    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_mistral(tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny causal LM with Mistral-7B-Instruct-v0.2's chat template (rejects a system turn)."""
    import shutil

    from tiny_templates import MISTRAL_V02_TEMPLATE
    from transformers import AutoTokenizer

    out = tmp_path_factory.mktemp("tiny-mistral") / "tiny-mistral"
    shutil.copytree(tiny_models["tiny-llama"], out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    tokenizer.chat_template = MISTRAL_V02_TEMPLATE
    tokenizer.save_pretrained(out)
    return out
