"""Fixtures of the training tests: tiny models built offline and a small RedditESS-shaped folder.

The mini folder follows DESIGN.md's data contract (README.md with YAML `configs:`, data/<config>/<split>-*.parquet,
manifest.json with a version) so the scripts load it exactly as they load a real build; the demo dataset
built by the real builder is used where the tests need realistic text.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

SYSTEM = "You are a supportive peer in an online mental-health community."
POSTS = [
    "I have been feeling anxious and alone for weeks.",
    "My depression makes it hard to get out of bed.",
    "Exams are next week and I cannot sleep from stress.",
    "I keep having flashbacks and I feel unsafe at night.",
    "Work is overwhelming and I cancel every plan I make.",
    "I finally told my sister how I feel and I am scared.",
]
GOOD = [
    "You are not alone. It makes sense that you feel overwhelmed, and reaching out is a brave step.",
    "That sounds really hard. Something that helped me was breathing in for four and out for six.",
    "I am proud of you for posting. Have you been able to talk to a therapist about this?",
]
BAD = ["just get over it", "lol same", "whatever works i guess"]
MINI_VERSION = "0.0.1-mini"


def _rows(n: int, seed: int) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    out: dict[str, list[dict]] = {"sft": [], "preference": [], "improvement": [], "effective_support": []}
    for i in range(n):
        post = POSTS[i % len(POSTS)]
        good, bad = GOOD[rng.randrange(len(GOOD))], BAD[rng.randrange(len(BAD))]
        prompt = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": post}]
        out["sft"].append({"messages": [*prompt, {"role": "assistant", "content": good}], "post_id": f"p{i}"})
        out["preference"].append(
            {
                "prompt": prompt,
                "chosen": [{"role": "assistant", "content": good}],
                "rejected": [{"role": "assistant", "content": bad}],
                "post_id": f"p{i}",
            }
        )
        draft = good.split(".")[0]
        out["improvement"].append(
            {
                "prompt": [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": f"Post: {post}\n\nDraft reply to revise: {draft}"},
                ],
                "chosen": [{"role": "assistant", "content": good}],
                "rejected": [{"role": "assistant", "content": draft}],
                "post_id": f"p{i}",
            }
        )
        for j, (text, label) in enumerate([(good, 1), (bad, 0), (BAD[(i + 1) % 3], 0)]):
            out["effective_support"].append(
                {
                    "post_id": f"p{i}",
                    "comment_id": f"c{i}_{j}",
                    "post_title": post[:20],
                    "post_text": post,
                    "comment_text": text,
                    "label": label,
                    "subreddit": "Anxiety",
                    "is_sensitive": False,
                }
            )
    return out


def write_mini_redditess(folder: Path, n_train: int = 24, n_val: int = 6) -> Path:
    """Write a small folder with the contract's layout, configs and columns (labels as ClassLabel)."""
    import datasets

    folder.mkdir(parents=True, exist_ok=True)
    cards = []
    for split, n, seed in (("train", n_train, 0), ("validation", n_val, 1)):
        for config, rows in _rows(n, seed).items():
            ds = datasets.Dataset.from_list(rows)
            if config == "effective_support":
                ds = ds.cast_column("label", datasets.ClassLabel(names=["not_effective", "effective"]))
            path = folder / "data" / config / f"{split}-00000-of-00001.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            ds.to_parquet(str(path))
    for config in ("effective_support", "sft", "preference", "improvement"):
        default = "\n    default: true" if config == "effective_support" else ""
        cards.append(
            f"  - config_name: {config}{default}\n    data_files:\n"
            f"      - split: train\n        path: data/{config}/train-*.parquet\n"
            f"      - split: validation\n        path: data/{config}/validation-*.parquet"
        )
    (folder / "README.md").write_text("---\nconfigs:\n" + "\n".join(cards) + "\n---\n# mini RedditESS\n")
    (folder / "manifest.json").write_text(json.dumps({"version": MINI_VERSION}))
    return folder


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """tiny-llama and tiny-encoder built by `training.tiny` (the same builder the demo uses)."""
    from training.tiny import build_all

    return build_all(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture(scope="session")
def mini_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mini_redditess(tmp_path_factory.mktemp("mini") / "redditess")


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
