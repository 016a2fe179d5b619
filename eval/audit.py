"""Shared machinery of `label-audit` and `pair-audit`: blinded sheets, the offline form, strict sheet
validation, atomic output folders and intervals from a bootstrap over posts.

An audit export writes `OUT/for_raters/` (what raters get: `sheets/<rater>.csv`, `form.html`, `README.txt`)
and, outside it, `OUT/key.json` (the unblinding key: dataset ids, labels, sides). Item ids are opaque
(`<export_id>-<n>`), so a sheet reveals neither the dataset ids nor the labels. The folder layout and the
constants come from the human-evaluation kit (`eval.human`); the form is `templates/audit_form.html.jinja`,
driven by the `Question`s and text blocks of each audit.

Ingest reads sheets strictly: every problem (missing file or column, unknown rater or item, empty or
off-scale answer, duplicate rating, items a rater left out) is collected and raised once, each naming the
file, the spreadsheet row (header = row 1) and the field.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import os
import random
import shutil
import tempfile
import warnings
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eval.human import KEY_FILE, RATER_DIR, form_template
from eval.io import format_rows, open_sheet
from eval.runtime import RuntimeArguments
from redditess_core.contract import MANIFEST_FILE
from redditess_core.jsonfile import read_json

__all__ = [
    "KEY_FILE",
    "RATER_DIR",
    "Question",
    "atomic_dir",
    "interval_over_posts",
    "check_raters",
    "fleiss_kappa_with_interval",
    "majority",
    "read_key",
    "read_sheets",
    "share_with_interval",
    "write_rater_material",
]

NOTE_FIELD = "note"


@dataclass
class AuditIngestArguments(RuntimeArguments):
    """What every audit's `ingest` takes: the export's key, the filled sheets, where to write."""

    key: str = field(metadata={"help": "The key.json the audit's `export` wrote."})
    sheets: list[str] = field(metadata={"help": "Filled CSV sheets (from the CSV or saved from the form)."})
    output_dir: str = field(metadata={"help": "Receives metrics.json and report.md."})
    n_resamples: int = field(default=2000, metadata={"help": "Bootstrap resamples (over posts)."})
    seed: int = field(default=0)


@dataclass(frozen=True)
class Question:
    """One answer column of a sheet: its name, the question, and the allowed answers with their anchors.

    `options` are (value, anchor) pairs; a sheet cell must hold one of the values (case-insensitive; an
    integer written as `3.0` counts as `3`).
    """

    name: str
    prompt: str
    options: tuple[tuple[str, str], ...]

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(v for v, _ in self.options)

    def normalize(self, raw: str) -> str | None:
        """The allowed value `raw` stands for, or None."""
        text = raw.strip().lower()
        with contextlib.suppress(ValueError):
            number = float(text)
            if number.is_integer():
                text = str(int(number))
        lowered = {v.lower(): v for v in self.values}
        return lowered.get(text)


@dataclass(frozen=True)
class Block:
    """A text shown to raters (and copied into their sheet): the sheet column and its heading in the form."""

    field: str
    title: str
    empty: str = ""  # shown in the form when the text is empty, e.g. "(the OP did not reply)"


# --------------------------------------------------------------------------------------------- output


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str], *, overwrite: bool) -> Iterator[Path]:
    """Yield a fresh temp folder beside `path`; on success it replaces `path` in one rename.

    With `overwrite=False` an existing non-empty `path` is refused (an audit export that raters may already
    hold must not be silently replaced: their sheets would no longer match the key).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path} exists and is not a folder")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise ValueError(f"{path} exists and is not empty; choose another --output_dir or pass --overwrite")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def export_id_for(*parts: Any) -> str:
    """A short id naming one export (seed, sampled ids...): item ids start with it."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:12]


def check_raters(raters: Sequence[str]) -> list[str]:
    """Distinct, non-empty rater ids (pseudonyms), usable as file names."""
    cleaned = [r.strip() for r in raters]
    if not cleaned or any(not r for r in cleaned) or len(set(cleaned)) != len(cleaned):
        raise ValueError(f"--raters must be distinct non-empty ids, got {list(raters)}")
    bad = [r for r in cleaned if any(not (c.isalnum() or c in "-_.") for c in r)]
    if bad:
        raise ValueError(f"--raters: use letters, digits, '-', '_' or '.' only (got {bad})")
    return cleaned


def sheet_columns(blocks: Sequence[Block], questions: Sequence[Question]) -> list[str]:
    """Columns of a rater sheet (the HTML form saves the same ones)."""
    return ["rater", "item_id", "group", *(b.field for b in blocks), *(q.name for q in questions), NOTE_FIELD]


def rater_orders(items: Sequence[dict[str, Any]], raters: Sequence[str], seed: int) -> dict[str, list[int]]:
    """Per rater, an item order that keeps each group (post) together: groups shuffled, items within a
    group shuffled, seeded per rater (so no position effect is shared by all raters)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        groups[item["group"]].append(i)
    orders = {}
    for rater in raters:
        rng = random.Random(f"{seed}|{rater}")
        names = sorted(groups)
        rng.shuffle(names)
        order: list[int] = []
        for name in names:
            members = list(groups[name])
            rng.shuffle(members)
            order += members
        orders[rater] = order
    return orders


def write_rater_material(
    out: Path,
    *,
    export_id: str,
    title: str,
    instructions: str,
    raters: Sequence[str],
    items: Sequence[dict[str, Any]],
    blocks: Sequence[Block],
    questions: Sequence[Question],
    seed: int,
) -> None:
    """Write `out/for_raters/`: one CSV per rater, the offline form and README.txt.

    `items`: dicts with `item_id`, `group` (shown to raters: items of one post share it) and one text per
    block field. Nothing else may be in them: this is exactly what raters see.
    """
    allowed = {"item_id", "group", *(b.field for b in blocks)}
    for item in items:
        extra = set(item) - allowed
        if extra:  # a guard against leaking the key into rater material
            raise ValueError(f"audit item {item.get('item_id')}: unexpected fields {sorted(extra)}")
    columns = sheet_columns(blocks, questions)
    orders = rater_orders(items, raters, seed)
    folder = out / RATER_DIR
    (folder / "sheets").mkdir(parents=True, exist_ok=True)
    for rater in raters:
        with (folder / "sheets" / f"{rater}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            for i in orders[rater]:
                writer.writerow({**{c: "" for c in columns}, **items[i], "rater": rater})
    (folder / "form.html").write_text(
        _render_form(export_id, title, instructions, raters, items, orders, blocks, questions, columns),
        encoding="utf-8",
    )
    (folder / "README.txt").write_text(instructions, encoding="utf-8")


def instructions_text(intro: str, questions: Sequence[Question]) -> str:
    """Rater instructions: the intro, every question with its anchors written out, how to return work."""
    lines = [intro.strip(), ""]
    for q in questions:
        lines.append(f"{q.name}: {q.prompt}")
        lines += [f"  {value} = {anchor}" for value, anchor in q.options]
        lines.append("")
    lines += [
        "Open form.html in a browser (works offline), choose your rater id, answer every item and press",
        "'Save CSV'; or fill in your CSV from sheets/ in a spreadsheet. Send the CSV back. Do not edit item_id,",
        f"group or rater. '{NOTE_FIELD}' is an optional free-text comment.",
        "Posts may contain distressing content, including self-harm; take breaks and stop whenever you need.",
    ]
    return "\n".join(lines) + "\n"


def _render_form(
    export_id: str,
    title: str,
    instructions: str,
    raters: Sequence[str],
    items: Sequence[dict[str, Any]],
    orders: dict[str, list[int]],
    blocks: Sequence[Block],
    questions: Sequence[Question],
    columns: list[str],
) -> str:
    data = {
        "export_id": export_id,
        "raters": list(raters),
        "items": list(items),
        "orders": orders,
        "columns": columns,
        "blocks": [asdict(b) for b in blocks],
        "questions": [
            {"name": q.name, "prompt": q.prompt, "options": [list(o) for o in q.options]} for q in questions
        ],
        "note": NOTE_FIELD,
    }
    return form_template("audit_form.html.jinja").render(data=data, title=title, instructions=instructions)


# ---------------------------------------------------------------------------------------------- ingest


def read_key(path: str | os.PathLike[str], kind: str) -> dict[str, Any]:
    """Load an audit key and check it is one of `kind` ("label-audit" or "pair-audit")."""
    key = read_json(path)
    if not isinstance(key, dict) or key.get("kind") != kind:
        found = key.get("kind") if isinstance(key, dict) else type(key).__name__
        raise ValueError(f"{path}: not a {kind} key (kind={found!r}); pass the key.json that export wrote")
    return key


def read_sheets(
    paths: Sequence[str | os.PathLike[str]], key: dict[str, Any], questions: Sequence[Question]
) -> dict[str, dict[str, dict[str, str]]]:
    """Validate filled sheets against the key; return {item_id: {rater: {question: value}}}.

    Raters who returned no sheet are left out; a rater who did return one must answer every question of
    every item exactly once. Raises one ValueError listing every problem as `file row N: field ...`.
    """
    raters, items = set(key["raters"]), key["items"]
    required = {"rater", "item_id", *(q.name for q in questions)}
    problems: list[str] = []
    answers: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
    seen: dict[tuple[str, str], str] = {}
    rater_files: dict[str, set[str]] = defaultdict(set)
    for path in map(Path, paths):
        reader = open_sheet(path, required, problems)
        if reader is None:
            continue
        header = reader.fieldnames or []
        n_rows = 0
        for n_rows, row in enumerate(reader, 1):
            where = f"{path} row {n_rows + 1}"
            if None in row:  # more cells than header columns
                problems.append(
                    f"{where}: {len(row[None])} cell(s) beyond the header's {len(header)} columns"
                )
                continue
            rater, item_id = (row.get("rater") or "").strip(), (row.get("item_id") or "").strip()
            errs = []
            if rater not in raters:
                errs.append(f"field rater: unknown rater {rater!r} (known: {sorted(raters)})")
            if item_id not in items:
                errs.append(f"field item_id: unknown item {item_id!r} (not in this export)")
            values: dict[str, str] = {}
            for q in questions:
                raw = row.get(q.name) or ""
                if not raw.strip():
                    errs.append(f"field {q.name}: missing answer (one of {', '.join(q.values)})")
                    continue
                value = q.normalize(raw)
                if value is None:
                    errs.append(f"field {q.name}: {raw.strip()!r} is not one of {', '.join(q.values)}")
                else:
                    values[q.name] = value
            if not errs and (rater, item_id) in seen:
                errs.append(
                    f"field item_id: {item_id} rated twice by {rater} (first at {seen[(rater, item_id)]})"
                )
            if errs:
                problems.append(f"{where}: " + "; ".join(errs))
                continue
            seen[(rater, item_id)] = where
            rater_files[rater].add(str(path))
            answers[item_id][rater] = values
        if n_rows == 0:
            problems.append(f"{path}: no rating rows")
    for rater in sorted(rater_files):
        left_out = sorted(i for i in items if rater not in answers.get(i, {}))
        if left_out:
            problems.append(
                f"{', '.join(sorted(rater_files[rater]))}: rater {rater} has no answer for {len(left_out)} "
                f"item(s): {left_out[:5]}{' ...' if len(left_out) > 5 else ''}"
            )
    if problems:
        raise ValueError(f"{len(problems)} problem(s) in the rater sheets:" + format_rows(problems, limit=50))
    if not answers:
        raise ValueError("no ratings in the sheets")
    return dict(answers)


def sheet_fingerprints(paths: Sequence[str | os.PathLike[str]]) -> dict[str, str]:
    """sha256 prefix of every sheet, for the provenance block."""
    return {str(p): hashlib.sha256(Path(p).read_bytes()).hexdigest()[:16] for p in paths}


def majority(values: Sequence[Hashable]) -> Hashable | None:
    """The value more than half of `values` share, else None (no majority: a tie or a split vote)."""
    counts: dict[Hashable, int] = defaultdict(int)
    for v in values:
        counts[v] += 1
    for v, n in counts.items():
        if 2 * n > len(values):
            return v
    return None


# -------------------------------------------------------------------------------------------- bootstrap


def interval_over_posts(
    clusters: Sequence[Hashable],
    statistic: Callable[[np.ndarray], float],
    *,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """95% percentile interval of `statistic(item indices)` from `eval.stats.bootstrap_over_clusters`
    (whole posts resampled with replacement; `clusters[i]` is item i's post). Items of one post are not
    independent (same post, same OP), so an item-level bootstrap would give intervals that are too narrow.
    Resamples where the statistic is undefined (NaN: e.g. every drawn rating the same, for kappa) are
    left out of the quantiles.
    """
    from eval.stats import bootstrap_over_clusters

    def on_indices(values: np.ndarray) -> float:
        with np.errstate(invalid="ignore", divide="ignore"):
            return statistic(values.astype(int))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN quantiles come back as NaN: handled
        return bootstrap_over_clusters(
            np.arange(len(clusters)), clusters, on_indices, n_resamples=n_resamples, seed=seed
        )


def share_with_interval(
    hits: Sequence[bool],
    clusters: Sequence[Hashable],
    *,
    weights: Sequence[float] | None = None,
    n_resamples: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Share of True in `hits` (weighted if `weights`), 95% CI by bootstrap over `clusters`."""
    h = np.asarray(hits, dtype=float)
    w = np.ones_like(h) if weights is None else np.asarray(weights, dtype=float)
    n = int(h.size)
    if n == 0:
        return {"value": None, "ci_low": None, "ci_high": None, "n": 0, "n_posts": 0}

    def stat(idx: np.ndarray) -> float:
        return float((h[idx] * w[idx]).sum() / w[idx].sum())

    if weights is None:  # the plain mean: eval.stats' vectorised path
        from eval.stats import bootstrap_over_clusters

        low, high = bootstrap_over_clusters(h, list(clusters), n_resamples=n_resamples, seed=seed)
    else:
        low, high = interval_over_posts(clusters, stat, n_resamples=n_resamples, seed=seed)
    return {
        "value": stat(np.arange(n)),
        "ci_low": _finite(low),
        "ci_high": _finite(high),
        "n": n,
        "n_posts": len(set(clusters)),
    }


def fleiss_kappa_with_interval(
    codes: np.ndarray,
    n_categories: int,
    clusters: Sequence[Hashable],
    *,
    n_resamples: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Fleiss' kappa (statsmodels) of an (items, raters) array of category codes 0..n_categories-1, with a
    95% interval from a bootstrap over `clusters`; value None when undefined (e.g. every rating the same)."""
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    table, _ = aggregate_raters(codes, n_cat=n_categories)

    def stat(idx: np.ndarray) -> float:
        with np.errstate(invalid="ignore", divide="ignore"):
            return float(fleiss_kappa(table[idx], method="fleiss"))

    low, high = interval_over_posts(clusters, stat, n_resamples=n_resamples, seed=seed)
    return {
        "value": _finite(stat(np.arange(len(table)))),
        "ci_low": _finite(low),
        "ci_high": _finite(high),
        "n_items": int(codes.shape[0]),
        "n_raters": int(codes.shape[1]),
    }


def _finite(x: float) -> float | None:
    return None if x is None or np.isnan(x) else float(x)


def fmt_share(entry: dict[str, Any]) -> str:
    """`93.1% [88.0, 96.5] (n=120)` for a report table."""
    if entry.get("value") is None:
        return f"– (n={entry.get('n', 0)})"
    ci = (
        f" [{100 * entry['ci_low']:.1f}, {100 * entry['ci_high']:.1f}]"
        if entry.get("ci_low") is not None
        else " [–]"
    )
    return f"{100 * entry['value']:.1f}%{ci} (n={entry['n']})"


# ------------------------------------------------------------------------------------------------ data


def load_rows(
    dataset: str | os.PathLike[str], config: str, splits: Sequence[str] | None
) -> list[dict[str, Any]]:
    """Rows of `config` from the chosen splits (default: every split the folder has), each with `split`.

    Errors name the folder, config and split; a config with no rows is an error.
    """
    from redditess_core.loading import load_split

    folder = Path(dataset)
    if splits is None:
        from datasets import get_dataset_split_names

        if not folder.is_dir():
            raise FileNotFoundError(f"RedditESS folder not found: {folder}")
        try:
            splits = get_dataset_split_names(str(folder), config)
        except ValueError as exc:
            raise ValueError(f"{folder}: no config {config!r} ({exc})") from None
    rows: list[dict[str, Any]] = []
    for split in splits:
        ds = load_split(folder, config, split)
        names = (
            ds.features["label"].names
            if "label" in ds.features and hasattr(ds.features["label"], "names")
            else None
        )
        for row in ds:
            if names is not None and isinstance(row.get("label"), int):
                row["label"] = names[row["label"]]
            rows.append({**row, "split": split})
    if not rows:
        raise ValueError(f"{folder} [{config}]: no rows in splits {list(splits)}")
    return rows


def dataset_version(dataset: str | os.PathLike[str]) -> dict[str, Any]:
    """Version and label rule of the dataset folder (from manifest.json), for the key's provenance."""
    manifest = Path(dataset) / MANIFEST_FILE
    if not manifest.is_file():
        return {"path": str(dataset), "version": None}
    data = read_json(manifest)
    return {
        "path": str(dataset),
        "version": data.get("version"),
        "label_rule_version": data.get("label_rule_version"),
    }
