"""The test Hub itself, driven by the real HfApi: the calls publishing and loading rely on answer as the client expects."""

from __future__ import annotations

import json
from pathlib import Path

from hub_client import client_env, run_python

SCRIPT = r"""
import json, sys
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import RevisionNotFoundError, RepositoryNotFoundError, EntryNotFoundError
api = HfApi()
out = {}
out["whoami"] = api.whoami()["name"]
api.create_repo("lab/tiny", private=True)
c1 = api.upload_file(path_or_fileobj=b"one", path_in_repo="a/b.txt", repo_id="lab/tiny", commit_message="one")
api.create_tag("lab/tiny", tag="v1")
api.create_branch("lab/tiny", branch="dev")
c2 = api.upload_file(path_or_fileobj=b"\x00" * 100, path_in_repo="w.safetensors", repo_id="lab/tiny", commit_message="two")
out["tree_v1"] = sorted(e.path for e in api.list_repo_tree("lab/tiny", revision="v1", recursive=True))
out["tree_main_top"] = sorted(e.path for e in api.list_repo_tree("lab/tiny"))
out["paths_info"] = {
    e.path: [e.size, e.lfs is not None] if hasattr(e, "size") else "folder"
    for e in api.get_paths_info("lab/tiny", ["a/b.txt", "w.safetensors", "a", "nope"])
}
refs = api.list_repo_refs("lab/tiny")
out["branches"] = sorted(b.name for b in refs.branches)
out["tags"] = {t.name: t.target_commit == c1.oid for t in refs.tags}
mi = api.model_info("lab/tiny")
out["model_info"] = [mi.sha == c2.oid, mi.private, sorted(s.rfilename for s in mi.siblings)]
out["v1_file"] = open(hf_hub_download("lab/tiny", "a/b.txt", revision="v1")).read()
out["commit_file"] = open(hf_hub_download("lab/tiny", "w.safetensors", revision=c2.oid), "rb").read() == b"\x00" * 100
snap = snapshot_download("lab/tiny", revision="v1")
out["snapshot_v1"] = sorted(str(p.relative_to(snap)) for p in __import__("pathlib").Path(snap).rglob("*") if p.is_file())
out["commits"] = [c.title for c in api.list_repo_commits("lab/tiny")]
for name, call in [
    ("bad_revision", lambda: hf_hub_download("lab/tiny", "a/b.txt", revision="v9")),
    ("missing_file", lambda: hf_hub_download("lab/tiny", "nope.txt")),
    ("missing_repo", lambda: api.model_info("lab/none")),
]:
    try:
        call()
        out[name] = "no error"
    except (RevisionNotFoundError, EntryNotFoundError, RepositoryNotFoundError) as err:
        out[name] = type(err).__name__
try:
    api.create_tag("lab/tiny", tag="v1")
    out["tag_again"] = "no error"
except Exception as err:
    out["tag_again"] = err.response.status_code
print(json.dumps(out))
"""


def test_real_client_against_the_test_hub(hub, tmp_path: Path) -> None:
    done = run_python(SCRIPT, client_env(hub.endpoint, tmp_path / "hf-home"))
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["whoami"] == "alice"
    assert out["tree_v1"] == [".gitattributes", "a", "a/b.txt"]
    assert out["tree_main_top"] == [".gitattributes", "a", "w.safetensors"]
    assert out["paths_info"] == {"a/b.txt": [3, False], "w.safetensors": [100, True], "a": "folder"}
    assert out["branches"] == ["dev", "main"] and out["tags"] == {"v1": True}
    assert out["model_info"] == [True, True, [".gitattributes", "a/b.txt", "w.safetensors"]]
    assert out["v1_file"] == "one" and out["commit_file"] is True
    assert out["snapshot_v1"] == [".gitattributes", "a/b.txt"]
    assert out["commits"] == ["two", "one", "initial commit"]
    assert out["bad_revision"] == "RevisionNotFoundError"
    assert out["missing_file"] == "RemoteEntryNotFoundError"
    assert out["missing_repo"] == "RepositoryNotFoundError"
    assert out["tag_again"] == 409
