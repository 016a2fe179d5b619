"""Builder speed and memory on real dumps, measured side by side in one run.

    python benchmarks/bench_build.py [--data ../shared/data/reddit-college] [--out bench-output]
                                     [--scales 1,2,4] [--encoder-scales 1]

Prints, for the input (1x) and copies of it under changed ids (2x, 4x: every thread again, a distinct one):
- the decode floor: zstd decompression + pyarrow's JSON parser over the same files, nothing else, measured
  right before each build so both see the same machine load;
- the full build (`python -m dataset_builder build --similarity lexical`), wall time and peak memory
  (the build's RSS plus its workers' USS, sampled every 20 ms), and each stage's time and peak RSS (the
  manifest's `timings_seconds` and `peak_rss_mib`);
- the default build (`--similarity auto`: the MiniLM encoder checks the intent of improvement pairs) at
  `--encoder-scales` (1x by default: the encoder alone takes minutes), with its `improvement` stage apart;
- the issue-13 targets: build / floor <= 4 (checked on the lexical build: the target predates the encoder;
  the encoder build's ratio is printed beside it), peak memory <= 3 GiB, 4x / 1x time <= 4.4 and peak
  memory <= 1.3;
- the load average before and after each measurement (other processes on shared machines make absolute
  times noisy; the ratios measured side by side are the figures to compare).
Each measurement runs in a fresh subprocess so start-up and memory are counted honestly.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
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
TARGETS = {
    "build_over_floor": 4.0,
    "build_over_floor_cpu": 4.0,
    "peak_gib": 3.0,
    "time_4x_over_1x": 4.4,
    "time_4x_over_1x_cpu": 4.4,
    "memory_4x_over_1x": 1.3,
}


def scaled_input(src: Path, dst: Path, scale: int) -> None:
    """`scale` copies of the dumps in `dst`: the originals (symlinked) and `scale - 1` copies whose every
    id is prefixed `dup<k>` (distinct threads with the same texts and authors)."""
    dst.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.glob("*.zst")):
        (dst / path.name).symlink_to(path.resolve())
        for k in range(1, scale):
            prefix = b"dup%d" % k
            dctx = zstandard.ZstdDecompressor(max_window_size=2**31)
            cctx = zstandard.ZstdCompressor(level=3, threads=2)
            with (
                open(path, "rb") as fin,
                dctx.stream_reader(fin) as reader,
                open(dst / f"dup{k}_{path.name}", "wb") as fout,
                cctx.stream_writer(fout) as writer,
            ):
                rest = b""
                while block := reader.read(1 << 24):
                    data = rest + block
                    cut = data.rfind(b"\n") + 1
                    writer.write(ID_FIELDS.sub(rb'"\1":\2"\3' + prefix, data[:cut]))
                    rest = data[cut:]
                writer.write(ID_FIELDS.sub(rb'"\1":\2"\3' + prefix, rest))


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """Wall time and peak memory of a command, sampled every 20 ms with psutil: the process's RSS plus
    its children's USS (forked workers share the parent's pages; RSS would count them twice)."""
    import psutil

    load_before = os.getloadavg()[0]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
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
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and its reaped workers
    cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    if proc.returncode:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{err.decode()[-3000:]}")
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_mib": peak / 2**20,
        "stdout": out.decode(),
        "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def build_once(data: Path, out: Path, similarity: str, env: dict[str, str]) -> dict:
    """The decode floor of `data`, then one build of it; returns both figures and the stages."""
    floor = measure([sys.executable, "-c", FLOOR_CODE, str(data)])
    build = measure(
        [sys.executable, "-m", "dataset_builder", "build", "--input", str(data), "--out", str(out),
         "--similarity", similarity, "--log_level", "WARNING"],
        env=env,
    )  # fmt: skip
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    return {
        "similarity": manifest["training_rows"]["similarity_method"],
        "input_rows": json.loads(floor["stdout"])["rows"],
        "floor_seconds": round(floor["seconds"], 2),
        "build_seconds": round(build["seconds"], 2),
        "build_over_floor": round(build["seconds"] / floor["seconds"], 2),
        "floor_cpu_seconds": round(floor["cpu_seconds"], 2),
        "build_cpu_seconds": round(build["cpu_seconds"], 2),
        "build_over_floor_cpu": round(build["cpu_seconds"] / floor["cpu_seconds"], 2),
        "build_peak_mib": round(build["peak_mib"]),
        "load_average": {"floor": floor["load"], "build": build["load"]},
        "stage_seconds": manifest["timings_seconds"],
        "stage_cpu_seconds": manifest.get("cpu_seconds", {}),
        "stage_peak_rss_mib": manifest.get("peak_rss_mib", {}),
        "rows": {c: sum(s["num_rows"] for s in v["splits"].values()) for c, v in manifest["configs"].items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-output")
    parser.add_argument("--scales", default="1,2,4", help="Input sizes for the lexical builds (1 first).")
    parser.add_argument("--encoder-scales", default="1", help="Input sizes for `--similarity auto` builds.")
    args = parser.parse_args()
    if not args.data.is_dir():
        raise SystemExit(
            f"benchmark data not found: {args.data} (point --data at Pushshift-style .zst dumps)"
        )
    scales = sorted({int(s) for s in args.scales.split(",")} | {1})
    encoder_scales = sorted({int(s) for s in args.encoder_scales.split(",") if s})
    args.out.mkdir(parents=True, exist_ok=True)
    env = os.environ | {"CI": "1", "REDDITESS_PSEUDONYM_KEY": "benchmark-key-not-secret"}
    results: dict[str, dict] = {}
    plan = [(scale, "lexical") for scale in scales] + [(scale, "auto") for scale in encoder_scales]
    with tempfile.TemporaryDirectory(prefix="redditess-bench-") as tmp:
        for scale, similarity in plan:  # the lexical builds first: the encoder builds take longest
            data = args.data if scale == 1 else Path(tmp) / f"input-{scale}x"
            if not data.exists():
                scaled_input(args.data, data, scale)
            label = f"{scale}x {similarity}"
            result = build_once(data, Path(tmp) / f"build-{scale}x-{similarity}", similarity, env)
            results[label] = result
            _print_result(label, result)
            (args.out / "bench_build.json").write_text(json.dumps({"results": results}, indent=2))
            shutil.rmtree(Path(tmp) / f"build-{scale}x-{similarity}")
    _report(args, results, scales)


def _print_result(label: str, r: dict) -> None:
    load = r["load_average"]
    print(
        f"{label:<12} rows {r['input_rows']:,}  floor {r['floor_seconds']:.2f}s ({r['floor_cpu_seconds']:.1f} CPU s)  "
        f"build {r['build_seconds']:.2f}s ({r['build_cpu_seconds']:.1f} CPU s)  build/floor "
        f"{r['build_over_floor']:.2f} (CPU {r['build_over_floor_cpu']:.2f})  peak {r['build_peak_mib']:,} MiB  "
        f"load {load['floor'][0]:.1f}..{load['build'][1]:.1f}",
        flush=True,
    )
    stages = "  ".join(
        f"{name} {sec:.1f}s/{r['stage_cpu_seconds'].get(name, 0):.1f}cpu/{r['stage_peak_rss_mib'].get(name, 0)}MiB"
        for name, sec in r["stage_seconds"].items()
    )
    print(f"    stages (wall / CPU / peak RSS): {stages}", flush=True)


def _report(args: argparse.Namespace, results: dict[str, dict], scales: list[int]) -> None:
    one = results["1x lexical"]
    top = results[f"{max(scales)}x lexical"]
    summary = {
        "build_over_floor": one["build_over_floor"],
        "build_over_floor_cpu": one["build_over_floor_cpu"],
        "peak_gib": round(max(r["build_peak_mib"] for r in results.values()) / 1024, 2),
    }
    if max(scales) == 4:
        summary["time_4x_over_1x"] = round(top["build_seconds"] / one["build_seconds"], 2)
        summary["time_4x_over_1x_cpu"] = round(top["build_cpu_seconds"] / one["build_cpu_seconds"], 2)
        summary["memory_4x_over_1x"] = round(top["build_peak_mib"] / one["build_peak_mib"], 2)
    print(
        f"data: {args.data}  ({os.cpu_count()} cores; load average = 1-minute, before the floor .. after the build)"
    )
    for scale in scales[1:]:
        r = results[f"{scale}x lexical"]
        print(
            f"{scale}x / 1x lexical: time {r['build_seconds'] / one['build_seconds']:.2f} "
            f"(CPU {r['build_cpu_seconds'] / one['build_cpu_seconds']:.2f}), "
            f"floor {r['floor_seconds'] / one['floor_seconds']:.2f}, "
            f"peak memory {r['build_peak_mib'] / one['build_peak_mib']:.2f}"
        )
    if "1x auto" in results:
        auto = results["1x auto"]
        print(
            f"1x auto (encoder) / floor: {auto['build_over_floor']:.2f} (CPU {auto['build_over_floor_cpu']:.2f}); "
            "improvement stage "
            f"{auto['stage_seconds'].get('improvement', 0):.1f}s with the encoder vs "
            f"{one['stage_seconds'].get('improvement', 0):.1f}s lexical"
        )
    print("targets (build/floor on the 1x lexical build; the target predates the encoder):")
    for key, value in summary.items():
        verdict = "ok" if value <= TARGETS[key] else "MISSED"
        print(f"  {key:<20}{value:>8}  (target <= {TARGETS[key]})  {verdict}")
    (args.out / "bench_build.json").write_text(json.dumps({"results": results, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
