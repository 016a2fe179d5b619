"""A model whose chat template rejects a system turn (Mistral-7B-Instruct-v0.2's) goes through the whole kit:
SFT -> DPO -> `eval generate` -> LLM judge -> `assist draft`, trained on a build with a custom system prompt
that eval and assist read back from the run record.

Before the one system-turn policy, `python -m eval generate` on such a model stopped with
`TemplateError: Conversation roles must alternate user/assistant/...`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from redditess_core.prompts import IMPROVE_SYSTEM_PROMPT, SYSTEM_PROMPT, draft_messages, improve_messages

pytestmark = pytest.mark.slow

KEY = b"redditess-system-turn-test-key-not-secret"
CUSTOM_SYSTEM = "You help peer supporters in a student community write short, kind and specific replies."


@pytest.fixture(scope="module")
def custom_build(demo_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic sample built by the real builder with a custom `system_prompt`."""
    from dataset_builder.config import BuildConfig
    from dataset_builder.pipeline import build

    out = tmp_path_factory.mktemp("custom-build") / "redditess"
    cfg = BuildConfig(inputs=[demo_raw], out=out, version="0.1.0-custom", seed=0, system_prompt=CUSTOM_SYSTEM)
    build(cfg, key=KEY)
    assert json.loads((out / "manifest.json").read_text())["parameters"]["system_prompt"] == CUSTOM_SYSTEM
    return out


def test_mistral_style_template_through_sft_dpo_generate_judge_assist(
    tiny_mistral: Path, custom_build: Path, mini_dataset: Path, tmp_path: Path, recipe_argv
) -> None:
    from assist.__main__ import main as assist_main
    from assist.model import load
    from eval.__main__ import main as eval_main
    from training import dpo, sft

    common = {
        "model_name_or_path": tiny_mistral,
        "dataset_name": custom_build,
        "max_steps": 2,
        "max_length": 256,
        "eval_strategy": "no",
        "save_strategy": "no",
    }
    sft_run, dpo_run = tmp_path / "gm-sft", tmp_path / "gm-dpo"
    sft.cli(recipe_argv("gm-sft", **common, output_dir=sft_run))
    sft_record = json.loads((sft_run / "redditess_run.json").read_text())
    assert sft_record["chat_format"] == {
        "fold_system_turn": True,
        "decided_by": "template",
        "system_prompt": CUSTOM_SYSTEM,
        "task": "gm",
    }
    dpo.cli(recipe_argv("gm-dpo", **common, parent_run=sft_run, output_dir=dpo_run))
    dpo_record = json.loads((dpo_run / "redditess_run.json").read_text())
    assert dpo_record["dpo_mode"] == "continue"
    assert dpo_record["chat_format"] == {**sft_record["chat_format"], "decided_by": "parent run"}

    # eval generate, on a dataset whose rows carry another system turn: the model is asked with its own.
    generated = tmp_path / "gen-dpo.jsonl"
    eval_main(
        ["generate", "--model", str(tiny_mistral), "--adapter", str(dpo_run), "--dataset", str(mini_dataset)]
        + ["--split", "validation", "--output", str(generated), "--max_samples", "3", "--max_new_tokens", "6"]
    )
    records = [json.loads(line) for line in generated.read_text().splitlines()]
    assert len(records) == 3 and all(isinstance(r["response"], str) for r in records)
    assert {r["prompt"][0]["content"] for r in records} == {CUSTOM_SYSTEM}
    settings = records[0]["provenance"]["settings"]
    assert settings["chat_format"] == {**dpo_record["chat_format"], "decided_by": "run record"}
    # `--system_prompt dataset` keeps the evaluated rows' own system turn.
    as_dataset = tmp_path / "gen-dataset-system.jsonl"
    eval_main(
        ["generate", "--model", str(tiny_mistral), "--adapter", str(dpo_run), "--dataset", str(mini_dataset)]
        + [
            "--split",
            "validation",
            "--output",
            str(as_dataset),
            "--max_samples",
            "3",
            "--max_new_tokens",
            "6",
        ]
        + ["--system_prompt", "dataset"]
    )
    assert CUSTOM_SYSTEM not in as_dataset.read_text()
    # The base model has no run record: the template decides (fold), and generation works too.
    base_gen = tmp_path / "gen-base.jsonl"
    eval_main(
        ["generate", "--model", str(tiny_mistral), "--dataset", str(custom_build), "--split", "test"]
        + ["--output", str(base_gen), "--max_samples", "3", "--max_new_tokens", "6", "--log_level", "warning"]
    )
    base_settings = json.loads(base_gen.read_text().splitlines()[0])["provenance"]["settings"]
    assert base_settings["chat_format"]["fold_system_turn"] is True
    assert base_settings["chat_format"]["decided_by"] == "template"

    # LLM judge: the DPO model judges its own drafts against the base model's, with the validity check.
    dpo_gen = tmp_path / "gen-dpo-test.jsonl"
    eval_main(
        ["generate", "--model", str(tiny_mistral), "--adapter", str(dpo_run), "--dataset", str(custom_build)]
        + ["--split", "test", "--output", str(dpo_gen), "--max_samples", "3", "--max_new_tokens", "6"]
    )
    judged = tmp_path / "judge"
    eval_main(
        [
            "judge",
            "--a",
            str(dpo_gen),
            "--b",
            str(base_gen),
            "--judge",
            "llm",
            "--judge_model",
            str(tiny_mistral),
        ]
        + ["--judge_adapter", str(dpo_run), "--output_dir", str(judged), "--dataset", str(custom_build)]
        + ["--validity_split", "test", "--validity_max_posts", "4"]
    )
    summary = json.loads((judged / "judge.json").read_text())
    assert summary["judge"] == "llm" and summary["n"] == 3
    assert summary["provenance"]["judge"]["chat_format"]["fold_system_turn"] is True
    assert len((judged / "verdicts.jsonl").read_text().splitlines()) == 3

    # assist draft: the adapter's run record gives the system turn and the fold.
    loaded = load(str(dpo_run))
    assert loaded.chat_format.fold_system_turn and loaded.chat_format.system_prompt == CUSTOM_SYSTEM
    asked = loaded.chat_format.conversation(draft_messages("Exams", "I cannot sleep."))
    assert asked == [{"role": "user", "content": f"{CUSTOM_SYSTEM}\n\nExams\n\nI cannot sleep."}]
    assert SYSTEM_PROMPT not in asked[0]["content"]
    # A revision prompt keeps its own system turn: the recorded one was trained for drafting (gm).
    revise = loaded.chat_format.conversation(improve_messages("Exams", "I cannot sleep.", "ok"), "im")
    assert revise[0]["content"].startswith(IMPROVE_SYSTEM_PROMPT)
    post = tmp_path / "post.txt"
    post.write_text("Exams are coming\nI cannot sleep and I feel alone before every exam.\n")
    out = tmp_path / "draft.json"
    status = assist_main(
        ["draft", "--adapter", str(dpo_run), "--post", str(post), "--max_new_tokens", "6"]
        + ["--format", "json", "--out", str(out), "--log_level", "warning"]
    )
    assert status == 0
    result = json.loads(out.read_text())
    assert isinstance(result["reply"], str) and result["mode"] == "draft"
