"""`python -m eval <command> [--help]`: the evaluation commands.

Commands: classifier, generate, judge, human export|ingest, label-audit export|ingest,
pair-audit export|ingest, linguistic, safety, report.
Arguments are dataclasses parsed by `HfArgumentParser` (`--help` on any command lists them).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

COMMANDS: dict[str, tuple[str, str, str]] = {
    "classifier": ("eval.classify", "ClassifierArguments", "run_classifier"),
    "generate": ("eval.generate", "GenerateArguments", "run_generate"),
    "judge": ("eval.judge", "JudgeArguments", "run_judge"),
    "human export": ("eval.human", "HumanExportArguments", "run_export"),
    "human ingest": ("eval.human", "HumanIngestArguments", "run_ingest"),
    "label-audit export": ("eval.label_audit", "LabelAuditExportArguments", "run_export"),
    "label-audit ingest": ("eval.label_audit", "LabelAuditIngestArguments", "run_ingest"),
    "pair-audit export": ("eval.pair_audit", "PairAuditExportArguments", "run_export"),
    "pair-audit ingest": ("eval.pair_audit", "PairAuditIngestArguments", "run_ingest"),
    "linguistic": ("eval.linguistic", "LinguisticArguments", "run_linguistic"),
    "safety": ("eval.safety_audit", "SafetyArguments", "run_safety"),
    "report": ("eval.report", "ReportArguments", "run_report"),
}


def _usage() -> str:
    return (
        "usage: python -m eval {"
        + ",".join(COMMANDS)
        + "} [options]   (--help after a command lists its options)"
    )


def main(argv: list[str] | None = None) -> Any:
    """Dispatch to a command; errors in the inputs exit with status 2 and the message, no traceback."""
    from transformers import HfArgumentParser

    argv = list(sys.argv[1:] if argv is None else argv)
    # Two-word commands ("human export", "label-audit ingest", ...) first, then one-word ones.
    name = " ".join(argv[:2]) if " ".join(argv[:2]) in COMMANDS else (argv[0] if argv else "")
    if name in ("-h", "--help") or (name not in COMMANDS and argv[1:2] in (["-h"], ["--help"])):
        print(_usage())
        raise SystemExit(0)
    if name not in COMMANDS:
        print(_usage(), file=sys.stderr)
        raise SystemExit(2)
    rest = argv[len(name.split()) :]
    module_name, args_name, func_name = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = HfArgumentParser(getattr(module, args_name), prog=f"python -m eval {name}")
    (args,) = parser.parse_args_into_dataclasses(args=rest)
    args.apply()  # --log_level, --torch_threads
    try:
        return getattr(module, func_name)(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
