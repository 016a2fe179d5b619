"""Publishing an adapter run: the model card, the uploaded tree, and PeftModel loading it back by repo id and tag."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from hub_client import client_env, push_folder, run, run_python
from huggingface_hub import ModelCard

from cards.model_card import ModelCardInputs, render_model_card
from cards.validate import validate_folder

LOGITS = """
import json, torch
from peft import PeftModel
from transformers import AutoModelForCausalLM
base = AutoModelForCausalLM.from_pretrained(%r)
model = PeftModel.from_pretrained(base, %r, revision=%r).eval()
with torch.no_grad():
    print(json.dumps(model(torch.tensor([[1, 5, 9, 12, 40, 7]])).logits.flatten().tolist()))
"""


def _local_logits(base_path: Path, adapter_path: Path) -> tuple[list[float], list[float]]:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    ids = torch.tensor([[1, 5, 9, 12, 40, 7]])
    with torch.no_grad():
        base_logits = AutoModelForCausalLM.from_pretrained(base_path).eval()(ids).logits.flatten().tolist()
        model = PeftModel.from_pretrained(
            AutoModelForCausalLM.from_pretrained(base_path), str(adapter_path)
        ).eval()
        return model(ids).logits.flatten().tolist(), base_logits


def test_model_card_metadata_and_sections(adapter_run: Path) -> None:
    report = {"split": "test", "metrics": {"win_rate": 0.62, "distinct_2": 0.41, "note": "text is skipped"}}
    text = render_model_card(
        adapter_run,
        ModelCardInputs(repo_id="lab/gm", base_model_id="org/base", eval_reports={"metrics": report}),
    )
    card = ModelCard(text)
    data = card.data.to_dict()
    assert data["base_model"] == "org/base" and data["library_name"] == "peft"
    assert data["datasets"] == ["redditess"]  # the local dataset path is reduced to its name
    results = {(r.dataset_split, r.metric_type): r.metric_value for r in card.data.eval_results}
    # model-index holds task metrics only: the trainer's eval_loss / rewards stay in the training section
    assert results == {("test", "win_rate"): 0.62, ("test", "distinct_2"): 0.41}
    assert "| eval_loss | 0.69 |" in card.text
    # a DPO stage continued from an SFT adapter: both methods tagged, DPO and TRL cited
    assert {"trl", "sft", "dpo", "gm-dpo"} <= set(data["tags"])
    for needle in [
        "@inproceedings{rafailov2023direct",
        "@software{vonwerra2020trl",
        "@misc{alghamdi2025redditess",
    ]:
        assert needle in card.text, needle
    assert 'AutoModelForCausalLM.from_pretrained("org/base"' in card.text
    assert 'PeftModel.from_pretrained(base, "lab/gm", revision="main")' in card.text
    for needle in [
        "not a therapist",
        "Call or text 988",
        "Samaritans",
        "| learning_rate | 5e-05 |",
        "version `0.1.0`",
    ]:
        assert needle in card.text, needle
    assert "/home/someone" not in text and str(adapter_run.parent) not in text


def _run_copy(adapter_run: Path, tmp_path: Path, **record: object) -> Path:
    run = tmp_path / adapter_run.name
    shutil.copytree(adapter_run, run)
    data = json.loads((run / "redditess_run.json").read_text())
    data.update(record)
    (run / "redditess_run.json").write_text(json.dumps(data))
    return run


def test_sft_tag_and_citations_follow_the_training_methods(adapter_run: Path, tmp_path: Path) -> None:
    def tags_and_text(**record: object) -> tuple[set[str], str]:
        run = _run_copy(adapter_run, tmp_path / str(len(list(tmp_path.iterdir()))), **record)
        card = ModelCard(render_model_card(run, ModelCardInputs(base_model_id="org/base")))
        return set(card.data.tags), card.text

    tags, text = tags_and_text(stage="gm-sft", script="training/sft.py", parent_adapter=None)
    assert {"trl", "sft"} <= tags and "dpo" not in tags
    assert "vonwerra2020trl" in text and "rafailov2023direct" not in text
    tags, text = tags_and_text(
        stage="gm-dpo", script="training/dpo.py", parent_adapter=None
    )  # DPO on the base
    assert {"trl", "dpo"} <= tags and "sft" not in tags and "rafailov2023direct" in text
    tags, text = tags_and_text(stage="classifier", script="training/classifier.py", parent_adapter=None)
    assert not {"trl", "sft", "dpo"} & tags and "vonwerra2020trl" not in text
    assert "AutoModelForSequenceClassification" in text


def test_model_index_takes_task_metrics_of_each_eval_report(adapter_run: Path) -> None:
    classify = {
        "split": "test",
        "threshold": 0.42,
        "positive_label": "effective",
        "metrics": {"accuracy": 0.8, "f1": 0.75, "mcc": 0.5, "n": 200, "positive_rate": 0.4, "roc_auc": 0.9},
        "baselines": {"majority": {"f1": 0.0}},
    }
    judge = {
        "system_a": "gm-dpo",
        "system_b": "base",
        "judge": "classifier",
        "valid": False,
        "win_rate": 0.58,
        "ci_low": 0.5,
        "n": 40,
        "tie_margin": 0.05,
    }
    linguistic = {
        "systems": {
            "gm-dpo": {"n": 40, "mean_words": 60.0, "distinct_2": 0.41, "flesch_reading_ease": 70.0},
            "base": {"n": 40, "mean_words": 50.0, "distinct_2": 0.3, "flesch_reading_ease": 60.0},
            "human (reference)": {"n": 40, "distinct_2": 0.5},
        },
        "n_prompts": 40,
    }
    reports = {"metrics": classify, "judge": judge, "linguistic": linguistic}
    card = ModelCard(
        render_model_card(
            adapter_run, ModelCardInputs(base_model_id="org/base", eval_reports=reports, eval_system="gm-dpo")
        )
    )
    got = {(r.metric_type, r.metric_name): r.metric_value for r in card.data.eval_results}
    assert got == {
        ("accuracy", "accuracy"): 0.8,
        ("f1", "F1 (effective)"): 0.75,
        ("matthews_correlation", "MCC"): 0.5,
        ("roc_auc", "ROC AUC"): 0.9,
        ("win_rate", "win rate of gm-dpo over base (classifier, judge not validated)"): 0.58,
        ("flesch_reading_ease", "flesch reading ease"): 70.0,
        ("distinct_2", "distinct 2"): 0.41,
    }
    # without --eval-system, a linguistic report of two models gives nothing rather than a guess
    card = ModelCard(
        render_model_card(adapter_run, ModelCardInputs(base_model_id="org/base", eval_reports=reports))
    )
    assert not any(r.metric_type == "distinct_2" for r in card.data.eval_results)
    with pytest.raises(ValueError, match="no system 'gm-sft'"):
        render_model_card(
            adapter_run, ModelCardInputs(base_model_id="org/base", eval_reports=reports, eval_system="gm-sft")
        )


@pytest.mark.parametrize(
    ("base_model", "message"),
    [
        (None, "the run's base model is a local path (folder 'tiny-llama')"),
        ("/opt/models/tiny-llama", "--base-model 'tiny-llama' is a local path"),
        ("./tiny-llama", "--base-model 'tiny-llama' is a local path"),
        ("~/tiny-llama", "--base-model 'tiny-llama' is a local path"),
        ("models/org/tiny-llama", "is not a Hub model id"),
        ("org/tiny llama", "is not a Hub model id"),
    ],
)
def test_publishing_refuses_a_base_model_that_is_not_a_hub_id(
    hub, adapter_run: Path, tmp_path: Path, base_model: str | None, message: str
) -> None:
    args = ["-m", "publish", "adapter", str(adapter_run), "--repo", "lab/gm", "--dry-run"]
    args += ["--dry-run-dir", str(tmp_path / "dry")]
    out = run(
        [*args, *(["--base-model", base_model] if base_model else [])], client_env(hub.endpoint, tmp_path)
    )
    assert out.returncode == 2 and message in out.stderr, out.stderr
    assert "--base-model" in out.stderr and not (tmp_path / "dry").exists()
    assert str(adapter_run.parent) not in out.stderr  # the message names the folder, not its path
    assert hub.state.requests == []


def test_validate_checks_the_published_base_model(hub, adapter_run: Path, tmp_path: Path) -> None:
    args = ["-m", "publish", "adapter", str(adapter_run), "--repo", "lab/gm", "--base-model", "org/base"]
    out = run(
        [*args, "--dry-run", "--dry-run-dir", str(tmp_path / "dry")], client_env(hub.endpoint, tmp_path)
    )
    assert out.returncode == 0, out.stderr
    tree = tmp_path / "dry" / "tree"
    assert validate_folder(tree).ok
    config = json.loads((tree / "adapter_config.json").read_text())
    (tree / "adapter_config.json").write_text(json.dumps({**config, "base_model_name_or_path": "tiny-llama"}))
    assert any("differs from the card's base_model" in e for e in validate_folder(tree).errors)
    readme = (tree / "README.md").read_text()
    (tree / "README.md").write_text(readme.replace("base_model: org/base", "base_model: /opt/models/base", 1))
    assert any("base_model 'base' is a local path" in e for e in validate_folder(tree).errors)


def test_quick_start_prompt_follows_the_runs_system_turn_policy(adapter_run: Path, tmp_path: Path) -> None:
    from publish.adapter import example_messages

    run_dir = _run_copy(adapter_run, tmp_path)
    assert [m["role"] for m in example_messages(run_dir, {"stage": "gm-dpo"})] == ["system", "user"]
    folded = example_messages(run_dir, {"stage": "im-sft", "fold_system_turn": True})
    assert [m["role"] for m in folded] == ["user"] and "Draft reply to revise" in folded[0]["content"]
    config = yaml.safe_load((run_dir / "redditess_config.yaml").read_text())
    (run_dir / "redditess_config.yaml").write_text(yaml.safe_dump({**config, "fold_system_turn": True}))
    assert [m["role"] for m in example_messages(run_dir, {"stage": "gm-sft"})] == ["user"]
    assert example_messages(run_dir, {"stage": "classifier"}) is None


def test_publish_log_level(hub, adapter_run: Path, tmp_path: Path) -> None:
    args = ["-m", "publish", "adapter", str(adapter_run), "--repo", "lab/gm", "--base-model", "org/base"]
    args += ["--dry-run", "--dry-run-dir", str(tmp_path / "dry")]
    env = client_env(hub.endpoint, tmp_path)
    default = run(args, env)
    assert default.returncode == 0 and "INFO publish.adapter: base model org/base" in default.stderr
    quiet = run([*args, "--log_level", "warning"], env)
    assert quiet.returncode == 0 and "INFO" not in quiet.stderr, quiet.stderr


def test_publishing_refuses_a_base_model_missing_from_the_hub(hub, adapter_run: Path, tmp_path: Path) -> None:
    args = [
        "-m",
        "publish",
        "adapter",
        str(adapter_run),
        "--repo",
        "lab/gm",
        "--base-model",
        "lab/no-such-model",
    ]
    out = run(args, client_env(hub.endpoint, tmp_path))
    assert out.returncode == 2 and "Base model lab/no-such-model is not a model on the Hub" in out.stderr
    assert ("model", "lab/gm") not in hub.state.repos  # refused before anything was created


def test_a_run_recording_a_hub_base_needs_no_flag(adapter_run: Path, tmp_path: Path) -> None:
    run_dir = _run_copy(adapter_run, tmp_path, base_model="lab/tiny-llama")
    card = ModelCard(render_model_card(run_dir, ModelCardInputs()))
    assert card.data.base_model == "lab/tiny-llama"


def test_adapter_round_trip_reproduces_local_logits(
    hub, adapter_run: Path, tiny_llama: Path, tmp_path: Path
) -> None:
    env = client_env(hub.endpoint, tmp_path / "hf-home")
    judge = tmp_path / "judge.json"
    judge.write_text(
        json.dumps(
            {"judge": "classifier", "system_a": "gm-dpo", "system_b": "base", "win_rate": 0.58, "n": 40}
        )
    )
    args = ["-m", "publish", "adapter", str(adapter_run), "--repo", "lab/gm", "--tag", "v0.1.0"]
    args += ["--eval-report", str(judge)]
    dry = run(
        [*args, "--base-model", "lab/tiny-llama", "--dry-run", "--dry-run-dir", str(tmp_path / "dry")], env
    )
    assert dry.returncode == 0, dry.stderr
    assert hub.state.requests == []
    assert validate_folder(tmp_path / "dry" / "tree").ok
    card = ModelCard((tmp_path / "dry" / "tree" / "README.md").read_text())
    assert (
        "| evaluation/judge.json | test | win rate of gm-dpo over base (classifier, judge not validated) | 0.58 |"
        in card.text
    )
    config = json.loads((tmp_path / "dry" / "tree" / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "lab/tiny-llama" == card.data.base_model
    assert (tmp_path / "dry" / "tree" / "evaluation" / "judge.json").is_file()

    push_folder(tiny_llama, "lab/tiny-llama", env)
    done = run([*args, "--base-model", "lab/tiny-llama"], env)
    assert done.returncode == 0, done.stderr
    repo = hub.state.repos[("model", "lab/gm")]
    assert done.stdout.strip().splitlines()[-1] == f"{hub.endpoint}/lab/gm/commit/{repo.tags['v0.1.0']}"
    uploaded = hub.files("model", "lab/gm", "v0.1.0")
    assert "trainer_state.json" not in uploaded and "README.md" in uploaded
    assert str(adapter_run) not in uploaded["redditess_config.yaml"].decode()
    dry_tree = tmp_path / "dry" / "tree"
    dry_files = {
        p.relative_to(dry_tree).as_posix(): p.read_bytes() for p in dry_tree.rglob("*") if p.is_file()
    }
    assert set(uploaded) - {".gitattributes"} == set(dry_files)
    assert uploaded["adapter_model.safetensors"] == dry_files["adapter_model.safetensors"]

    remote = run_python(LOGITS % (str(tiny_llama), "lab/gm", "v0.1.0"), env)
    assert remote.returncode == 0, remote.stderr[-3000:]
    remote_logits = json.loads(remote.stdout.strip().splitlines()[-1])
    local_logits, base_logits = _local_logits(tiny_llama, adapter_run)
    assert remote_logits == local_logits
    assert base_logits != remote_logits  # the adapter really changes the output

    # the card's quick start runs as written: base by its Hub id, adapter by repo id and tag
    readme = uploaded["README.md"].decode()
    snippet = readme.split("## Quick start", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert 'from_pretrained("lab/tiny-llama"' in snippet and 'revision="v0.1.0"' in snippet
    assert '"role": "system"' in snippet and "Lonely in my first semester" in snippet  # the kit's prompt
    quick = run_python(snippet.replace("max_new_tokens=200", "max_new_tokens=5"), env)
    assert quick.returncode == 0, quick.stderr[-3000:]


def test_adapter_without_weights_is_refused(tmp_path: Path, hub) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "adapter_config.json").write_text("{}")
    out = run(
        ["-m", "publish", "adapter", str(tmp_path / "run"), "--repo", "lab/gm", "--dry-run"],
        client_env(hub.endpoint, tmp_path / "h"),
    )
    assert out.returncode == 2 and "missing adapter_model.safetensors" in out.stderr
