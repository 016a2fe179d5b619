"""One build: ingest -> threads -> signals -> labels -> privacy -> splits -> pairs -> export.

Everything is written into a temporary sibling of the output folder and renamed into place only
when complete, so a failed build never leaves a folder that looks finished.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from tqdm.auto import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from dataset_builder import (
    eligibility,
    labels,
    pairs,
    privacy,
    revisions,
    signals,
    spark_session,
    splits,
    steps,
    support,
    threads,
)
from dataset_builder.batches import map_batches
from dataset_builder.config import LABEL_RULE_VERSION, BuildConfig
from dataset_builder.export import write_configs, write_json
from dataset_builder.ingest import ingest, sha256_file
from dataset_builder.record_filter import RecordFilter
from dataset_builder.sources import InputError, discover
from dataset_builder.stats import compute_stats
from redditess_core.contract import MANIFEST_FILE

if TYPE_CHECKING:
    from dataset_builder.spark_engine import SparkConnection

logger = logging.getLogger(__name__)


# The tables `export` writes rows from: their id columns become keyed hashes (`privacy.hash_ids`).
EXPORTED_TABLES = (
    "clean_posts",
    "clean_comments",
    "clean_earlier_versions",
    "ess",
    "preference",
    "sft",
    "improvement",
)


class BuildError(Exception):
    """The build cannot produce a dataset from these inputs; nothing was written."""


def build(cfg: BuildConfig, key: bytes | None = None, key_file: Path | None = None) -> dict[str, Any]:
    """Build the RedditESS folder at `cfg.out`; returns the manifest.

    Raises BuildError / InputError (one line naming the path) before any work when the inputs cannot
    be read or the output location cannot be written, and BuildError when the disk fills up during the
    build; in every failure nothing is left behind."""
    if cfg.out is None:
        raise BuildError("no output folder given (--out)")
    out = cfg.out.resolve()
    if out.exists() and not cfg.overwrite:
        raise BuildError(f"{out} already exists; pass --overwrite to replace it")
    if out.exists() and not out.is_dir():
        raise BuildError(f"{out} exists and is not a folder")
    files = discover(cfg.inputs, exclude=[out])
    if cfg.engine == "spark":
        spark_session.check_available()  # SparkUnavailable names the missing extra or Java, before any work
    key = privacy.check_key(key, "build(key=...)") if key is not None else privacy.resolve_key(key_file)
    started = time.perf_counter()
    staging = _create_staging(out)
    try:
        workdir = staging / ".work"  # raw text while building: inside the staging folder, never elsewhere
        con = _connect(workdir, cfg)
        try:
            manifest = _run(con, cfg, files, key, staging, workdir)
        finally:
            con.close()
        shutil.rmtree(workdir)
        (staging / OWNER_FILE).unlink()
        staging.chmod(0o755)  # private while it held raw text; a normal folder once complete
        manifest["build_seconds"] = round(time.perf_counter() - started, 2)
        manifest["engine"] = cfg.engine
        write_json(staging / MANIFEST_FILE, manifest)
        _replace(staging, out)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if _is_disk_error(exc):
            raise BuildError(
                f"cannot write the build next to {out}: {_disk_error_text(exc)}; nothing was kept"
            ) from exc
        raise
    logger.info("wrote %s in %.1fs", out, manifest["build_seconds"])
    return manifest


# Holds the pid of the build that owns a staging folder, so a later build can tell a stale one.
OWNER_FILE = ".redditess-build.pid"


def _create_staging(out: Path) -> Path:
    """Create the parents of `out` (like `mkdir -p`), remove stale staging folders of killed builds,
    and create this build's private staging folder: the writability check, before any work."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildError(
            f"cannot create the output folder's parent {out.parent}: {_disk_error_text(exc)}"
        ) from exc
    _remove_stale_staging(out)
    staging = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir(mode=0o700)
        (staging / OWNER_FILE).write_text(str(os.getpid()), encoding="utf-8")
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BuildError(f"cannot write to {out.parent}: {_disk_error_text(exc)}") from exc
    return staging


def _remove_stale_staging(out: Path) -> None:
    """Remove `.<name>.tmp-*` / `.<name>.old-*` siblings left by builds that were killed (their owner
    process is gone): they may hold raw usernames and unscrubbed text."""
    for path in out.parent.glob(f".{out.name}.*-*"):
        if not path.is_dir() or not path.name.startswith((f".{out.name}.tmp-", f".{out.name}.old-")):
            continue
        try:
            owner = int((path / OWNER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            owner = None
        if owner is not None and owner != os.getpid() and _alive(owner):
            continue  # another build writing to the same place right now
        logger.info("removing %s, left by an interrupted build", path)
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}
_DISK_MESSAGES = ("no space left on device", "file too large", "disk quota exceeded", "read-only file system")


def _is_disk_error(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
        return True
    return isinstance(exc, (OSError, duckdb.Error)) and any(m in str(exc).lower() for m in _DISK_MESSAGES)


def _disk_error_text(exc: BaseException) -> str:
    """The cause in a few words ("no space left on device"), without the engine's details."""
    text = str(exc).lower()
    known = next((m for m in _DISK_MESSAGES if m in text), None)
    if known:
        return known
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return str(exc).splitlines()[0]


def _connect(workdir: Path, cfg: BuildConfig) -> duckdb.DuckDBPyConnection | SparkConnection:
    """The build's connection: an in-memory DuckDB (spilling into `workdir`), or with `--engine spark` a
    SparkConnection (`spark_engine`) writing its tables into `workdir`."""
    if cfg.engine == "spark":
        from dataset_builder import spark_engine

        return spark_engine.connect(workdir, cfg.spark_master, cfg.memory_limit)
    config = {"memory_limit": cfg.memory_limit, "temp_directory": str(workdir / "spill")}
    if cfg.threads:
        config["threads"] = cfg.threads
    return duckdb.connect(":memory:", config=config)


def _replace(staging: Path, out: Path) -> None:
    if out.exists():
        trash = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
        out.rename(trash)
        staging.rename(out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        staging.rename(out)


def _run(
    con: duckdb.DuckDBPyConnection,
    cfg: BuildConfig,
    files: list,
    key: bytes,
    folder: Path,
    workdir: Path,
) -> dict[str, Any]:
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    memory = StagePeaks()
    clock = time.perf_counter()
    cpu_clock = _cpu_seconds()
    quiet = bool(os.environ.get("CI")) or not logger.isEnabledFor(logging.INFO)
    progress = tqdm(total=len(STAGES), desc="build", unit="stage", disable=quiet, leave=False)

    def lap(name: str) -> None:
        """End a stretch of stage `name`; a stage run in several stretches adds them up."""
        nonlocal clock, cpu_clock
        now, cpu_now = time.perf_counter(), _cpu_seconds()
        timings[name] = round(timings.get(name, 0.0) + now - clock, 3)
        cpu[name] = round(cpu.get(name, 0.0) + cpu_now - cpu_clock, 3)
        memory.end(name)
        clock, cpu_clock = now, cpu_now
        logger.info("%-10s %.2fs (peak %d MiB)", name, timings[name], memory.peaks[name])
        if name not in done:
            done.append(name)
            progress.update(1)
        progress.set_description(f"build: {name} done")

    done: list[str] = []
    try:
        with logging_redirect_tqdm():  # log lines above the progress bar, not through it
            return _stages(con, cfg, files, key, folder, workdir, lap, timings, cpu, memory.peaks)
    finally:
        progress.close()


def _cpu_seconds() -> float:
    """CPU time of the build so far: its threads (DuckDB's included) and its finished worker processes."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


# The stages `_run` times (manifest `timings_seconds`, `cpu_seconds`) and measures (`peak_rss_mib`), in order.
STAGES = ("ingest", "threads", "signals", "privacy", "pairs", "improvement", "export")


class StagePeaks:
    """Peak resident memory of the build process per stage, in MiB (`peaks`): Linux's VmHWM, reset when
    a stage starts through /proc/self/clear_refs; elsewhere the peak so far (`getrusage`). Worker
    processes (the sentiment pool) are not included."""

    def __init__(self) -> None:
        self.peaks: dict[str, int] = {}
        self._reset()

    def end(self, name: str) -> None:
        self.peaks[name] = max(self.peaks.get(name, 0), self._peak_mib())
        self._reset()

    @staticmethod
    def _peak_mib() -> int:
        try:
            with open("/proc/self/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) // 1024
        except OSError:
            pass
        try:
            import resource
        except ImportError:
            return 0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
        return peak // 2**20 if sys.platform == "darwin" else peak // 1024

    @staticmethod
    def _reset() -> None:
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
                refs.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        except OSError:
            pass


def _stages(
    con: duckdb.DuckDBPyConnection,
    cfg: BuildConfig,
    files: list,
    key: bytes,
    folder: Path,
    workdir: Path,
    lap: Callable[[str], None],
    timings: dict[str, float],
    cpu: dict[str, float],
    peaks: dict[str, int],
) -> dict[str, Any]:
    # The Spark engine reads each file in a task of its own (`SparkConnection.ingest`).
    report = getattr(con, "ingest", functools.partial(ingest, con))(
        files, workdir, RecordFilter.from_config(cfg)
    )
    lap("ingest")
    if report.rows["submissions"] == 0:
        raise BuildError(
            f"nothing to assemble: the input has no submissions, so all {report.rows['comments']:,} comments "
            "have no submission (orphans); add the matching RS_*/ *_submissions files"
        )
    threads.assemble(con, cfg)
    support.compute(con, cfg)
    counts = threads.thread_counts(con)
    drops = threads.drop_counts(con)
    lap("threads")
    if counts["top_level_comments_kept"] == 0:
        orphans = drops["comment"].get("orphan", 0)
        raise BuildError(
            f"nothing to assemble: no post kept a top-level comment ({counts['submissions_unique']:,} "
            f"submissions, {counts['comments_unique']:,} comments, {orphans:,} comments had no submission "
            f"in the input); post drops: {drops['submission']}; comment drops: {drops['comment']}"
            + (
                f"; preset {cfg.preset!r}: {required}"
                if (required := threads.requirement_drops(cfg, drops))
                else ""
            )
        )
    # Sentiment scoring (VADER, pure Python) runs in worker processes while privacy works: privacy
    # does not need the scores, and the two share the cores.
    sentiment = signals.start(con, cfg)
    try:
        lap("signals")
        scrub_counts = _privacy(con, key)
        lap("privacy")
        signals.compute(con, cfg, sentiment)
    finally:
        sentiment.close()
    labels.compute(con, cfg)
    lap("signals")
    splits.compute(con, cfg)
    _assemble_rows(con, cfg)
    lap("privacy")
    self_edit_sources = revisions.compute(con)
    eligibility.compute(con, cfg)
    pairs.build_preference(con, cfg)
    pairs.build_sft(con, cfg)
    lap("pairs")
    improvement = pairs.build_improvement(con, cfg)  # with the MiniLM encoder by default: its own stage
    training_rows = {
        **improvement,
        "comments_with_earlier_text": self_edit_sources,
        "drops": pairs.drop_counts(con),
    }
    lap("improvement")
    if not cfg.keep_reddit_ids:  # after splits and pairs, which order and split by the raw ids
        privacy.hash_ids(con, key, list(EXPORTED_TABLES))
    folder.mkdir(parents=True, exist_ok=True)
    configs = write_configs(con, folder, cfg.system_prompt, cfg.improve_system_prompt)
    lap("export")
    stats = compute_stats(folder)
    counts["duplicates_dropped"] = (
        counts["submissions_read"]
        - counts["submissions_unique"]
        + counts["comments_read"]
        - counts["comments_unique"]
    )
    counts["reddit_api_more_placeholders"] = report.more_placeholders
    counts["texts_with_participant_names_replaced"] = scrub_counts.pop(
        "texts_with_participant_names_replaced"
    )
    counts["participant_names_that_are_common_words"] = scrub_counts.pop(
        "participant_names_that_are_common_words"
    )
    manifest = {
        "name": cfg.name,
        "pretty_name": "RedditESS",
        "version": cfg.version,
        "label_rule_version": LABEL_RULE_VERSION,
        "preset": cfg.preset,
        "synthetic": _all_synthetic(files),
        "built_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "code_version": _code_version(),
        "parameters": cfg.parameters(),
        "pseudonym_key_fingerprint": privacy.key_fingerprint(key),
        "reddit_ids": "raw" if cfg.keep_reddit_ids else "hashed",
        "scrub_replacements": scrub_counts,
        "inputs": [_describe(f) for f in files],
        "reader": report.reader_summary(),
        "counts": counts,
        "drops": drops,
        "support_seeking": support.summary(con),
        "training_rows": training_rows,
        "rejected": report.rejects.as_dict(),
        "configs": configs,
        "stats": stats,
        "timings_seconds": timings,
        "cpu_seconds": cpu,
        "peak_rss_mib": peaks,
    }
    _write_card(folder, manifest)
    return manifest


def _privacy(con: duckdb.DuckDBPyConnection, key: bytes) -> dict[str, int]:
    """Pseudonymize authors and scrub every text that reaches the output; returns replacements by rule
    (and `texts_with_participant_names_replaced`). Each Python pass is a batch function over Arrow data
    (`dataset_builder.batches.map_batches`), so a distributed engine runs it on its executors."""
    privacy.create_participants(con)
    privacy.create_pseudonyms(con, key, "SELECT DISTINCT author FROM top_comments")
    # is_sensitive: the crisis screen (redditess_core.safety.crisis) over each text column, before scrubbing.
    _screen_crisis(
        con,
        "SELECT post_id AS key, concat_ws(chr(10), title, selftext) AS text FROM kept_posts",
        "sensitive_posts",
    )
    _screen_crisis(con, "SELECT comment_id AS key, body AS text FROM top_comments", "sensitive_comments")
    replacements = privacy.scrub_table(
        con,
        """SELECT post_id, post_id IN (SELECT key FROM sensitive_posts) AS post_sensitive,
                  title AS post_title, selftext AS post_text FROM kept_posts""",
        ["post_title", "post_text"],
        "clean_posts",
    )
    replacements.update(
        privacy.scrub_table(
            con,
            """SELECT comment_id, post_id, comment_id IN (SELECT key FROM sensitive_comments) AS comment_sensitive,
                      body AS comment_text, op_reply_text FROM top_comments""",
            ["comment_text", "op_reply_text"],
            "clean_comments",
        )
    )
    privacy.find_name_hits(con)
    common = privacy.common_word_names(con)
    names = privacy.rewrite_names(
        con, "clean_posts", "post_id", ["post_title", "post_text"], "post_name_hits", common
    )
    names += privacy.rewrite_names(
        con, "clean_comments", "comment_id", ["comment_text", "op_reply_text"], "comment_name_hits", common
    )
    replacements = dict(replacements)
    replacements["participant_name"] = names["participant_name"]
    replacements["participant_name_common_word"] = names["participant_name_common_word"]
    replacements["texts_with_participant_names_replaced"] = names["texts"]
    replacements["participant_names_that_are_common_words"] = len(common)
    return replacements


# Texts the crisis screen takes at once: one batch of `privacy.crisis_flags` (it screens a batch's column in
# a few vectorized passes, on several threads from 10,000 texts), so its memory stays bounded on large inputs.
SCREEN_PART_ROWS = 100_000


def _screen_crisis(con: duckdb.DuckDBPyConnection, query: str, table: str) -> int:
    """Create `table(key)` with the keys of `query`'s (key, text) rows the crisis screen flags
    (`privacy.crisis_flags` over batches of `SCREEN_PART_ROWS`); returns how many. Logs counts only."""
    started = time.perf_counter()
    counts = map_batches(
        con, query, privacy.crisis_flags, privacy.CRISIS_FLAGS_SCHEMA, table, batch_rows=SCREEN_PART_ROWS
    )
    logger.info(
        "crisis screen %s: %d of %d texts flagged in %.2f s",
        table,
        counts["flagged"],
        counts["screened"],
        time.perf_counter() - started,
    )
    return counts["flagged"]


# The `ess` table: one row per kept top-level comment with its signals, label and split (sql/rows_ess.sql).
ESS = steps.Step(
    "rows_ess",
    inputs=(
        "clean_comments",
        "top_comments",
        "clean_posts",
        "kept_posts",
        "comment_signals",
        "comment_labels",
        "post_support",
        "pseudonyms",
        "post_splits",
    ),
    outputs=("ess",),
)


def _assemble_rows(con: duckdb.DuckDBPyConnection, cfg: BuildConfig) -> None:
    """The `ess` table (step `rows_ess`): one row per kept top-level comment with its signals, label and
    split. Texts stay in `clean_posts` / `clean_comments` and are joined in only when rows are written
    (`export`), so no text is copied into the intermediate tables."""
    steps.run(con, ESS, {})


def _write_card(folder: Path, manifest: dict[str, Any]) -> None:
    from cards.dataset_card import write_dataset_card

    write_dataset_card(manifest, folder)  # README.md, and LICENSE.md when the card links to it


def _describe(source: Any) -> dict[str, Any]:
    return {
        "name": source.path.name,
        "sha256": sha256_file(source.path),
        "bytes": source.path.stat().st_size,
        "format": source.format,
        "kind": source.kind,
    }


def _all_synthetic(files: list) -> bool:
    return all("synthetic" in f.path.name.lower() for f in files)


def _code_version() -> dict[str, Any]:
    try:
        package = package_version("redditess-kit")
    except PackageNotFoundError:
        package = None
    git = None
    try:
        root = Path(__file__).resolve().parents[1]
        git = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5, check=True
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        pass
    return {"package": package, "git": git}


__all__ = ["BuildError", "InputError", "build"]
