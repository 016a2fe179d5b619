"""The normalizing SQL alone (steps `normalize_submissions` / `normalize_comments`, issue 13 §2-3).

    python benchmarks/bench_normalize.py [--data ../shared/data/reddit-college] [--subreddit gradschool]
                                         [--passes 5] [--baseline CHECKOUT --repeat 3] [--out bench-output]

A worker process ingests `--data` filtered to one subreddit (the monthly-style case: r/GradSchool keeps
~67k of 577k records) and keeps the Arrow chunks the reader hands to the staging step, then runs
`normalize.select` over all of them `--passes` times, timing each pass (process CPU and wall; ingest,
imports and the first render excluded). With `--baseline`, the same worker runs from that checkout
(its own `dataset_builder`) and from this one, alternating, `--repeat` rounds; the kept row counts and a
hash of the staged rows must agree. Prints the median CPU seconds per pass and the ratio.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "reddit-college"


def worker(data: Path, subreddit: str, passes: int) -> dict:
    import duckdb

    from dataset_builder import ingest as ingest_module
    from dataset_builder import normalize
    from dataset_builder.record_filter import RecordFilter
    from dataset_builder.sources import discover

    chunks = []
    stage = ingest_module.Staging.add

    def capture(self, kind, table, file_idx):  # the chunk exactly as Staging.add normalizes it
        keep = self.filter.keep_mask(table)
        kept = table.filter(keep) if keep is not None else table
        chunks.append((kind, ingest_module.clean_texts(kept), file_idx))
        return stage(self, kind, table, file_idx)

    ingest_module.Staging.add = capture
    with tempfile.TemporaryDirectory(prefix="bench-normalize-") as tmp:
        ingest_module.ingest(
            duckdb.connect(), discover([data]), Path(tmp), RecordFilter((subreddit.lower(),))
        )
    con = duckdb.connect()
    for kind, _, file_idx in chunks:  # the first render (sqlglot) is per process, not per row
        normalize.select(kind, "_chunk", file_idx)
    timings, digest = [], hashlib.sha256()
    for i in range(passes):
        cpu, wall = time.process_time(), time.perf_counter()
        outputs = []
        for kind, table, file_idx in chunks:
            con.register("_chunk", table)
            outputs.append(con.sql(normalize.select(kind, "_chunk", file_idx)).to_arrow_table())
            con.unregister("_chunk")
        timings.append((time.process_time() - cpu, time.perf_counter() - wall))
        if i == 0:
            for table in outputs:
                digest.update(repr(table.to_pylist()).encode())
    return {
        "rows": {k: sum(t.num_rows for kk, t, _ in chunks if kk == k) for k in ("submissions", "comments")},
        "staged_sha256": digest.hexdigest(),
        "cpu_seconds": [round(c, 4) for c, _ in timings],
        "seconds": [round(w, 4) for _, w in timings],
    }


def run_worker(tree: Path, args: argparse.Namespace) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(args.data), args.subreddit]
    command.append(str(args.passes))
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=tree)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--subreddit", default="gradschool")
    parser.add_argument("--passes", type=int, default=5, help="Timed passes over the chunks per worker.")
    parser.add_argument("--baseline", type=Path, help="Another checkout of the kit to compare with.")
    parser.add_argument("--repeat", type=int, default=3, help="Alternating rounds with --baseline.")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-output")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(Path(args.worker[0]), args.worker[1], int(args.worker[2]))))
        return
    if not args.data.is_dir():
        sys.exit(f"no data folder {args.data} (see shared/data/README.md)")
    trees = {"this": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    results: dict[str, list[dict]] = {name: [] for name in trees}
    for round_ in range(args.repeat if args.baseline else 1):
        order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
        for name in order:
            results[name].append(run_worker(trees[name], args))
    summary = {}
    for name, runs in results.items():
        cpu = statistics.median(c for r in runs for c in r["cpu_seconds"])
        wall = statistics.median(w for r in runs for w in r["seconds"])
        summary[name] = {"rows": runs[0]["rows"], "median_cpu_seconds": cpu, "median_seconds": wall}
        print(f"{name:9s} rows {runs[0]['rows']}  median per pass: CPU {cpu:.3f} s, wall {wall:.3f} s")
    if args.baseline:
        same = {r["staged_sha256"] for runs in results.values() for r in runs}
        if len(same) != 1:
            sys.exit("the staged rows differ between the checkouts")
        ratio = summary["baseline"]["median_cpu_seconds"] / summary["this"]["median_cpu_seconds"]
        print(f"baseline / this CPU: {ratio:.2f}x (staged rows identical)")
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"data": str(args.data), "subreddit": args.subreddit, "load_average": os.getloadavg()}
    report |= {"summary": summary, "runs": results}
    (args.out / "bench_normalize.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"written: {args.out / 'bench_normalize.json'}")


if __name__ == "__main__":
    main()
