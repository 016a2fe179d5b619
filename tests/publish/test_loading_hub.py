"""`redditess_core.loading` on a Hub id at a revision: the builder's demo folder published to the Hub-protocol
test server, then loaded back by repo id and tag through the real `datasets.load_dataset`."""

from __future__ import annotations

import json
from pathlib import Path

from hub_client import client_env, run, run_python
from huggingface_hub import ModelCard

from cards.model_card import ModelCardInputs, render_model_card
from redditess_core.loading import load_split

LOAD = """
import json
from redditess_core.loading import DatasetContractError, load_splits
out = load_splits("lab/redditess", "preference", ["train", "test"], revision=%r)
rows = {split: ds.to_list() for split, ds in out.items()}
try:
    load_splits("lab/redditess", "preference", ["train"], revision=%r, expected_config="sft")
except DatasetContractError as err:
    rows["error"] = str(err)
print(json.dumps(rows))
"""


def test_a_hub_id_loads_at_its_tag(hub, demo_dataset: Path, tmp_path: Path) -> None:
    env = client_env(hub.endpoint, tmp_path / "hf-home")
    version = json.loads((demo_dataset / "manifest.json").read_text())["version"]
    done = run(["-m", "publish", "dataset", str(demo_dataset), "--repo", "lab/redditess"], env)
    assert done.returncode == 0, done.stderr
    tag = f"v{version}"

    loaded = run_python(LOAD % (tag, tag), env)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    got = json.loads(loaded.stdout.strip().splitlines()[-1])
    for split in ("train", "test"):
        assert got[split] == load_split(demo_dataset, "preference", split).to_list()
    assert got["error"].startswith(f"lab/redditess@{tag} [preference/train]: missing column(s) ['messages']")


def test_training_reads_a_hub_dataset_at_the_recipes_revision(
    hub, demo_dataset: Path, tiny_llama: Path, tmp_path: Path
) -> None:
    """`--dataset_revision` reaches the loader (the Hub id at that tag) and the run record; a revision that
    does not exist is an error naming it, and a revision for a local folder is refused."""
    from training import RECIPES_DIR

    env = client_env(hub.endpoint, tmp_path / "hf-home")
    version = json.loads((demo_dataset / "manifest.json").read_text())["version"]
    done = run(["-m", "publish", "dataset", str(demo_dataset), "--repo", "lab/redditess"], env)
    assert done.returncode == 0, done.stderr

    def sft(dataset: str, revision: str, out: Path):
        argv = [
            "--config",
            str(RECIPES_DIR / "tiny" / "gm-sft.yaml"),
            "--model_name_or_path",
            str(tiny_llama),
        ]
        argv += ["--dataset_name", dataset, "--dataset_revision", revision, "--output_dir", str(out)]
        argv += ["--max_steps", "1", "--eval_strategy", "no", "--save_strategy", "no", "--report_to", "none"]
        return run(["-m", "training.sft", *argv], env, timeout=400)

    trained = sft("lab/redditess", f"v{version}", tmp_path / "run")
    assert trained.returncode == 0, trained.stderr[-3000:]
    record = json.loads((tmp_path / "run" / "redditess_run.json").read_text())
    assert record["dataset"]["path"] == "lab/redditess" and record["dataset"]["revision"] == f"v{version}"
    # The model card's model-index names the dataset at that revision.
    report = {"split": "test", "metrics": {"f1": 0.5, "accuracy": 0.6}}
    card = ModelCard(
        render_model_card(
            tmp_path / "run", ModelCardInputs(base_model_id="org/base", eval_reports={"m": report})
        )
    )
    results = card.data.eval_results
    assert results and {(r.dataset_type, r.dataset_revision) for r in results} == {
        ("lab/redditess", f"v{version}")
    }

    missing = sft("lab/redditess", "v9.9.9", tmp_path / "missing")
    assert missing.returncode != 0 and "v9.9.9" in missing.stderr and "Traceback" not in missing.stderr
    local = sft(str(demo_dataset), f"v{version}", tmp_path / "local")
    assert local.returncode != 0 and "applies to a Hub dataset id, not to a local folder" in local.stderr
