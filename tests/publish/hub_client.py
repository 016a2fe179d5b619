"""Run the real huggingface_hub client in a subprocess pointed at the test Hub (HF_ENDPOINT is read at import)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITE_TOKEN = "hf_test_write_token_not_secret"
READ_TOKEN = "hf_test_read_token_not_secret"
TOKENS = {WRITE_TOKEN: ("alice", "write"), READ_TOKEN: ("alice", "read")}
ORGS = {"lab": ["alice"]}


def client_env(endpoint: str, home: Path, token: str | None = WRITE_TOKEN) -> dict[str, str]:
    """Online against the test Hub only: its endpoint, no Xet, a private HF_HOME, the given token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(
        {
            "HF_ENDPOINT": endpoint,
            "HF_HUB_DISABLE_XET": "1",
            "HF_HOME": str(home),
            "HF_HUB_OFFLINE": "0",
            "HF_DATASETS_OFFLINE": "0",
            "TRANSFORMERS_OFFLINE": "0",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
    )
    if token:
        env["HF_TOKEN"] = token
    return env


def run(args: list[str], env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_python(code: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return run(["-c", code], env, timeout)


def push_folder(folder: Path, repo_id: str, env: dict[str, str]) -> None:
    """Upload a local model folder to the test Hub with the real client (e.g. a base model an adapter names)."""
    code = (
        "from huggingface_hub import HfApi; api = HfApi(); "
        f"api.create_repo({repo_id!r}, exist_ok=True); "
        f"api.upload_folder(folder_path={str(folder)!r}, repo_id={repo_id!r})"
    )
    out = run_python(code, env)
    if out.returncode != 0:
        raise RuntimeError(f"pushing {folder.name} to {repo_id} failed:\n{out.stderr[-3000:]}")
