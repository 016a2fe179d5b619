"""Turn a filled, blinded sheet into committed judgment rows (hashed ids only, no text).

* ``pairs``: a sheet from ``python -m eval pair-audit export`` (filled: ``better`` A/B/same/not_comparable for
  ``preference``; ``same_intent`` and ``better`` yes/no for ``improvement``; ``note`` = the reason code) plus its
  ``key.json`` -> rows of ``judgments.csv`` (columns in ``score.PAIR_COLUMNS``). Sides are resolved only here,
  after judging: A/B -> the dataset's comment ids -> ``sha256("redditess-audit:" + id)[:16]``.
* ``sft``: a sheet from ``sample_sft.py`` (filled: ``good`` yes/partly/no, ``reason``) plus its key CSV ->
  rows of ``sft_judgments.csv``.

Rows are appended; a pair or item already recorded for the same sample is skipped (re-running is harmless). A pair
drawn again in a later sample keeps both rows: ``score.py`` uses the first and reports how often repeats agree.
Writes go to a temporary file, then rename. Bad sheets stop with the sheet's file and line.

Usage::

    python benchmarks/pair_audit/record.py pairs --key /tmp/pj-16-preference/key.json \
        --sheet /tmp/pj/i16_pref_filled.csv --sample i16-preference
    python benchmarks/pair_audit/record.py sft --key /tmp/pj_sft_key.csv --sheet /tmp/pj/sft_filled.csv --sample i16-sft
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from score import PAIR_COLUMNS, SFT_COLUMNS, SFT_OUTCOMES, audit_key  # noqa: E402


def _read_csv(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _append(path: str | Path, columns: list[str], rows: list[dict[str, str]], key_of) -> tuple[int, int]:
    """Append ``rows`` not yet in ``path`` (by ``key_of``); returns (added, skipped). Atomic rewrite."""
    existing = _read_csv(path) if Path(path).exists() else []
    seen = {key_of(r) for r in existing}
    added = [r for r in rows if key_of(r) not in seen]
    tmp = f"{path}.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(existing + added)
    os.replace(tmp, path)
    return len(added), len(rows) - len(added)


def pair_rows(
    key: dict, sheet: list[dict[str, str]], sample: str, sheet_path: str = "sheet"
) -> list[dict[str, str]]:
    """Judgment rows from a filled pair-audit sheet and its key (shapes in the module docstring).

    Raises ValueError naming the sheet line of an unknown item or an off-scale answer."""
    config, items = key["config"], key["items"]
    rows = []
    for line, answer in enumerate(sheet, start=2):
        meta = items.get(answer.get("item_id", ""))
        if meta is None:
            raise ValueError(f"{sheet_path}:{line}: item_id {answer.get('item_id')!r} is not in the key")
        post = audit_key(meta["post_id"])
        reason = (answer.get("note") or "").strip()
        if config == "preference":
            ids = {"chosen": audit_key(meta["chosen_id"]), "rejected": audit_key(meta["rejected_id"])}
            c1, c2 = sorted(ids.values())
            v = answer.get("better", "").strip()
            if v in ("A", "B"):
                better = ids[meta["sides"][v]]
            elif v in ("same", "not_comparable"):
                better = v
            else:
                raise ValueError(
                    f"{sheet_path}:{line}: better must be A, B, same or not_comparable, got {v!r}"
                )
            rows.append(
                {
                    "sample": sample,
                    "kind": "preference",
                    "post": post,
                    "comment_1": c1,
                    "comment_2": c2,
                    "better": better,
                    "same_intent": "",
                    "reason": reason,
                }
            )
        else:
            draft, revision = audit_key(meta["draft_id"]), audit_key(meta["revision_id"])
            intent, better = answer.get("same_intent", "").strip(), answer.get("better", "").strip()
            if intent not in ("yes", "no") or better not in ("yes", "no"):
                raise ValueError(f"{sheet_path}:{line}: same_intent and better must be yes/no")
            rows.append(
                {
                    "sample": sample,
                    "kind": "improvement",
                    "post": post,
                    "comment_1": draft,
                    "comment_2": revision,
                    "better": revision if better == "yes" else "not_better",
                    "same_intent": intent,
                    "reason": reason,
                }
            )
    return rows


def sft_rows(key: list[dict[str, str]], sheet: list[dict[str, str]], sample: str, sheet_path: str = "sheet"):
    """``sft_judgments.csv`` rows from a filled ``sample_sft.py`` sheet and its key CSV."""
    post_of = {r["item"]: r["post"] for r in key}
    rows = []
    for line, answer in enumerate(sheet, start=2):
        item, good = answer.get("item", ""), answer.get("good", "").strip()
        if item not in post_of:
            raise ValueError(f"{sheet_path}:{line}: item {item!r} is not in the key")
        if good not in SFT_OUTCOMES:
            raise ValueError(f"{sheet_path}:{line}: good must be one of {SFT_OUTCOMES}, got {good!r}")
        rows.append(
            {
                "sample": sample,
                "item": item,
                "post": post_of[item],
                "good": good,
                "reason": (answer.get("reason") or "").strip(),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["pairs", "sft"])
    ap.add_argument("--key", required=True)
    ap.add_argument("--sheet", required=True)
    ap.add_argument("--sample", required=True, help="name of the draw, e.g. i16-preference")
    ap.add_argument("--out", help="default: judgments.csv / sft_judgments.csv next to this script")
    args = ap.parse_args(argv)
    sheet = _read_csv(args.sheet)
    if args.what == "pairs":
        rows = pair_rows(json.loads(Path(args.key).read_text()), sheet, args.sample, args.sheet)
        out = args.out or HERE / "judgments.csv"
        added, skipped = _append(
            out, PAIR_COLUMNS, rows, lambda r: (r["sample"], r["kind"], r["comment_1"], r["comment_2"])
        )
    else:
        rows = sft_rows(_read_csv(args.key), sheet, args.sample, args.sheet)
        out = args.out or HERE / "sft_judgments.csv"
        added, skipped = _append(out, SFT_COLUMNS, rows, lambda r: (r["sample"], r["item"]))
    print(f"{out}: added {added} rows, skipped {skipped} already recorded for this sample")
    return 0


if __name__ == "__main__":
    sys.exit(main())
