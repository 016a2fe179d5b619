"""`--log_level` on every eval, assist and training command, and what it does."""

from __future__ import annotations

import dataclasses
import importlib
import logging

import pytest
from transformers import HfArgumentParser

from redditess_core.logs import LOG_LEVELS, configure_logging


def _argument_classes() -> list[type]:
    import eval.__main__ as eval_main
    from assist.__main__ import AssistArgs, ScreenArgs
    from assist.app import ServeArgs
    from training import classifier, dpo, sft

    classes = [
        getattr(importlib.import_module(module), name) for module, name, _ in eval_main.COMMANDS.values()
    ]
    classes += [AssistArgs, ScreenArgs, ServeArgs]
    classes += [script.DATACLASSES[1] for script in (sft, dpo, classifier)]  # TrainingArguments' log_level
    return classes


def test_every_command_has_log_level() -> None:
    for cls in _argument_classes():
        assert "log_level" in {f.name for f in dataclasses.fields(cls)}, cls.__name__


def test_log_level_is_parsed_checked_and_applied(caplog: pytest.LogCaptureFixture) -> None:
    from eval.generate import GenerateArguments

    parser = HfArgumentParser(GenerateArguments)
    base = ["--model", "m", "--dataset", "d", "--output", "o"]
    (args,) = parser.parse_args_into_dataclasses(args=[*base, "--log_level", "warning"])
    assert args.log_level == "warning"
    with pytest.raises(SystemExit):  # argparse refuses a level outside the choices
        parser.parse_args_into_dataclasses(args=[*base, "--log_level", "loud"])
    try:
        args.apply()
        with caplog.at_level(logging.DEBUG):
            logging.getLogger("eval.generate").info("hidden")
            logging.getLogger("eval.generate").warning("shown")
        assert "shown" in caplog.text and "hidden" not in caplog.text
    finally:
        configure_logging("info")
    with pytest.raises(ValueError, match="--log_level must be one of"):
        configure_logging("verbose")
    assert set(LOG_LEVELS) == {"debug", "info", "warning", "error", "critical"}
