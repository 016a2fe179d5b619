"""Every script's and command's `--help` prints its usage and exits 0 (no command is left out).

The command lists come from the dispatchers themselves (`COMMANDS` of each `__main__`), so a new
subcommand is covered without editing this file. In-process (runpy) for speed, plus the real
`python training/sft.py --help` in a subprocess: its help text once contained `{% generation %}`,
which argparse %-formats (TypeError).
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p.name for p in (ROOT / "training").glob("*.py") if "__main__" in p.read_text())


def _subcommands() -> list[tuple[str, ...]]:
    import assist.__main__ as assist_main
    import dataset_builder.__main__ as builder_main
    import eval.__main__ as eval_main

    commands: list[tuple[str, ...]] = []
    for module in ("dataset_builder", "eval", "cards", "publish", "assist", "training.tiny"):
        commands.append((module,))
    commands += [("dataset_builder", c) for c in builder_main.COMMANDS]
    commands += [("eval", *c.split()) for c in eval_main.COMMANDS]
    commands += [("eval", "human")]
    commands += [("cards", "validate"), ("cards", "render-dataset")]
    commands += [("publish", "dataset"), ("publish", "adapter")]
    commands += [("assist", c) for c in assist_main.COMMANDS]
    return commands


def _run_help(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], run, argv: list[str]
) -> str:
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exit_info:
        run()
        raise SystemExit(0)  # a main() that returned 0 without raising (dispatchers return codes)
    out, err = capsys.readouterr()
    assert exit_info.value.code in (0, None), f"{argv}: exit {exit_info.value.code}\n{err}"
    assert "usage" in out.lower(), f"{argv}: no usage on stdout\n{out}\n{err}"
    return out


def test_training_scripts_help(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert {"sft.py", "dpo.py", "classifier.py", "tiny.py"} <= set(SCRIPTS)
    for script in SCRIPTS:
        path = str(ROOT / "training" / script)
        out = _run_help(
            monkeypatch, capsys, lambda p=path: runpy.run_path(p, run_name="__main__"), [path, "--help"]
        )
        if script == "sft.py":
            assert "{% generation %}" in " ".join(out.split())  # argparse wraps lines


@pytest.mark.parametrize("command", _subcommands(), ids=" ".join)
def test_command_help(command: tuple[str, ...], monkeypatch, capsys) -> None:
    module, *sub = command
    for flag in ("--help", "-h"):
        _run_help(
            monkeypatch,
            capsys,
            lambda m=module: sys.exit(runpy.run_module(m, run_name="__main__", alter_sys=True) and 0),
            [module, *sub, flag],
        )


@pytest.mark.slow
def test_sft_help_in_a_real_process() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "training/sft.py", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "--assistant_only_loss" in done.stdout and "{% generation %}" in " ".join(done.stdout.split())
