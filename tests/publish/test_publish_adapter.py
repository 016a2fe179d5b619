"""Publishing an adapter run: the model card, the uploaded tree, and PeftModel loading it back by repo id and tag."""

from __future__ import annotations

import json
from pathlib import Path

from hub_client import client_env, run, run_python
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
    assert results == {
        ("validation", "loss"): 0.69,
        ("validation", "rewards/accuracies"): 0.5,
        ("test", "win_rate"): 0.62,
        ("test", "distinct_2"): 0.41,
    }
    for needle in [
        "not a therapist",
        "Call or text 988",
        "Samaritans",
        "| learning_rate | 5e-05 |",
        "version `0.1.0`",
    ]:
        assert needle in card.text, needle
    assert "/home/someone" not in text and str(adapter_run.parent) not in text


def test_adapter_round_trip_reproduces_local_logits(
    hub, adapter_run: Path, tiny_llama: Path, tmp_path: Path
) -> None:
    env = client_env(hub.endpoint, tmp_path / "hf-home")
    judge = tmp_path / "judge.json"
    judge.write_text(json.dumps({"judge": "classifier", "system_a": "gm-dpo", "win_rate": 0.58, "n": 40}))
    args = ["-m", "publish", "adapter", str(adapter_run), "--repo", "lab/gm", "--tag", "v0.1.0"]
    args += ["--eval-report", str(judge)]
    dry = run([*args, "--dry-run", "--dry-run-dir", str(tmp_path / "dry")], env)
    assert dry.returncode == 0, dry.stderr
    assert hub.state.requests == []
    assert validate_folder(tmp_path / "dry" / "tree").ok
    card = ModelCard((tmp_path / "dry" / "tree" / "README.md").read_text())
    assert "| evaluation kit: judge | test | win_rate | 0.58 |" in card.text
    assert (tmp_path / "dry" / "tree" / "evaluation" / "judge.json").is_file()

    done = run([*args, "--base-model", str(tiny_llama)], env)
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


def test_adapter_without_weights_is_refused(tmp_path: Path, hub) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "adapter_config.json").write_text("{}")
    out = run(
        ["-m", "publish", "adapter", str(tmp_path / "run"), "--repo", "lab/gm", "--dry-run"],
        client_env(hub.endpoint, tmp_path / "h"),
    )
    assert out.returncode == 2 and "missing adapter_model.safetensors" in out.stderr
