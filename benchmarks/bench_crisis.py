"""Crisis screen: recall and false positives on the labeled test set, and its cost inside a real build.

    python benchmarks/bench_crisis.py [--data ../shared/data/reddit-college] [--out bench-output] [--no-build]

1. `benchmarks/crisis/posts.jsonl` (invented posts, see its README): recall on high-risk posts and the
   false-positive rate on low-risk posts, overall, per category and per language, for the `dev` part
   (used while writing the lexicon) and the `heldout` part (not looked at while tuning), beside the
   14-term regular expression the kit used before (baseline). Targets: recall >= 0.95 with no category
   below 0.85, false positives <= 0.10.
2. A full `python -m dataset_builder build` of reddit-college in a subprocess: the screen's own seconds
   (logged by `dataset_builder.pipeline._screen_crisis`, counts only) against the build's wall time (target <= 10%),
   and the share of rows flagged `is_sensitive`. Skipped when the data folder is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TEST_SET = ROOT / "benchmarks" / "crisis" / "posts.jsonl"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "reddit-college"

# The screen before issue 10 (then `safety/crisis.py`), kept here as the baseline.
OLD_TERMS = [
    r"suicid\w*",
    r"kill(ing)? my ?self",
    r"end(ing)? (it all|my life|things)",
    r"take my (own )?life",
    r"want(ed)? to die",
    r"wish i (was|were) dead",
    r"better off dead",
    r"don'?t want to (live|be alive|exist)",
    r"self[- ]?harm\w*",
    r"cut(ting)? my(self| wrists?| arms?)",
    r"overdos\w*",
    r"no reason to live",
    r"hang(ing)? my ?self",
    r"jump(ing)? off (a|the) (bridge|building|roof)",
]
OLD_RE = re.compile(r"\b(" + "|".join(OLD_TERMS) + r")\b")


def rates(rows: list[dict], flags: list[bool]) -> dict[str, dict[str, float]]:
    """{"overall"|category|"lang:xx": {"n", "recall" or "fp_rate"}} for high- and low-risk rows."""
    groups: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for row, flag in zip(rows, flags, strict=True):
        for key in ("overall", row["category"], f"lang:{row['lang']}"):
            groups[(row["label"], key)].append(flag)
    out: dict[str, dict[str, float]] = {}
    for (label, key), values in sorted(groups.items()):
        metric = "recall" if label == "high" else "fp_rate"
        out.setdefault(label, {})[key] = {"n": len(values), metric: sum(values) / len(values)}
    return out


def print_table(title: str, new: dict, old: dict) -> None:
    print(f"\n{title}")
    for label, metric in (("high", "recall"), ("low", "fp_rate")):
        print(f"  {'high-risk recall' if label == 'high' else 'low-risk false-positive rate'}:")
        for key, value in new[label].items():
            print(
                f"    {key:<20} n={value['n']:<4} screen {value[metric]:.3f}   old regex {old[label][key][metric]:.3f}"
            )


def test_set() -> dict:
    from redditess_core.safety import screen_texts

    rows = [json.loads(line) for line in TEST_SET.read_text(encoding="utf-8").splitlines()]
    started = time.perf_counter()
    results = screen_texts([r["text"] for r in rows])
    seconds = time.perf_counter() - started
    report = {}
    for split in ("dev", "heldout", "all"):
        idx = [i for i, r in enumerate(rows) if split == "all" or r["split"] == split]
        part = [rows[i] for i in idx]
        new = rates(part, [results[i].high_risk for i in idx])
        old = rates(part, [OLD_RE.search(rows[i]["text"].lower()) is not None for i in idx])
        print_table(f"== test set: {split} ({len(part)} posts)", new, old)
        categories = {
            k: v["recall"] for k, v in new["high"].items() if not k.startswith(("lang:", "overall"))
        }
        recall, fp = new["high"]["overall"]["recall"], new["low"]["overall"]["fp_rate"]
        ok = recall >= 0.95 and min(categories.values()) >= 0.85 and fp <= 0.10
        print(
            f"  targets (recall >= 0.95, every category >= 0.85, FP <= 0.10): recall {recall:.3f}, "
            f"worst category {min(categories.values()):.3f}, FP {fp:.3f} -> {'PASS' if ok else 'FAIL'}"
        )
        report[split] = {"screen": new, "old_regex": old, "targets_met": ok}
    print(f"\n  screening the {len(rows)} posts took {seconds:.2f} s in one batch")
    return report


def build_cost(data: Path, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    target = out / "crisis-build"
    env = {**os.environ, "REDDITESS_PSEUDONYM_KEY": "bench-key-not-secret", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "dataset_builder", "build", "--input", str(data), "--out", str(target)]
    cmd += ["--overwrite", "--log_level", "INFO"]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"build failed:\n{done.stderr[-3000:]}")
    screen = re.findall(r"crisis screen (\w+): (\d+) of (\d+) texts flagged in ([\d.]+) s", done.stderr)
    screen_seconds = sum(float(s) for *_, s in screen)
    import pyarrow.parquet as pq

    flagged = total = 0
    for f in sorted((target / "data" / "comments").glob("*.parquet")):
        col = pq.read_table(f, columns=["is_sensitive"]).column(0).to_pylist()
        flagged, total = flagged + sum(col), total + len(col)
    print(f"\n== build of {data.name}: {wall:.1f} s wall")
    for table, n_flag, n, seconds in screen:
        print(
            f"  {table}: {n_flag} of {n} texts flagged ({int(n_flag) / int(n):.2%}), screen {float(seconds):.2f} s"
        )
    share = screen_seconds / wall
    print(f"  crisis screen: {screen_seconds:.2f} s = {share:.1%} of the build (target <= 10%)")
    print(f"  comments config: {flagged} of {total} rows is_sensitive ({flagged / total:.2%})")
    return {
        "build_seconds": wall,
        "screen_seconds": screen_seconds,
        "screen_share": share,
        "is_sensitive_rows": flagged,
        "rows": total,
        "tables": {t: {"flagged": int(a), "texts": int(b), "seconds": float(s)} for t, a, b, s in screen},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=None, help="Work folder (default: a temporary one).")
    parser.add_argument("--no-build", action="store_true", help="Only the labeled test set.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this JSON file.")
    args = parser.parse_args()
    report = {"test_set": test_set()}
    if not args.no_build:
        if not args.data.is_dir():
            print(f"\n(build cost skipped: {args.data} not found)")
        else:
            with tempfile.TemporaryDirectory(prefix="bench-crisis-") as tmp:
                report["build"] = build_cost(args.data, args.out or Path(tmp))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
