"""`redditess_core.loading` on a Hub id at a revision: the builder's demo folder published to the Hub-protocol
test server, then loaded back by repo id and tag through the real `datasets.load_dataset`."""

from __future__ import annotations

import json
from pathlib import Path

from hub_client import client_env, run, run_python

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
