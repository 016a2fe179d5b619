"""`python -m dataset_builder {build,stats,sample}`; options are dataclass fields (see `cli_args`)."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

from dataset_builder.cli_args import parse
from dataset_builder.config import BuildConfig
from redditess_core.contract import MANIFEST_FILE

logger = logging.getLogger("dataset_builder")

USAGE = """usage: python -m dataset_builder <command> [options]

commands:
  build   --input PATH... --out DIR [--subreddits A,B] [--preset kit|paper] [--version X.Y.Z] [--seed N]
  stats   DIR                 per-config/split counts, label balance, pairs per post, drops
  sample  --out DIR [--seed N] [--posts N]   a seeded synthetic Pushshift-style dump

`python -m dataset_builder <command> --help` lists every option."""


@dataclass
class BuildOptions:
    pseudonym_key_file: Path | None = field(
        default=None,
        metadata={
            "help": "File holding the pseudonym key (else $REDDITESS_PSEUDONYM_KEY, else a per-user key)."
        },
    )
    log_level: str = field(
        default="INFO",
        metadata={
            "help": "Logging level: DEBUG, INFO (stage times and peak memory, progress bars), WARNING, ERROR.",
        },
    )


@dataclass
class StatsOptions:
    folder: Path = field(metadata={"help": "A built RedditESS folder."})
    json: bool = field(default=False, metadata={"help": "Print the figures as JSON."})


@dataclass
class SampleOptions:
    out: Path = field(metadata={"help": "Folder to write the synthetic dump into."})
    seed: int = field(default=0, metadata={"help": "Random seed."})
    posts: int = field(default=120, metadata={"help": "Number of synthetic posts."})


def _explicit(argv: list[str], names: set[str]) -> set[str]:
    """Fields given on the command line, so a preset does not override them."""
    given = set()
    for arg in argv:
        if arg.startswith("--"):
            key = arg[2:].split("=", 1)[0].replace("-", "_")
            key = {"input": "inputs", "subreddit": "subreddits"}.get(key, key)
            if key in names:
                given.add(key)
    return given


def cmd_build(argv: list[str]) -> int:
    from dataset_builder.pipeline import BuildError, build
    from dataset_builder.sources import InputError
    from dataset_builder.spark_session import SparkUnavailable

    cfg, opts = parse((BuildConfig, BuildOptions), argv, prog="python -m dataset_builder build")
    levels = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
    if opts.log_level.upper() not in levels:
        print(f"error: --log_level {opts.log_level!r}: use one of {', '.join(levels)}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=opts.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if cfg.subreddits:
        cfg.subreddits = [s for item in cfg.subreddits for s in item.split(",")]
        cfg.__post_init__()
    cfg = cfg.with_preset(_explicit(argv, {f.name for f in fields(BuildConfig)}))
    try:
        manifest = build(cfg, key_file=opts.pseudonym_key_file)
    except (BuildError, InputError, SparkUnavailable, ValueError, OSError) as exc:
        logger.error("%s", exc)
        return 1
    rows = {c: sum(s["num_rows"] for s in v["splits"].values()) for c, v in manifest["configs"].items()}
    print(f"built {cfg.out} (version {manifest['version']}) in {manifest['build_seconds']}s: {rows}")
    if manifest["rejected"]["count"]:
        print(
            f"rejected {manifest['rejected']['count']} malformed input records (see manifest.json `rejected`)"
        )
    return 0


def cmd_stats(argv: list[str]) -> int:
    from dataset_builder.stats import compute_stats, format_stats

    if argv and not argv[0].startswith("-"):
        argv = ["--folder", *argv]
    (opts,) = parse((StatsOptions,), argv, prog="python -m dataset_builder stats")
    manifest_path = opts.folder / MANIFEST_FILE
    if not manifest_path.is_file():
        print(f"error: {opts.folder} is not a RedditESS folder (no manifest.json)", file=sys.stderr)
        return 1
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    stats = compute_stats(opts.folder)
    if opts.json:
        print(
            json.dumps(
                {"stats": stats, "drops": manifest.get("drops"), "rejected": manifest.get("rejected")},
                indent=2,
            )
        )
    else:
        print(format_stats(manifest, stats))
    return 0


def cmd_sample(argv: list[str]) -> int:
    from dataset_builder.synthetic import write_sample

    (opts,) = parse((SampleOptions,), argv, prog="python -m dataset_builder sample")
    paths = write_sample(opts.out, seed=opts.seed, n_posts=opts.posts)
    print(f"wrote synthetic dump: {', '.join(str(p) for p in paths)}")
    return 0


COMMANDS = {"build": cmd_build, "stats": cmd_stats, "sample": cmd_sample}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if not argv or argv[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
