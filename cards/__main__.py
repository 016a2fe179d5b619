"""`python -m cards validate PATH`: offline checks of a dataset or adapter folder (exit 1 on problems).

`python -m cards render-dataset DIR` re-renders DIR/README.md from DIR/manifest.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cards.dataset_card import ManifestError, write_dataset_card
from cards.validate import validate_folder
from redditess_core.contract import MANIFEST_FILE

USAGE = """usage: python -m cards validate PATH [PATH ...] | python -m cards render-dataset DIR

  validate PATH ...     offline checks of dataset or adapter folders (exit 1 on problems)
  render-dataset DIR    re-render DIR/README.md from DIR/manifest.json"""
HELP = ("-h", "--help")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in HELP for a in argv):
        print(USAGE)
        return 0
    if len(argv) < 2 or argv[0] not in ("validate", "render-dataset"):
        print(USAGE, file=sys.stderr)
        return 2
    if argv[0] == "render-dataset":
        folder = Path(argv[1])
        try:
            manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
            print(write_dataset_card(manifest, folder))
        except (OSError, json.JSONDecodeError, ManifestError) as err:
            print(f"cards: {err}", file=sys.stderr)
            return 2
        return 0
    status = 0
    for path in argv[1:]:
        report = validate_folder(path)
        print(report.render())
        status = status or (0 if report.ok else 1)
    return status


if __name__ == "__main__":
    sys.exit(main())
