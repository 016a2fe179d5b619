"""Filters in the reader (issue 13 §1), on monthly-style dumps, measured side by side in one run.

    python benchmarks/bench_reader.py [--data ../shared/data/reddit-college] [--out bench-output]
                                      [--skip-build]

The six reddit-college comment files are concatenated (byte for byte: a multi-frame zstd file with the
dumps' 2 GiB window) into one `RC_2021-12.zst`, the submissions into one `RS_2021-12.zst`, in a
temporary folder (never committed). Then, each in a fresh subprocess, timed inside the process (start-up
and imports excluded) with its peak RSS:

- decode floor: zstd decompression of both whole files, lines counted, nothing else;
- reference: the procedure of PushshiftDumps' `filter_file.py` (json.loads on every line, exact
  subreddit match), filtering r/GradSchool; the kept lines are counted, not written;
- kit ingest only (`dataset_builder.ingest` with the reader's filter) to r/GradSchool (~12% of records)
  and r/CollegeAdvice (<1%), and, for r/GradSchool, the same with the byte pre-filter off (every line
  parsed, exact check only); staging size on disk vs the kept records' JSON size. Start-up excluded
  here means imports plus one untimed ingest of a one-line file (`warm_up`: DuckDB's file-object JSON
  reader loads fsspec and pandas on first use), printed apart as a constant per process;
- kit whole build (`python -m dataset_builder build --subreddits X --similarity lexical`), wall time of
  the command including start-up.

Targets: ingest GradSchool <= 1.5x and CollegeAdvice <= 1.0x the decode floor; staging <= 2x the kept
JSON. The issue's "6.1 s vs 2.5 s" was a whole build filtered to GradSchool: both ratios are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "reddit-college"
TARGETS = {"ingest_GradSchool": 1.5, "ingest_CollegeAdvice": 1.0, "staging_over_kept_json": 2.0}


def _peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """CPU time of this process so far (user + system, all threads)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class ThreadCPU:
    """CPU seconds of each thread of this process, sampled from /proc/self/task every 10 ms (a thread's
    figure is its last sample before it ends: up to 10 ms low). The busiest thread's CPU bounds the wall
    time from below on free cores, whatever the machine's load: it is the reader's critical path."""

    def __init__(self) -> None:
        import threading

        self.seconds: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK")

    def _sample(self) -> None:
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:  # the thread ended
                continue
            self.seconds[int(task)] = (int(fields[11]) + int(fields[12])) / self._tick

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self._sample()

    def __enter__(self) -> ThreadCPU:
        self._sample()
        self.before = dict(self.seconds)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        own = self._thread.native_id
        self.used = {
            tid: value - self.before.get(tid, 0.0) for tid, value in self.seconds.items() if tid != own
        }

    @property
    def busiest(self) -> float:
        return max(self.used.values(), default=0.0)


def _timed(function, *args) -> dict:
    """Run `function(*args)`; its result plus wall `seconds`, `cpu_seconds` of the call and the CPU of
    its busiest thread (`busiest_thread_cpu_seconds`, `ThreadCPU`)."""
    with ThreadCPU() as threads:
        cpu, start = _cpu_seconds(), time.perf_counter()
        result = function(*args)
        seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    return {
        **result,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "busiest_thread_cpu_seconds": threads.busiest,
        "threads": len([v for v in threads.used.values() if v > 0]),
    }


def _lines(path: Path):
    """Decompressed newline-aligned blocks of a dump (all frames)."""
    import zstandard

    dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
    with open(path, "rb") as handle, dctx.stream_reader(handle, read_across_frames=True) as reader:
        rest = b""
        while block := reader.read(1 << 24):
            data = rest + block
            cut = data.rfind(b"\n") + 1
            yield data[:cut]
            rest = data[cut:]
        if rest:
            yield rest


def worker_floor(files: list[Path]) -> dict:
    lines = 0
    size = 0
    for path in files:
        for block in _lines(path):
            lines += block.count(b"\n")
            size += len(block)
    return {"lines": lines, "bytes": size}


def worker_reference(files: list[Path], name: str) -> dict:
    """PushshiftDumps `filter_file.py`'s procedure: decode each line, json.loads, compare the field. The
    kept JSON size of every benchmarked subreddit is summed in the same pass (a dict lookup per line)."""
    target = name.lower()
    sizes: dict[str, int] = {}
    kept = 0
    for path in files:
        for block in _lines(path):
            for line in block.decode("utf-8").splitlines():
                obj = json.loads(line)
                subreddit = obj["subreddit"].lower()
                if subreddit == target:
                    kept += 1
                sizes[subreddit] = sizes.get(subreddit, 0) + len(line.encode()) + 1
    return {"kept": kept, "kept_json_bytes_by_subreddit": sizes}


def worker_ingest(files: list[Path], name: str, work: Path, prefilter: bool) -> dict:
    import duckdb

    from dataset_builder.ingest import ingest
    from dataset_builder.record_filter import RecordFilter
    from dataset_builder.sources import discover

    con = duckdb.connect(":memory:", config={"memory_limit": "1GB"})
    report = ingest(con, discover(files), work, RecordFilter((name.lower(),), byte_prefilter=prefilter))
    staging = sum(p.stat().st_size for p in (work / "staging").glob("*.parquet"))
    return {"staging_bytes": staging, "reader": report.reader_summary()["totals"]}


def warm_up(work: Path) -> dict:
    """Start-up of the reader, as the floor's start-up is excluded: imports, then one ingest of a one-line
    file, whose first use of DuckDB's file-object JSON reader loads more modules (fsspec, pandas...),
    about 0.3-0.4 s of CPU once per process, not per line."""
    import duckdb

    from dataset_builder.ingest import ingest
    from dataset_builder.record_filter import RecordFilter
    from dataset_builder.sources import discover

    folder = work.parent / f"{work.name}-warmup"
    folder.mkdir(parents=True, exist_ok=True)
    line = {
        "id": "w1",
        "link_id": "t3_w",
        "parent_id": "t3_w",
        "body": "b",
        "subreddit": "w",
        "created_utc": 1,
    }
    (folder / "RC_warmup.jsonl").write_text(json.dumps(line) + "\n")
    ingest(duckdb.connect(), discover([folder / "RC_warmup.jsonl"]), folder / "work", RecordFilter(("w",)))
    shutil.rmtree(folder, ignore_errors=True)
    return {}


def run_worker(args: list[str], code: Path = ROOT) -> dict:
    """One measurement in a fresh interpreter, importing the kit from `code` (a checkout); its JSON result
    plus its peak RSS."""
    cmd = [sys.executable, __file__, "--worker", *args]
    env = {**os.environ, "PYTHONPATH": str(code), "CI": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise SystemExit(f"worker {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_build(inputs: Path, name: str, out: Path) -> dict:
    """A whole build as users run it: wall time of the command and the process's peak RSS."""
    cmd = [sys.executable, "-m", "dataset_builder", "build", "--input", str(inputs), "--out", str(out),
           "--subreddits", name, "--similarity", "lexical", "--overwrite", "--log_level", "WARNING"]  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CI": "1",
        "REDDITESS_PSEUDONYM_KEY": "bench-key-0123456789abcdef",
    }
    log = out.parent / f"{out.name}.log"
    start = time.perf_counter()
    with open(log, "wb") as stderr:
        process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"build {name} failed:\n{log.read_text()[-3000:]}")
    manifest = json.loads((out / "manifest.json").read_text())
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "ingest_seconds": manifest["timings_seconds"]["ingest"],
        "reader": manifest["reader"]["totals"],
    }


def compare(files: list[str], baseline: Path, repeat: int, tmp: Path) -> dict:
    """A/B of the reader: `repeat` rounds, each measuring the floor, then ingest (GradSchool, CollegeAdvice)
    with this checkout's code and with `baseline`'s (another checkout of the kit, e.g. `git worktree add`
    of an earlier commit), alternating. Ratios are taken to the same round's floor; medians are printed,
    so that a shared machine's load drifts alike over both."""
    import statistics

    rounds: dict[str, list[dict]] = {}
    for index in range(repeat):
        order = [("this", ROOT), ("baseline", baseline)]
        if index % 2:
            order.reverse()
        floor = run_worker(["floor", *files])
        rounds.setdefault("floor", []).append(floor)
        for name in ("GradSchool", "CollegeAdvice"):
            for which, code in order:
                work = tmp / f"ab-{which}-{name}"
                result = run_worker(["ingest", name, str(work), "1", *files], code)
                shutil.rmtree(work, ignore_errors=True)
                result["over_floor"] = result["seconds"] / floor["seconds"]
                result["cpu_over_floor_cpu"] = result["cpu_seconds"] / floor["cpu_seconds"]
                result["busiest_over_floor_cpu"] = result["busiest_thread_cpu_seconds"] / floor["cpu_seconds"]
                rounds.setdefault(f"ingest_{name}_{which}", []).append(result)
        print(f"round {index + 1}/{repeat} done, load average {os.getloadavg()[0]:.1f}")
    summary = {}
    print(f"\n{'median of ' + str(repeat) + ' rounds':<34}{'wall s':>8}{'x floor':>9}{'CPU s':>8}{'x floor':>9}"
          f"{'busiest thread CPU s':>22}{'x floor':>9}")  # fmt: skip
    keys = ("seconds", "cpu_seconds", "busiest_thread_cpu_seconds", "over_floor", "cpu_over_floor_cpu",
            "busiest_over_floor_cpu")  # fmt: skip
    for label, results in rounds.items():
        median = {
            key: round(statistics.median([r[key] for r in results]), 3) for key in keys if key in results[0]
        }
        summary[label] = {"median": median, "rounds": results}
        print(f"{label:<34}{median['seconds']:>8.2f}{median.get('over_floor', 1):>9.2f}"
              f"{median['cpu_seconds']:>8.2f}{median.get('cpu_over_floor_cpu', 1):>9.2f}"
              f"{median['busiest_thread_cpu_seconds']:>22.2f}{median.get('busiest_over_floor_cpu', 1):>9.2f}")  # fmt: skip
    print("x floor: to the same round's floor (wall to wall, CPU to CPU). The busiest thread's CPU is the reader's "
          "critical path: its wall time on free cores cannot be lower, and a loaded machine does not change it.")  # fmt: skip
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-output")
    parser.add_argument("--skip-build", action="store_true", help="Measure the reader only.")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="Another checkout of the kit: compare its reader with this one's, alternating, --repeat rounds "
        "(writes bench_reader_ab.json; nothing else is measured).",
    )
    parser.add_argument("--repeat", type=int, default=3, help="Rounds of the --baseline comparison.")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        files = [Path(p) for p in rest[-2:]]
        if kind == "floor":
            result = _timed(worker_floor, files)
        elif kind == "reference":
            result = _timed(worker_reference, files, rest[0])
        else:  # ingest NAME WORK PREFILTER RC RS
            warmup = _timed(warm_up, Path(rest[1]))  # start-up, not reading: untimed, reported apart
            result = _timed(worker_ingest, files, rest[0], Path(rest[1]), rest[2] == "1")
            result["warmup_seconds"] = round(warmup["seconds"], 3)
            result["warmup_cpu_seconds"] = round(warmup["cpu_seconds"], 3)
        result["peak_rss_mib"] = _peak_rss_mib()
        print(json.dumps(result))
        return

    comments = sorted(args.data.glob("*_comments.zst"))
    submissions = sorted(args.data.glob("*_submissions.zst"))
    if len(comments) != 6 or len(submissions) != 6:
        raise SystemExit(f"expected the six reddit-college subreddits under {args.data}")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-reader-") as tmp:
        month = Path(tmp) / "month"
        month.mkdir()
        rc, rs = month / "RC_2021-12.zst", month / "RS_2021-12.zst"
        for target, parts in ((rc, comments), (rs, submissions)):
            with open(target, "wb") as out:
                for part in parts:
                    with open(part, "rb") as handle:
                        shutil.copyfileobj(handle, out)
        files = [str(rc), str(rs)]
        results: dict = {"input": {"RC_2021-12.zst": rc.stat().st_size, "RS_2021-12.zst": rs.stat().st_size}}
        results["load_average_start"] = [round(x, 2) for x in os.getloadavg()]
        if args.baseline:
            results["baseline"] = str(args.baseline)
            results["ab"] = compare(files, args.baseline.resolve(), args.repeat, Path(tmp))
            results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
            (args.out / "bench_reader_ab.json").write_text(json.dumps(results, indent=2) + "\n")
            print(
                f"load average at start {results['load_average_start']}, at end {results['load_average_end']}"
            )
            print(f"written: {args.out / 'bench_reader_ab.json'}")
            return
        results["floor"] = floor = run_worker(["floor", *files])
        print(
            f"decode floor: {floor['seconds']:.2f}s for {floor['lines']:,} lines ({floor['bytes'] / 2**20:,.0f} MiB)"
        )
        results["reference_GradSchool"] = reference = run_worker(["reference", "GradSchool", *files])
        kept_json = reference.pop("kept_json_bytes_by_subreddit")
        print(f"reference (json.loads every line) GradSchool: {reference['seconds']:.2f}s")
        for name, prefilter in (("GradSchool", True), ("CollegeAdvice", True), ("GradSchool", False)):
            label = f"ingest_{name}" + ("" if prefilter else "_no_prefilter")
            work = Path(tmp) / label
            result = run_worker(["ingest", name, str(work), "1" if prefilter else "0", *files])
            result["kept_json_bytes"] = kept_json.get(name.lower(), 0)
            result["staging_over_kept_json"] = result["staging_bytes"] / max(result["kept_json_bytes"], 1)
            results[label] = result
            shutil.rmtree(work, ignore_errors=True)
            print(f"{label}: {result['seconds']:.2f}s, kept {result['reader']['records_kept']:,}")
        if not args.skip_build:
            for name in ("GradSchool", "CollegeAdvice"):
                results[f"build_{name}"] = run_build(month, name, Path(tmp) / f"out-{name}")
                print(f"build_{name}: {results[f'build_{name}']['seconds']:.2f}s")

    base, base_cpu = floor["seconds"], floor["cpu_seconds"]
    rows = []
    for label, value in results.items():
        if label in ("input", "floor") or label.startswith("load_average"):
            continue
        value["over_floor"] = round(value["seconds"] / base, 2)
        value["cpu_over_floor_cpu"] = round(value["cpu_seconds"] / base_cpu, 2)
        if "busiest_thread_cpu_seconds" in value:
            value["busiest_over_floor_cpu"] = round(value["busiest_thread_cpu_seconds"] / base_cpu, 2)
        rows.append((label, value))
    results["targets"] = {
        "ingest_GradSchool_over_floor": (
            results["ingest_GradSchool"]["over_floor"],
            TARGETS["ingest_GradSchool"],
        ),
        "ingest_CollegeAdvice_over_floor": (
            results["ingest_CollegeAdvice"]["over_floor"],
            TARGETS["ingest_CollegeAdvice"],
        ),
        "staging_over_kept_json_GradSchool": (
            round(results["ingest_GradSchool"]["staging_over_kept_json"], 2),
            TARGETS["staging_over_kept_json"],
        ),
        "staging_over_kept_json_CollegeAdvice": (
            round(results["ingest_CollegeAdvice"]["staging_over_kept_json"], 2),
            TARGETS["staging_over_kept_json"],
        ),
    }
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    (args.out / "bench_reader.json").write_text(json.dumps(results, indent=2) + "\n")

    print()
    print(f"{'measurement':<32}{'wall s':>8}{'x floor':>9}{'CPU s':>8}{'x floor':>9}{'busiest thr. x':>16}"
          f"{'peak RSS MiB':>14}{'kept':>10}{'staging/JSON':>14}")  # fmt: skip
    print(f"{'decode floor (zstd, lines)':<32}{base:>8.2f}{1:>9.2f}{base_cpu:>8.2f}{1:>9.2f}{1:>16.2f}"
          f"{floor['peak_rss_mib']:>14,.0f}")  # fmt: skip
    for label, value in rows:
        kept = value.get("reader", {}).get("records_kept", value.get("kept", ""))
        ratio = f"{value['staging_over_kept_json']:.2f}" if "staging_over_kept_json" in value else ""
        busiest = f"{value['busiest_over_floor_cpu']:.2f}" if "busiest_over_floor_cpu" in value else ""
        print(f"{label:<32}{value['seconds']:>8.2f}{value['over_floor']:>9.2f}{value['cpu_seconds']:>8.2f}"
              f"{value['cpu_over_floor_cpu']:>9.2f}{busiest:>16}{value['peak_rss_mib']:>14,.0f}{kept:>10,}"
              f"{ratio:>14}")  # fmt: skip
    print("ingest_*: the reader only (in-process, start-up excluded); build_*: the whole build command "
          "(start-up included). Targets are on wall time; CPU time is printed beside it because on a shared "
          "machine the reader's second thread (decompression overlapping the pre-filter and parsing) may find no free core. 'busiest thr. x': "
          "the CPU of the busiest thread over the floor's CPU, the reader's critical path on free cores.")  # fmt: skip
    warmups = [value["warmup_seconds"] for label, value in rows if "warmup_seconds" in value]
    print(
        f"ingest warm-up (untimed above: imports + one one-line ingest): {min(warmups):.2f}-{max(warmups):.2f}s"
    )
    print(
        f"load average (1, 5, 15 min) at start {results['load_average_start']}, "
        f"at end {results['load_average_end']}"
    )
    for key, (value, target) in results["targets"].items():
        print(f"  {key}: {value} (target <= {target}) {'OK' if value <= target else 'MISSED'}")
    print(f"written: {args.out / 'bench_reader.json'}")


if __name__ == "__main__":
    main()
