"""The Spark engine beside the embedded one, measured side by side in one run (issue 15's scale plan).

    python benchmarks/bench_spark.py [--data ../shared/data/reddit-college] [--subreddits GradSchool]
                                     [--spark_master local[2]] [--out bench-output]

For each input, the synthetic sample (`dataset_builder.synthetic`), a reddit-college subset (the dumps
of `--subreddits`) and every reddit-college dump filtered to `--filtered` (the shape of a build from an
all-Reddit dump: everything decoded, under 1% kept; both skipped when `--data` is absent), one build with the embedded engine (DuckDB, 2 threads)
and one with `--engine spark --spark_master local[2]`, each in a fresh subprocess (`--similarity lexical`),
and prints:

- wall time, CPU seconds and peak memory of the whole process tree (the build's Python process, Spark's
  JVM and its Python workers): CPU from psutil's per-process times, sampled every 100 ms and summed over
  every process seen (a process that ends between two samples loses its last 100 ms); memory as the
  root's RSS plus every descendant's USS (forked workers share pages with their parent: RSS would count
  them twice), the peak of the sums;
- each stage's wall time (the manifest's `timings_seconds`) and records per second per core: the lines
  the reader read (every record of the dumps, kept or not) over the stage's seconds times 2 (the cores both
  engines are given);
- Spark only, from its event log (written for the bench alone through `spark_session.start(conf=...)`):
  shuffle bytes written and read, per million comments read, executor CPU seconds, tasks;
- the ratios Spark / embedded for time, CPU and peak memory, and that both engines wrote the same rows.

Results also go to `<out>/bench_spark.json`. The load average is printed with each build: on a shared
machine absolute times are noisy, the ratios measured side by side are the figures to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import pyarrow.parquet as pq

from redditess_core.contract import MANIFEST_FILE

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "reddit-college"
CORES = 2

# A build in this subprocess; with a Spark master, the session is started first with the bench's event log
# (the build's engine then runs in it: spark_engine.connect uses the active session).
RUNNER = r"""
import json, sys
conf = json.loads(sys.argv[1])
spark = None
if conf:
    from dataset_builder import spark_session
    spark = spark_session.start(conf.pop("master"), app_name="redditess-bench", conf=conf)
from dataset_builder.__main__ import main
try:
    code = main(sys.argv[2:])
finally:
    if spark is not None:
        spark.stop()  # closes the event log
sys.exit(code)
"""


def measure(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Wall time, CPU seconds and peak memory of `cmd`'s whole process tree (see the module docstring)."""
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    root = psutil.Process(proc.pid)
    cpu: dict[tuple[int, float], float] = {}  # (pid, create time) -> last CPU seconds seen
    peak = 0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            memory = 0
            for i, p in enumerate(tree):
                with p.oneshot():
                    times = p.cpu_times()
                    cpu[(p.pid, p.create_time())] = times.user + times.system
                    memory += p.memory_info().rss if i == 0 else p.memory_full_info().uss
            peak = max(peak, memory)
        except psutil.Error:
            pass
        time.sleep(0.1)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{err.decode()[-3000:]}")
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(sum(cpu.values()), 2),
        "peak_mib": round(peak / 2**20),
        "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def event_log_totals(folder: Path) -> dict[str, Any]:
    """Sums over the tasks of Spark's event log in `folder` (one application): shuffle bytes written and
    read, executor CPU seconds, and the number of tasks."""
    # Spark 4 rolls its event log: a folder eventlog_v2_<app id> of files events_<n>_<app id>.
    logs = sorted(p for p in folder.rglob("events_*") if p.is_file())
    if not logs:
        raise SystemExit(f"no Spark event log under {folder}")
    totals = {"tasks": 0, "shuffle_write_bytes": 0, "shuffle_read_bytes": 0, "executor_cpu_seconds": 0.0}
    for log in logs:
        for line in log.read_text(encoding="utf-8").splitlines():
            if '"SparkListenerTaskEnd"' not in line:
                continue
            metrics = json.loads(line).get("Task Metrics") or {}
            read = metrics.get("Shuffle Read Metrics", {})
            totals["tasks"] += 1
            totals["shuffle_write_bytes"] += metrics.get("Shuffle Write Metrics", {}).get(
                "Shuffle Bytes Written", 0
            )
            totals["shuffle_read_bytes"] += read.get("Remote Bytes Read", 0) + read.get("Local Bytes Read", 0)
            totals["executor_cpu_seconds"] += metrics.get("Executor CPU Time", 0) / 1e9
    totals["executor_cpu_seconds"] = round(totals["executor_cpu_seconds"], 2)
    return totals


def build(data: Path, out: Path, engine: str, master: str, tmp: Path, extra: list[str]) -> dict[str, Any]:
    """One build of `data` on `engine`, measured; returns the figures and the manifest's stages."""
    conf: dict[str, str] = {}
    events = tmp / f"events-{out.name}"
    if engine == "spark":
        events.mkdir()
        conf = {
            "master": master,
            "spark.eventLog.enabled": "true",
            "spark.eventLog.dir": events.as_uri(),
            "spark.eventLog.compress": "false",
            "spark.local.dir": str(tmp / "spark-local"),
        }
    args = ["build", "--input", str(data), "--out", str(out), "--similarity", "lexical", "--threads", str(CORES),
            "--log_level", "WARNING", *extra]  # fmt: skip
    if engine == "spark":
        args += ["--engine", "spark", "--spark_master", master]
    env = os.environ | {"CI": "1", "REDDITESS_PSEUDONYM_KEY": "benchmark-key-not-secret"}
    figures = measure([sys.executable, "-c", RUNNER, json.dumps(conf), *args], env)
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    counts = manifest["counts"]
    records = (
        manifest["reader"]["totals"].get("lines_read") or counts["submissions_read"] + counts["comments_read"]
    )
    figures.update(
        records_read=records,
        comments_read=counts["comments_read"],
        stage_seconds=manifest["timings_seconds"],
        records_per_second_per_core={
            stage: round(records / (seconds * CORES)) if seconds else None
            for stage, seconds in manifest["timings_seconds"].items()
        },
        rows={c: sum(s["num_rows"] for s in v["splits"].values()) for c, v in manifest["configs"].items()},
    )
    if engine == "spark":
        spark = event_log_totals(events)
        million = counts["comments_read"] / 1e6
        spark["shuffle_mib_per_million_comments"] = (
            round((spark["shuffle_write_bytes"] / 2**20) / million, 1) if million else None
        )
        figures["spark"] = spark
    return figures


def same_rows(a: Path, b: Path) -> bool:
    """Every parquet file of build `a` holds the rows of its namesake in `b` (row order aside)."""
    files = sorted(p.relative_to(a) for p in (a / "data").rglob("*.parquet"))
    if files != sorted(p.relative_to(b) for p in (b / "data").rglob("*.parquet")):
        return False
    for name in files:
        rows_a, rows_b = (pq.read_table(root / name).to_pylist() for root in (a, b))
        key = lambda row: json.dumps(row, sort_keys=True, default=str)  # noqa: E731
        if sorted(map(key, rows_a)) != sorted(map(key, rows_b)):
            return False
    return True


def subset(data: Path, subreddits: list[str], dst: Path) -> Path:
    """A folder of symlinks to the dumps of `subreddits` in `data`."""
    dst.mkdir()
    for name in subreddits:
        for kind in ("submissions", "comments"):
            (dst / f"{name}_{kind}.zst").symlink_to((data / f"{name}_{kind}.zst").resolve())
    return dst


def _print(label: str, r: dict[str, Any]) -> None:
    print(
        f"  {label:<9} {r['seconds']:7.1f} s  {r['cpu_seconds']:7.1f} CPU s  peak {r['peak_mib']:5d} MiB  "
        f"(load {r['load'][0]}->{r['load'][1]})"
    )
    stages = "  ".join(f"{s} {n:,}" for s, n in r["records_per_second_per_core"].items() if n)
    print(f"            records/s/core by stage: {stages}")
    if "spark" in r:
        s = r["spark"]
        print(
            f"            shuffle written {s['shuffle_write_bytes'] / 2**20:.1f} MiB "
            f"({s['shuffle_mib_per_million_comments']} MiB per million comments), read "
            f"{s['shuffle_read_bytes'] / 2**20:.1f} MiB; {s['tasks']} tasks, executor CPU {s['executor_cpu_seconds']} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--subreddits", default="GradSchool", help="Comma-separated dumps of --data to build."
    )
    parser.add_argument(
        "--filtered",
        default="CollegeAdvice",
        help="Also build every dump of --data filtered to this subreddit (the reader's decode and pre-filter "
        "rate, as on an all-Reddit dump); empty to skip.",
    )
    parser.add_argument("--spark_master", default="local[2]")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-output")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="redditess-bench-spark-") as name:
        tmp = Path(name)
        from dataset_builder.synthetic import write_sample

        write_sample(tmp / "synthetic", seed=0)
        inputs = {"synthetic sample": tmp / "synthetic"}
        if args.data.is_dir():
            chosen = [s for s in args.subreddits.split(",") if s]
            inputs[f"reddit-college {'+'.join(chosen)}"] = subset(args.data, chosen, tmp / "subset")
        else:
            print(f"reddit-college not found at {args.data}: the synthetic sample only")
        extra: dict[str, list[str]] = {label: [] for label in inputs}
        if args.data.is_dir() and args.filtered:
            label = f"reddit-college, all dumps read, filtered to {args.filtered}"
            inputs[label], extra[label] = args.data, ["--subreddits", args.filtered]
        for label, data in inputs.items():
            print(f"{label}:")
            outs = {}
            for engine in ("duckdb", "spark"):
                outs[engine] = tmp / f"build-{len(results)}-{engine}"
                figures = build(data, outs[engine], engine, args.spark_master, tmp, extra[label])
                results.setdefault(label, {})[engine] = figures
                _print(engine, figures)
            duck, spark = results[label]["duckdb"], results[label]["spark"]
            ratios = {k: round(spark[k] / duck[k], 2) for k in ("seconds", "cpu_seconds", "peak_mib")}
            results[label]["spark_over_duckdb"] = ratios
            results[label]["same_rows"] = same_rows(outs["duckdb"], outs["spark"])
            print(
                f"  spark / duckdb: time {ratios['seconds']}x, CPU {ratios['cpu_seconds']}x, peak memory "
                f"{ratios['peak_mib']}x; same rows: {results[label]['same_rows']}"
            )
            (args.out / "bench_spark.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
