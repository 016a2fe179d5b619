"""Two CPU ranks train one model: the data is sharded (half the steps per epoch) and every rank exits."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from training import ACCELERATE_CONFIGS_DIR, PACKAGE_DIR

pytestmark = pytest.mark.slow

ACCELERATE = str(Path(sys.executable).with_name("accelerate"))
TIME_LIMIT = 240  # seconds; a rank left waiting in a collective fails the test instead of hanging CI


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(launcher: list[str], script: str, argv: list[str], tmp_path: Path) -> float:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cmd = [
        ACCELERATE,
        "launch",
        *launcher,
        "--main_process_port",
        str(_free_port()),
        str(PACKAGE_DIR / script),
        *argv,
    ]
    start = time.monotonic()
    log = tmp_path / f"{Path(script).stem}.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = proc.wait(timeout=TIME_LIMIT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            pytest.fail(
                f"2-rank run did not finish in {TIME_LIMIT}s (a rank hung); log: {log.read_text()[-3000:]}"
            )
    assert rc == 0, log.read_text()[-3000:]
    return time.monotonic() - start


def test_two_cpu_ranks_shard_sft_and_exit(
    tiny_models: dict[str, Path], mini_dataset: Path, tmp_path: Path, recipe_argv
) -> None:
    out = tmp_path / "gm-sft-ddp"
    # The 2-rank CPU launch of training/README.md ("Launch configs"); `--save_strategy epoch` is the setting seen
    # to hang stock scripts after saving.
    launcher = [
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
    ]
    os.environ["ACCELERATE_USE_CPU"] = "1"
    try:
        _launch(
            launcher,
            "sft.py",
            recipe_argv(
                "gm-sft",
                model_name_or_path=tiny_models["tiny-llama"],
                dataset_name=mini_dataset,
                output_dir=out,
                max_steps=-1,
                num_train_epochs=1,
                train_subset_size=24,
                per_device_train_batch_size=4,
                save_strategy="epoch",
                eval_strategy="epoch",
            ),
            tmp_path,
        )
    finally:
        del os.environ["ACCELERATE_USE_CPU"]
    state = json.loads((out / "trainer_state.json").read_text())
    # 24 training rows (a seeded subset of the demo build), 4 per device: 6 steps on one process, 3 when two ranks each take half.
    assert state["global_step"] == 3 and state["max_steps"] == 3 and state["epoch"] == 1.0
    record = json.loads((out / "redditess_run.json").read_text())
    assert record["world_size"] == 2
    assert (out / "adapter_model.safetensors").is_file() and (out / "checkpoint-3").is_dir()


def test_two_cpu_ranks_with_the_shipped_config_run_dpo(
    tiny_models: dict[str, Path], mini_dataset: Path, gm_sft_run: Path, tmp_path: Path, recipe_argv
) -> None:
    out = tmp_path / "gm-dpo-ddp"
    _launch(
        ["--config_file", str(ACCELERATE_CONFIGS_DIR / "cpu_multi_process.yaml")],
        "dpo.py",
        recipe_argv(
            "gm-dpo",
            model_name_or_path=tiny_models["tiny-llama"],
            dataset_name=mini_dataset,
            parent_run=gm_sft_run,
            output_dir=out,
            max_steps=-1,
            num_train_epochs=1,
            train_subset_size=24,
            per_device_train_batch_size=4,
            save_strategy="epoch",
            eval_strategy="epoch",
        ),
        tmp_path,
    )
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == 3
    assert json.loads((out / "redditess_run.json").read_text())["world_size"] == 2


def test_undistributed_ranks_are_refused(
    tiny_models: dict[str, Path], mini_dataset: Path, tmp_path: Path, recipe_argv
) -> None:
    """Two ranks that would each train alone (the CPU trap of `--multi_gpu`) stop with advice instead."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("ACCELERATE_USE_CPU", None)
    argv = recipe_argv(
        "gm-sft",
        model_name_or_path=tiny_models["tiny-llama"],
        dataset_name=mini_dataset,
        output_dir=tmp_path / "out",
        use_cpu="false",
        max_steps=2,
    )
    cmd = [
        ACCELERATE,
        "launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        str(_free_port()),
        str(PACKAGE_DIR / "sft.py"),
        *argv,
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIME_LIMIT)
    assert proc.returncode != 0
    assert "trains alone" in proc.stderr + proc.stdout and "ACCELERATE_USE_CPU" in proc.stderr + proc.stdout
    assert not (tmp_path / "out" / "adapter_model.safetensors").exists()
