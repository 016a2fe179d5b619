"""Publishing a dataset folder through the real huggingface_hub client to the Hub-protocol test server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import datasets
import pytest
from hub_client import READ_TOKEN, WRITE_TOKEN, client_env, run, run_python

from cards.dataset_card import write_dataset_card

CONFIGS = ("effective_support", "preference")  # the default config and the one DPO reads
DEMO_VERSION = "0.1.0-test"  # tests/conftest.py builds `demo_dataset` (copied as `contract_folder`) with it
TAG = f"v{DEMO_VERSION}"


def _publish(folder: Path, env: dict[str, str], *extra: str):
    return run(["-m", "publish", "dataset", str(folder), "--repo", "lab/redditess", *extra], env)


def _local_rows(folder: Path, cache: Path) -> dict:
    out = {}
    for config in CONFIGS:
        ds = datasets.load_dataset(str(folder), config, cache_dir=str(cache))
        out[config] = {split: ds[split].to_list() for split in ds}
    return out


LOAD_BY_TAG = """
import json, datasets
out = {}
for config in %r:
    ds = datasets.load_dataset("lab/redditess", config, revision=%r)
    out[config] = {split: ds[split].to_list() for split in ds}
print(json.dumps(out))
"""


def test_publish_dataset_round_trip_dry_run_and_rerun(hub, demo_dataset: Path, tmp_path: Path) -> None:
    """The builder's demo folder, published and loaded back by repo id and version tag."""
    version = json.loads((demo_dataset / "manifest.json").read_text())["version"]
    tag = f"v{version}"
    env = client_env(hub.endpoint, tmp_path / "hf-home")

    # Dry run: no request reaches the Hub, the tree is written.
    dry = _publish(demo_dataset, env, "--dry-run", "--dry-run-dir", str(tmp_path / "dry"))
    assert dry.returncode == 0, dry.stderr
    assert hub.state.requests == []
    ops = json.loads((tmp_path / "dry" / "operations.json").read_text())
    assert [o["op"] for o in ops] == ["create_repo", "update_repo_settings", "create_commit", "create_tag"]
    assert ops[0]["private"] is True and ops[1]["gated"] == "manual" and ops[3]["tag"] == tag

    done = _publish(demo_dataset, env)
    assert done.returncode == 0, done.stderr
    repo = hub.state.repos[("dataset", "lab/redditess")]
    commit_oid = repo.tags[tag]
    assert (
        done.stdout.strip().splitlines()[-1] == f"{hub.endpoint}/datasets/lab/redditess/commit/{commit_oid}"
    )
    assert repo.private is True and repo.gated == "manual"
    # One commit on top of the repo's initial commit.
    assert (
        repo.commits[commit_oid].parent is not None
        and repo.commits[repo.commits[commit_oid].parent].parent is None
    )

    # The dry-run tree is exactly what was uploaded (the Hub's own .gitattributes aside).
    uploaded = {p: b for p, b in hub.files("dataset", "lab/redditess", tag).items() if p != ".gitattributes"}
    dry_tree = tmp_path / "dry" / "tree"
    local = {p.relative_to(dry_tree).as_posix(): p.read_bytes() for p in dry_tree.rglob("*") if p.is_file()}
    assert uploaded == local

    # load_dataset by repo id and tag gives the local folder's rows.
    loaded = run_python(LOAD_BY_TAG % (CONFIGS, tag), env)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert json.loads(loaded.stdout.strip().splitlines()[-1]) == json.loads(
        json.dumps(_local_rows(demo_dataset, tmp_path / "cache"))
    )

    # Rerun: safe, no new commit, the tag untouched.
    commits_before = len(repo.commits)
    again = _publish(demo_dataset, env)
    assert again.returncode == 0, again.stderr
    assert len(repo.commits) == commits_before and repo.tags[tag] == commit_oid
    assert commit_oid in again.stdout


def test_existing_tag_is_never_moved(hub, contract_folder: Path, tmp_path: Path) -> None:
    env = client_env(hub.endpoint, tmp_path / "hf-home")
    assert _publish(contract_folder, env).returncode == 0
    repo = hub.state.repos[("dataset", "lab/redditess")]
    tagged, head = repo.tags[TAG], repo.branches["main"]

    manifest = json.loads((contract_folder / "manifest.json").read_text())
    manifest["changelog"] = [{"version": DEMO_VERSION, "changes": ["rebuilt with different content"]}]
    (contract_folder / "manifest.json").write_text(json.dumps(manifest))
    write_dataset_card(manifest, contract_folder)

    refused = _publish(contract_folder, env)
    assert refused.returncode == 2
    assert f"Tag {TAG} already exists" in refused.stderr and "refusing to move it" in refused.stderr
    assert repo.tags[TAG] == tagged and repo.branches["main"] == head  # nothing was uploaded

    moved_on = _publish(contract_folder, env, "--tag", "v0.1.1")
    assert moved_on.returncode == 0, moved_on.stderr
    assert repo.tags[TAG] == tagged and repo.tags["v0.1.1"] != tagged


def test_auth_permission_and_network_failures_are_explained(
    hub, contract_folder: Path, tmp_path: Path
) -> None:
    bad = _publish(
        contract_folder, client_env(hub.endpoint, tmp_path / "h1", token="hf_not_a_valid_token_123")
    )
    assert bad.returncode == 2
    assert "Authentication failed (401)" in bad.stderr
    assert "hf_not_a_valid_token_123" not in bad.stderr + bad.stdout

    read_only = _publish(contract_folder, client_env(hub.endpoint, tmp_path / "h2", token=READ_TOKEN))
    assert read_only.returncode == 2
    assert "Permission denied (403)" in read_only.stderr and READ_TOKEN not in read_only.stderr

    none = _publish(contract_folder, client_env(hub.endpoint, tmp_path / "h3", token=None))
    assert none.returncode == 2 and "No Hugging Face token found" in none.stderr

    unreachable = _publish(contract_folder, client_env("http://127.0.0.1:9", tmp_path / "h4"))
    assert unreachable.returncode == 2 and "Cannot reach the Hub" in unreachable.stderr
    assert WRITE_TOKEN not in unreachable.stderr + unreachable.stdout
    assert ("dataset", "lab/redditess") not in hub.state.repos


def test_private_repo_is_invisible_without_a_token(hub, contract_folder: Path, tmp_path: Path) -> None:
    env = client_env(hub.endpoint, tmp_path / "hf-home")
    assert _publish(contract_folder, env, "--gated", "auto").returncode == 0
    assert hub.state.repos[("dataset", "lab/redditess")].gated == "auto"
    anonymous = client_env(hub.endpoint, tmp_path / "anon", token=None)
    code = f'import datasets; datasets.load_dataset("lab/redditess", "preference", revision="{TAG}")'
    denied = run_python(code, anonymous)
    assert denied.returncode != 0
    assert "DatasetNotFoundError" in denied.stderr or "doesn't exist on the Hub" in denied.stderr


def test_invalid_folder_is_refused_before_any_request(hub, contract_folder: Path, tmp_path: Path) -> None:
    (contract_folder / "data" / "preference" / "extra-00000.parquet").write_bytes(
        (contract_folder / "data" / "preference" / "train-00000-of-00001.parquet").read_bytes()
    )
    refused = _publish(contract_folder, client_env(hub.endpoint, tmp_path / "hf-home"))
    assert refused.returncode == 2
    assert "extra-00000.parquet: parquet file not listed in any config" in refused.stderr
    assert hub.state.requests == []


def test_interrupted_upload_can_be_rerun(hub, contract_folder: Path, tmp_path: Path) -> None:
    """The commit fails after the LFS uploads; the rerun re-sends no LFS object and commits once."""
    env = client_env(hub.endpoint, tmp_path / "hf-home")
    hub.state.fail_next["commit"] = 500
    failed = _publish(contract_folder, env)
    assert failed.returncode == 2 and "The Hub answered 500" in failed.stderr
    repo = hub.state.repos[("dataset", "lab/redditess")]
    assert repo.tags == {} and len(repo.commits) == 1  # nothing half-published
    puts_before = sum(1 for m, p, _ in hub.state.requests if m == "PUT" and p.startswith("/lfs-objects/"))
    assert puts_before == len(list(contract_folder.glob("data/*/*.parquet")))

    rerun = _publish(contract_folder, env)
    assert rerun.returncode == 0, rerun.stderr
    puts_after = sum(1 for m, p, _ in hub.state.requests if m == "PUT" and p.startswith("/lfs-objects/"))
    assert puts_after == puts_before  # every parquet file was already stored
    assert len(repo.commits) == 2 and TAG in repo.tags


def test_visibility_gating_and_tag_options_reach_the_plan(contract_folder: Path, tmp_path: Path) -> None:
    from publish.__main__ import main

    def ops(*extra: str) -> list[dict]:
        out = tmp_path / "dry"
        assert (
            main(
                [
                    "dataset",
                    str(contract_folder),
                    "--repo",
                    "lab/x",
                    "--dry-run",
                    "--dry-run-dir",
                    str(out),
                    *extra,
                ]
            )
            == 0
        )
        return json.loads((out / "operations.json").read_text())

    default = ops()
    assert default[0]["private"] is True and default[1]["gated"] == "manual" and default[-1]["tag"] == TAG
    public = ops("--public", "--gated", "off", "--tag", "v9.9.9")
    assert public[0]["private"] is False and public[1]["gated"] is False and public[-1]["tag"] == "v9.9.9"
    assert ops("--no_private", "--gated", "auto")[0]["private"] is False


BAD_REPO_IDS = {
    "lab": "give the namespace too",  # huggingface_hub accepts it, but it would land in <user>/lab
    "lab/na me": "Repo id must use alphanumeric chars",
    "lab/x/y": "Repo id must be in the form",
    "lab/foo--bar": "Cannot have -- or ..",
    "lab/.hidden": "Repo id must use alphanumeric chars",
    "lab/": "Repo id must use alphanumeric chars",
    "/redditess": "Repo id must use alphanumeric chars",
    "lab/x.git": "cannot end by '.git'",
}


def test_invalid_repo_ids_are_refused_before_any_request(
    hub, contract_folder: Path, adapter_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """huggingface_hub's own validator (plus a required namespace) runs before the folder, the network and
    the dry-run writer: one `publish:` line, exit 2, no request, no dry-run tree."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    from publish.__main__ import main
    from publish.plan import InvalidRepoId, check_repo_id

    for repo_id, reason in BAD_REPO_IDS.items():
        with pytest.raises(InvalidRepoId, match=re.escape(reason)):
            check_repo_id(repo_id)
        if repo_id != "lab":  # the kit's rule is stricter than the library's only for the namespace
            with pytest.raises(HFValidationError):
                validate_repo_id(repo_id)
        for command, folder in (("dataset", contract_folder), ("adapter", adapter_run)):
            for extra in ((), ("--dry-run", "--dry-run-dir", str(tmp_path / "dry"))):
                capsys.readouterr()
                assert main([command, str(folder), "--repo", repo_id, *extra]) == 2, (repo_id, command, extra)
                lines = capsys.readouterr().err.strip().splitlines()
                assert len(lines) == 1 and lines[0].startswith(f"publish: invalid --repo {repo_id!r}")
                assert reason in lines[0]
    # The installed command, against the Hub-protocol server: not one request.
    env = client_env(hub.endpoint, tmp_path / "hf-home")
    for extra in ((), ("--dry-run", "--dry-run-dir", str(tmp_path / "dry"))):
        for repo_id in ("lab", "lab/na me"):
            refused = run(["-m", "publish", "dataset", str(contract_folder), "--repo", repo_id, *extra], env)
            assert refused.returncode == 2 and "publish: invalid --repo" in refused.stderr
    assert hub.state.requests == [] and hub.state.repos == {}
    assert not (tmp_path / "dry").exists()
    assert check_repo_id("lab/redditess-gm_v1.2") == "lab/redditess-gm_v1.2"
