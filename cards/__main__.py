"""`python -m cards validate PATH`: offline checks of a dataset or adapter folder (exit 1 on problems).

`python -m cards render-dataset DIR` re-renders DIR/README.md (and LICENSE.md for `license: other`) from
DIR/manifest.json. Both take `--log_level`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from cards.dataset_card import ManifestError, write_dataset_card
from cards.validate import validate_folder
from redditess_core.contract import MANIFEST_FILE

logger = logging.getLogger("cards")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cards", description="Dataset and model cards of the kit."
    )
    sub = parser.add_subparsers(dest="command", metavar="{validate,render-dataset}")
    validate = sub.add_parser(
        "validate", help="offline checks of dataset or adapter folders (exit 1 on problems)"
    )
    validate.add_argument("paths", nargs="+", metavar="PATH")
    render = sub.add_parser(
        "render-dataset", help="re-render DIR/README.md (and LICENSE.md) from DIR/manifest.json"
    )
    render.add_argument("folder", metavar="DIR")
    for p in (validate, render):
        p.add_argument(
            "--log_level", "--log-level", default="info", choices=LOG_LEVELS, help="Logging level."
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command is None:
        parser.print_usage(sys.stderr)
        return 2
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", level=args.log_level.upper())
    if args.command == "render-dataset":
        folder = Path(args.folder)
        try:
            manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
            print(write_dataset_card(manifest, folder))
        except (OSError, json.JSONDecodeError, ManifestError) as err:
            print(f"cards: {err}", file=sys.stderr)
            return 2
        return 0
    status = 0
    for path in args.paths:
        logger.info("validating %s", path)
        report = validate_folder(path)
        print(report.render())
        status = status or (0 if report.ok else 1)
    return status


if __name__ == "__main__":
    sys.exit(main())
