"""Offline checks of a dataset or adapter folder before anything is uploaded.

A dataset folder must have a card whose YAML parses, carries the required metadata, and whose
`configs:` name exactly the parquet files on disk (each pattern matches files, every parquet file is
covered, row counts agree with the manifest). No raw username or email may appear: author columns hold
only pseudonyms, and no text cell holds an email address or a `u/name` mention. The patterns here are
deliberately independent from the builder's scrubbing rules, so a bug there is caught here.
An adapter folder must have adapter weights, an adapter config and a model card with its metadata.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from huggingface_hub import DatasetCard, ModelCard
from tqdm.auto import tqdm

from redditess_core.contract import MANIFEST_FILE

logger = logging.getLogger(__name__)

DATASET_REQUIRED = (
    "license",
    "language",
    "pretty_name",
    "task_categories",
    "size_categories",
    "tags",
    "configs",
    "extra_gated_prompt",
    "extra_gated_fields",
)
MODEL_REQUIRED = ("license", "language", "base_model", "library_name", "tags", "datasets")

EMAIL_RE = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
MENTION_RE = r"(^|[^A-Za-z0-9_/])/?u/[A-Za-z0-9_-]{2,}"
PSEUDONYM_RE = r"^user_[0-9a-f]{12}$"
AUTHOR_COLUMNS = ("author", "op_author", "post_author", "comment_author", "chosen_author", "rejected_author")


@dataclass
class Report:
    """Errors block an upload; notes are informational (e.g. empty splits left out)."""

    path: Path
    kind: str
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def render(self) -> str:
        head = f"{self.kind} folder {self.path}: " + ("OK" if self.ok else f"{len(self.errors)} problem(s)")
        return "\n".join(
            [head, *[f"  error: {e}" for e in self.errors], *[f"  note: {n}" for n in self.notes]]
        )


def _yaml_block(text: str) -> dict | None:
    if not text.startswith("---"):
        return None
    parts = text.split("---", 2)
    return yaml.safe_load(parts[1]) if len(parts) == 3 else None


def _check_card_yaml(readme: Path, report: Report, required: tuple[str, ...]) -> dict | None:
    if not readme.is_file():
        report.errors.append(f"{readme.name} is missing (the card)")
        return None
    text = readme.read_text(encoding="utf-8")
    try:
        data = _yaml_block(text)
    except yaml.YAMLError as err:
        report.errors.append(f"{readme.name}: YAML metadata does not parse: {err}")
        return None
    if not isinstance(data, dict):
        report.errors.append(f"{readme.name}: no YAML metadata block at the top")
        return None
    card_cls = DatasetCard if report.kind == "dataset" else ModelCard
    try:
        card_cls(text)
    except Exception as err:  # noqa: BLE001 - any parse failure of the library's own card class is a finding
        report.errors.append(f"{readme.name}: {card_cls.__name__} cannot read it: {err}")
    missing = [k for k in required if not data.get(k)]
    if missing:
        report.errors.append(f"{readme.name}: required metadata missing: {', '.join(missing)}")
    if report.kind == "dataset":
        _check_license_link(readme, data, report)
    _check_text(readme.name, text, report)
    return data


def _check_license_link(readme: Path, data: dict, report: Report) -> None:
    """`license: other` needs `license_link` (a URL, or a file of the folder that exists)."""
    if data.get("license") != "other":
        return
    link = data.get("license_link")
    if not link:
        report.errors.append(
            f"{readme.name}: license is `other` but license_link is missing (re-render the card: "
            "python -m cards render-dataset DIR writes LICENSE.md and links it)"
        )
    elif "://" not in str(link) and not (readme.parent / str(link).split("#")[0]).is_file():
        report.errors.append(
            f"{readme.name}: license_link {link!r} is not a file of the folder (python -m cards render-dataset "
            "DIR writes it)"
        )


def _check_text(name: str, text: str, report: Report) -> None:
    import re

    if re.search(EMAIL_RE, text):
        report.errors.append(f"{name}: contains an email address")
    if re.search(MENTION_RE, text):
        report.errors.append(f"{name}: contains a raw u/ username mention")


def _check_configs(folder: Path, data: dict, report: Report) -> list[tuple[str, str, list[Path]]]:
    configs = data.get("configs") or []
    parquet = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.parquet"))
    covered: set[str] = set()
    defaults = [c.get("config_name") for c in configs if isinstance(c, dict) and c.get("default")]
    if len(defaults) != 1:
        report.errors.append(
            f"README.md: configs must mark exactly one default config (found {len(defaults)})"
        )
    resolved = []
    for cfg in configs:
        name = cfg.get("config_name") if isinstance(cfg, dict) else None
        files = cfg.get("data_files") if isinstance(cfg, dict) else None
        if not name or not isinstance(files, list) or not files:
            report.errors.append(f"README.md: configs entry {cfg!r} needs config_name and a data_files list")
            continue
        for entry in files:
            split, pattern = entry.get("split"), entry.get("path")
            matched = [p for p in parquet if fnmatch.fnmatchcase(p, pattern or "")]
            if not matched:
                report.errors.append(
                    f"README.md: configs.{name}.{split}: pattern {pattern!r} matches no file"
                )
            covered.update(matched)
            resolved.append((name, split, [folder / p for p in matched]))
    for stray in sorted(set(parquet) - covered):
        report.errors.append(f"{stray}: parquet file not listed in any config of README.md")
    other = [p.name for p in folder.iterdir() if p.suffix == ".py"]
    if other:
        report.errors.append(f"loading scripts are not supported by datasets>=4: {', '.join(other)}")
    return resolved


def _check_manifest(
    folder: Path, data: dict, resolved: list[tuple[str, str, list[Path]]], report: Report
) -> None:
    import pyarrow.parquet as pq

    from cards.dataset_card import ManifestError, loadable_configs

    path = folder / MANIFEST_FILE
    if not path.is_file():
        report.errors.append("manifest.json is missing")
        return
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        report.errors.append(f"manifest.json does not parse: {err}")
        return
    if not manifest.get("version"):
        report.errors.append("manifest.json: `version` is missing")
    try:
        expected = loadable_configs(manifest)
    except ManifestError as err:
        report.errors.append(f"manifest.json: {err}")
        return
    if expected != data.get("configs"):
        report.errors.append(
            "README.md configs differ from the manifest's non-empty splits (re-render the card)"
        )
    for name, split, files in resolved:
        info = ((manifest.get("configs") or {}).get(name) or {}).get("splits", {}).get(split) or {}
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        if info and int(info.get("num_rows", -1)) != rows:
            report.errors.append(f"{name}/{split}: {rows} rows on disk, manifest says {info.get('num_rows')}")
    for name, cfg in (manifest.get("configs") or {}).items():
        for split in cfg.get("empty_splits") or []:
            report.notes.append(f"{name}/{split} is empty and left out of configs")


def _column_sql(col: str) -> tuple[str, str]:
    quoted = '"' + col.replace('"', '""') + '"'
    return quoted, f"CAST({quoted} AS VARCHAR)"


def _check_privacy(folder: Path, resolved: list[tuple[str, str, list[Path]]], report: Report) -> None:
    """Author columns hold pseudonyms; no text holds an email or a u/ mention (nested conversation columns are
    cast to text, so message contents are covered). One DuckDB scan per config/split tests every column with a
    single alternation (RE2 matches both patterns in one pass); only a flagged column is scanned again to say
    which kind it holds. Findings name the column and a count, never a value."""
    import duckdb

    both = f"({EMAIL_RE})|({MENTION_RE})"
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        for name, split, files in tqdm(
            resolved, desc="privacy scan", unit="split", disable=None, leave=False
        ):
            if not files:
                continue
            logger.debug("privacy scan of %s/%s (%d file(s))", name, split, len(files))
            source = "read_parquet([" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "])"
            columns = [(c[0], c[1]) for c in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
            authors = [c for c, t in columns if c in AUTHOR_COLUMNS and t == "VARCHAR"]
            texts = [c for c, t in columns if "VARCHAR" in t]
            exprs = [
                f"count_if({_column_sql(c)[0]} IS NOT NULL AND NOT regexp_matches({_column_sql(c)[0]}, '{PSEUDONYM_RE}'))"
                for c in authors
            ] + [f"count_if(regexp_matches({_column_sql(c)[1]}, '{both}'))" for c in texts]
            if not exprs:
                continue
            counts = con.execute(f"SELECT {', '.join(exprs)} FROM {source}").fetchone()
            for col, n in zip(authors, counts[: len(authors)], strict=True):
                if n:
                    report.errors.append(
                        f"{name}/{split}: column {col} has {n} value(s) that are not pseudonyms"
                    )
            for col, n in zip(texts, counts[len(authors) :], strict=True):
                if not n:
                    continue
                text = _column_sql(col)[1]
                emails, mentions = con.execute(
                    f"SELECT count_if(regexp_matches({text}, '{EMAIL_RE}')), "
                    f"count_if(regexp_matches({text}, '{MENTION_RE}')) FROM {source}"
                ).fetchone()
                if emails:
                    report.errors.append(
                        f"{name}/{split}: column {col} has {emails} row(s) with an email address"
                    )
                if mentions:
                    report.errors.append(
                        f"{name}/{split}: column {col} has {mentions} row(s) with a u/ username"
                    )
    finally:
        con.close()


def validate_dataset_folder(folder: str | os.PathLike[str]) -> Report:
    folder = Path(folder)
    report = Report(folder, "dataset")
    data = _check_card_yaml(folder / "README.md", report, DATASET_REQUIRED)
    if data is None:
        return report
    resolved = _check_configs(folder, data, report)
    _check_manifest(folder, data, resolved, report)
    _check_privacy(folder, resolved, report)
    return report


def validate_adapter_folder(folder: str | os.PathLike[str]) -> Report:
    folder = Path(folder)
    report = Report(folder, "adapter")
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        if not (folder / name).is_file():
            report.errors.append(f"{name} is missing")
    if not any(
        (folder / n).is_file() for n in ("tokenizer.json", "tokenizer.model", "tokenizer_config.json")
    ):
        report.errors.append("no tokenizer files (tokenizer.json / tokenizer_config.json)")
    data = _check_card_yaml(folder / "README.md", report, MODEL_REQUIRED)
    if data and data.get("base_model"):
        _check_base_model(folder, str(data["base_model"]), report)
    return report


def _check_base_model(folder: Path, base_model: str, report: Report) -> None:
    """The card's base_model is a Hub id, and the one adapter_config.json makes PEFT load."""
    from cards.model_card import InvalidBaseModel, check_hub_model_id

    try:
        check_hub_model_id(base_model, "README.md: base_model")
    except InvalidBaseModel as err:
        report.errors.append(str(err))
    try:
        config = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return  # reported above as missing, or by PEFT
    if config.get("base_model_name_or_path") != base_model:
        report.errors.append(
            "adapter_config.json: base_model_name_or_path differs from the card's base_model "
            f"({base_model!r}): PEFT would load another base"
        )


def validate_folder(folder: str | os.PathLike[str]) -> Report:
    """Dataset or adapter, told apart by `adapter_config.json`."""
    folder = Path(folder)
    if not folder.is_dir():
        report = Report(folder, "unknown")
        report.errors.append(f"{folder} is not a directory")
        return report
    if (folder / "adapter_config.json").is_file():
        return validate_adapter_folder(folder)
    return validate_dataset_folder(folder)
