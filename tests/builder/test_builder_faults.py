"""Faults in the builder: kills, output locations, full disks, empty configs (issue 11, items 8, 13, 14,
16, 18)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dataset_builder.config import BuildConfig
from dataset_builder.export import default_config
from dataset_builder.pipeline import OWNER_FILE, build

KEY = b"faults-test-key-0123456789"
ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return {
        "PYTHONPATH": str(ROOT),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "REDDITESS_PSEUDONYM_KEY": KEY.decode(),
        "CI": "1",
        "HOME": os.environ.get("HOME", "/tmp"),
    }


def _cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dataset_builder", "build", *args, "--log_level", "WARNING"],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=ROOT,
        **kwargs,
    )


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_out_creates_missing_parents(demo_raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "redditess"
    manifest = build(BuildConfig(inputs=[demo_raw], out=out), key=KEY)
    assert (out / "manifest.json").is_file() and manifest["configs"]["effective_support"]["default"]
    assert _leftovers(out.parent) == []
    assert not (out / ".work").exists() and not (out / OWNER_FILE).exists()
    assert oct(out.stat().st_mode & 0o777) == oct(0o755)


def test_output_location_problems_are_one_line_before_the_work(demo_raw: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = _cli("--input", str(demo_raw), "--out", str(blocker / "redditess"))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot create the output folder's parent" in lines[0] and "a-file" in lines[0]
    result = _cli("--input", str(demo_raw), "--out", "/proc/redditess")  # a read-only location
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "cannot write to /proc" in result.stderr


def test_read_only_output_folder_as_a_user(demo_raw: Path, tmp_path: Path) -> None:
    from test_builder_sources import as_unprivileged

    parent = tmp_path / "ro"
    parent.mkdir()
    os.chmod(parent, 0o555)
    try:
        started = time.perf_counter()
        result = subprocess.run(
            as_unprivileged(
                [
                    sys.executable,
                    "-m",
                    "dataset_builder",
                    "build",
                    "--input",
                    str(demo_raw),
                    "--out",
                    str(parent / "x"),
                ]
            ),
            capture_output=True,
            text=True,
            env=_env(),
            cwd=ROOT,
        )
        elapsed = time.perf_counter() - started
    finally:
        os.chmod(parent, 0o755)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot write to {parent}: permission denied" in lines[0], result.stderr
    assert list(parent.iterdir()) == [] and elapsed < 20  # checked before the work


def test_full_disk_during_the_build_is_one_line_and_leaves_nothing(demo_raw: Path, tmp_path: Path) -> None:
    """A file-size limit stands in for a full disk: writes fail with EFBIG where they would fail with
    ENOSPC, in the middle of the build."""
    import resource

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    out = tmp_path / "out"
    result = _cli("--input", str(demo_raw), "--out", str(out), preexec_fn=limit)
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if " WARNING " not in line]
    assert len(lines) == 1 and "file too large" in lines[0] and "nothing was kept" in lines[0], result.stderr
    assert not out.exists() and _leftovers(tmp_path) == []


def test_killed_build_leaves_no_raw_text_after_the_next_run(demo_raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "redditess"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dataset_builder", "build", "--input", str(demo_raw), "--out", str(out)],
        env=_env(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    staged: list[Path] = []
    while time.time() < deadline and not staged:
        staged = list(tmp_path.glob(".redditess.tmp-*/.work/staging/*.parquet"))
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert staged, "the build never staged its input"
    leftover = _leftovers(tmp_path)
    assert leftover and all(name.startswith(".redditess.tmp-") for name in leftover)
    # no work files anywhere else (the system temp folder holds none of this build's files)
    build(BuildConfig(inputs=[demo_raw], out=out, overwrite=True), key=KEY)
    assert _leftovers(tmp_path) == []


def test_rebuilding_into_a_folder_under_the_input(demo_raw: Path, tmp_path: Path) -> None:
    import shutil

    inputs = tmp_path / "dumps"
    shutil.copytree(demo_raw, inputs)
    out = inputs / "redditess"
    first = build(BuildConfig(inputs=[inputs], out=out), key=KEY)
    second = build(BuildConfig(inputs=[inputs], out=out, overwrite=True), key=KEY)
    other = build(BuildConfig(inputs=[inputs], out=inputs / "second"), key=KEY)
    assert [i["name"] for i in first["inputs"]] == [i["name"] for i in second["inputs"]]
    assert [i["name"] for i in other["inputs"]] == [i["name"] for i in first["inputs"]]


def test_default_config_is_the_first_non_empty() -> None:
    rows = {"train": {"num_rows": 3}}
    configs = {
        "effective_support": {"splits": {}},
        "comments": {"splits": rows},
        "preference": {"splits": rows},
    }
    assert default_config(configs) == "comments"
    assert (
        default_config({"effective_support": {"splits": rows}, "comments": {"splits": rows}})
        == "effective_support"
    )
    with pytest.raises(ValueError, match="no config has any rows"):
        default_config({"effective_support": {"splits": {}}})


def test_build_without_labels_has_a_valid_default(tmp_path: Path) -> None:
    """One post whose comments no signal decides: `effective_support` is empty, `comments` is the
    default, and the card validates."""
    from cards.validate import validate_dataset_folder

    raw = tmp_path / "raw"
    raw.mkdir()
    post = {"id": "p1", "author": "op_a", "title": "t", "selftext": "a post that is long enough to keep it",
            "created_utc": 1000, "score": 1, "subreddit": "x"}  # fmt: skip
    comments = [
        {"id": f"c{i}", "link_id": "t3_p1", "parent_id": "t3_p1", "author": f"helper_{i}", "created_utc": 1100,
         "body": f"a neutral comment number {i} about the weather", "score": 1, "subreddit": "x"}
        for i in range(2)
    ]  # fmt: skip
    (raw / "RS_x.jsonl").write_text(json.dumps(post) + "\n")
    (raw / "RC_x.jsonl").write_text("".join(json.dumps(c) + "\n" for c in comments))
    out = tmp_path / "out"
    manifest = build(BuildConfig(inputs=[raw], out=out), key=KEY)
    assert not manifest["configs"]["effective_support"]["splits"]
    assert [n for n, c in manifest["configs"].items() if c["default"]] == ["comments"]
    report = validate_dataset_folder(out)
    assert not [e for e in report.errors if "default" in e], report.errors


def test_sentiment_workers_die_with_their_parent(tmp_path: Path) -> None:
    """Kill -9 the process running the sentiment pool: its workers exit within seconds."""
    script = (
        "import os, sys\n"
        "from dataset_builder.sentiment import vader\n"
        "print(os.getpid(), flush=True)\n"
        "vader(['I am so grateful for this, thank you, it really helps. ' * 200] * 20000)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], env=_env(), cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    parent = int(proc.stdout.readline())
    deadline = time.time() + 60
    workers: list[int] = []
    while time.time() < deadline and len(workers) < 2:
        workers = _children(parent)
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert workers, "the pool never started"
    deadline = time.time() + 10
    while time.time() < deadline and any(_running(pid) for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if _running(pid)]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
