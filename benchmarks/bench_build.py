"""Builder speed and memory on real dumps, measured side by side in one run.

    python benchmarks/bench_build.py [--data ../shared/data/reddit-college] [--out bench-output]

Prints, for the input (1x) and the same files twice under different ids (2x):
- the decode floor: zstd decompression + pyarrow's JSON parser over the same files, nothing else;
- the full build (`python -m dataset_builder build`), wall time and peak RSS (process + children);
- ratios: build / floor (target <= 4), 2x / 1x time (<= 2.2) and peak RSS (<= 1.3), peak RSS (<= 3 GiB).
Each measurement runs in a fresh subprocess so start-up and memory are counted honestly.
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
from pathlib import Path

import zstandard

from redditess_core.contract import MANIFEST_FILE

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "reddit-college"

FLOOR_CODE = r"""
import io, json, resource, sys, time
from pathlib import Path
import pyarrow.json as pj
import zstandard
start = time.perf_counter()
rows = 0
for path in sorted(Path(sys.argv[1]).glob("*.zst")):
    dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
    with open(path, "rb") as fh, dctx.stream_reader(fh) as reader:
        buf = b""
        while True:
            block = reader.read(1 << 24)
            if not block:
                break
            buf += block
            cut = buf.rfind(b"\n") + 1
            if cut:
                rows += pj.read_json(io.BytesIO(buf[:cut])).num_rows
                buf = buf[cut:]
        if buf.strip():
            rows += pj.read_json(io.BytesIO(buf)).num_rows
print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows}))
"""

ID_FIELDS = re.compile(rb'"(id|link_id|parent_id|name)":(\s*)"(t[1-6]_)?')


def double_input(src: Path, dst: Path) -> None:
    """The same dumps again with every id prefixed `dup` (a distinct copy of every thread)."""
    dst.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.glob("*.zst")):
        (dst / path.name).symlink_to(path.resolve())
        dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
        cctx = zstandard.ZstdCompressor(level=3, threads=2)
        with (
            open(path, "rb") as fin,
            dctx.stream_reader(fin) as reader,
            open(dst / f"dup_{path.name}", "wb") as fout,
        ):
            with cctx.stream_writer(fout) as writer:
                rest = b""
                while block := reader.read(1 << 24):
                    data = rest + block
                    cut = data.rfind(b"\n") + 1
                    writer.write(ID_FIELDS.sub(rb'"\1":\2"\3dup', data[:cut]))
                    rest = data[cut:]
                writer.write(ID_FIELDS.sub(rb'"\1":\2"\3dup', rest))


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Wall time and peak memory of a command, sampled every 20 ms with psutil: the process's RSS plus
    its children's USS (forked workers share the parent's pages; RSS would count them twice)."""
    import psutil

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            rss = ps.memory_info().rss + sum(c.memory_full_info().uss for c in ps.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.02)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{err.decode()[-3000:]}")
    return {"seconds": seconds, "peak_rss_mib": peak / 2**20, "stdout": out.decode()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-output")
    args = parser.parse_args()
    if not args.data.is_dir():
        raise SystemExit(
            f"benchmark data not found: {args.data} (point --data at Pushshift-style .zst dumps)"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    env = os.environ | {"CI": "1", "REDDITESS_PSEUDONYM_KEY": "benchmark-key-not-secret"}
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="redditess-bench-") as tmp:
        doubled = Path(tmp) / "doubled"
        double_input(args.data, doubled)
        for label, data in (("1x", args.data), ("2x", doubled)):
            floor = measure([sys.executable, "-c", FLOOR_CODE, str(data)])
            floor_rows = json.loads(floor["stdout"])["rows"]
            out = Path(tmp) / f"build-{label}"
            build = measure(
                [sys.executable, "-m", "dataset_builder", "build", "--input", str(data), "--out", str(out),
                 "--log_level", "WARNING"],
                env=env,
            )  # fmt: skip
            manifest = json.loads((out / MANIFEST_FILE).read_text())
            results[label] = {
                "input_rows": floor_rows,
                "floor_seconds": round(floor["seconds"], 2),
                "floor_peak_rss_mib": round(floor["peak_rss_mib"]),
                "build_seconds": round(build["seconds"], 2),
                "build_peak_rss_mib": round(build["peak_rss_mib"]),
                "build_over_floor": round(build["seconds"] / floor["seconds"], 2),
                "stage_seconds": manifest["timings_seconds"],
                "rows": {
                    c: sum(s["num_rows"] for s in v["splits"].values())
                    for c, v in manifest["configs"].items()
                },
            }
    one, two = results["1x"], results["2x"]
    summary = {
        "build_over_floor_1x": one["build_over_floor"],
        "time_2x_over_1x": round(two["build_seconds"] / one["build_seconds"], 2),
        "rss_2x_over_1x": round(two["build_peak_rss_mib"] / one["build_peak_rss_mib"], 2),
        "peak_rss_gib": round(max(one["build_peak_rss_mib"], two["build_peak_rss_mib"]) / 1024, 2),
    }
    targets = {"build_over_floor_1x": 4.0, "time_2x_over_1x": 2.2, "rss_2x_over_1x": 1.3, "peak_rss_gib": 3.0}
    print(f"data: {args.data}  ({os.cpu_count()} cores)")
    print(f"{'input':<6}{'rows':>11}{'floor s':>9}{'build s':>9}{'build/floor':>12}{'peak RSS MiB':>14}")
    for label, r in results.items():
        print(f"{label:<6}{r['input_rows']:>11,}{r['floor_seconds']:>9.2f}{r['build_seconds']:>9.2f}"
              f"{r['build_over_floor']:>12.2f}{r['build_peak_rss_mib']:>14,}")  # fmt: skip
        print(f"      stages: {r['stage_seconds']}")
    for key, value in summary.items():
        verdict = "ok" if value <= targets[key] else "MISSED"
        print(f"{key:<22}{value:>8}  (target <= {targets[key]})  {verdict}")
    (args.out / "bench_build.json").write_text(json.dumps({"results": results, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
