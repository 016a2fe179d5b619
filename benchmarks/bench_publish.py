"""Cards, publishing and assist speed: offline validation, a real-client publish round trip, draft latency.

    python benchmarks/bench_publish.py [--dataset DIR] [--skip_assist]

Prints, for DIR (default: the synthetic demo folder, built into a temp dir):
- `cards validate` (card, configs, row counts, privacy scan of every text cell) wall time and rows/s;
- `publish dataset --dry-run` wall time;
- `publish dataset` to the in-memory Hub-protocol test server on 127.0.0.1 through the real
  huggingface_hub client (subprocess), wall time and MB/s, then `load_dataset(repo, "preference", revision=tag)`;
- `assist draft` on the tiny Llama with a LoRA adapter, fp32 and 4-bit NF4 (model load + 32 new tokens).
Each command runs in a fresh subprocess, so start-up is counted as a user would see it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "publish"))

from hub_client import ORGS, TOKENS, client_env  # noqa: E402
from hub_server import HubServer  # noqa: E402
from transformers import HfArgumentParser  # noqa: E402

from redditess_core.contract import MANIFEST_FILE  # noqa: E402


@dataclass
class BenchArgs:
    dataset: str | None = field(
        default=None, metadata={"help": "A built RedditESS folder (default: the demo)."}
    )
    skip_assist: bool = field(default=False, metadata={"help": "Skip the assist latency measurement."})


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *cmd], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return elapsed


def offline_env() -> dict[str, str]:
    import os

    return {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def demo_folder(tmp: Path) -> Path:
    (tmp / "raw").mkdir(parents=True)
    timed(["-m", "dataset_builder", "sample", "--out", str(tmp / "raw")], offline_env())
    (tmp / "key").write_text("bench-key-not-secret")
    build = ["-m", "dataset_builder", "build", "--input", str(tmp / "raw"), "--out", str(tmp / "redditess")]
    timed([*build, "--version", "0.1.0-bench", "--pseudonym-key-file", str(tmp / "key")], offline_env())
    return tmp / "redditess"


def tiny_adapter(tmp: Path) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training.tiny import build_tiny_llama

    base = build_tiny_llama(tmp / "tiny-llama")
    torch.manual_seed(0)
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(base), LoraConfig(r=8, target_modules="all-linear")
    )
    run = tmp / "adapter"
    model.save_pretrained(run)
    AutoTokenizer.from_pretrained(base).save_pretrained(run)
    return run


def main() -> None:
    (args,) = HfArgumentParser(BenchArgs).parse_args_into_dataclasses()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        folder = Path(args.dataset) if args.dataset else demo_folder(tmp / "demo")
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
        rows = sum(s["num_rows"] for c in manifest["configs"].values() for s in c["splits"].values())
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        print(
            f"dataset {folder.name} {manifest['version']}: {rows:,} rows in all configs, {size / 1e6:.1f} MB"
        )

        t = timed(["-m", "cards", "validate", str(folder)], offline_env())
        print(f"cards validate:            {t:6.2f} s  ({rows / t:,.0f} rows/s, {size / 1e6 / t:.1f} MB/s)")
        dry = ["-m", "publish", "dataset", str(folder), "--repo", "lab/redditess", "--dry-run"]
        t = timed([*dry, "--dry-run-dir", str(tmp / "dry")], offline_env())
        print(f"publish --dry-run:         {t:6.2f} s")

        with HubServer(TOKENS, ORGS) as hub:
            env = client_env(hub.endpoint, tmp / "hf-home")
            t = timed(["-m", "publish", "dataset", str(folder), "--repo", "lab/redditess"], env)
            print(
                f"publish (test Hub):        {t:6.2f} s  ({size / 1e6 / t:.1f} MB/s incl. start-up and validation)"
            )
            t = timed(["-m", "publish", "dataset", str(folder), "--repo", "lab/redditess"], env)
            print(f"publish rerun (no change): {t:6.2f} s")
            tag = f"v{manifest['version']}"
            code = f"import datasets; datasets.load_dataset('lab/redditess', 'preference', revision='{tag}')"
            t = timed(["-c", code], env)
            print(f"load_dataset by tag:       {t:6.2f} s  (preference config, fresh cache)")

        if not args.skip_assist:
            adapter = tiny_adapter(tmp / "models")
            post = tmp / "post.txt"
            post.write_text("Exams are crushing me\n\nI cannot sleep and I feel alone. How do you cope?\n")
            base = [
                "-m",
                "assist",
                "draft",
                "--adapter",
                str(adapter),
                "--post",
                str(post),
                "--max_new_tokens",
                "32",
            ]
            t = timed(base, offline_env())
            print(f"assist draft fp32:         {t:6.2f} s  (tiny Llama, load + 32 tokens)")
            t = timed([*base, "--load_in_4bit"], offline_env())
            print(f"assist draft 4-bit NF4:    {t:6.2f} s")


if __name__ == "__main__":
    main()
