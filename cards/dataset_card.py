"""Render a RedditESS dataset folder's README.md (the dataset card) from its build manifest.

The card is the Hub's view of the folder: its YAML `configs:` is what `load_dataset` reads, so it
must list exactly the parquet files the build wrote (empty splits are left out: `datasets` 5.2
cannot load an empty parquet split). Everything else in the card is derived from the manifest, so
a card can never claim a threshold or a count the build did not use.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData

from cards.markdown import flatten, size_category, table
from redditess_core.contract import CONFIG_DESCRIPTIONS, SPLITS

# Parameter keys are grouped for the card by the first rule whose words occur in the key.
_PARAM_GROUPS: list[tuple[str, tuple[str, ...]]] = [
    ("Improvement pairs", ("improvement", "similarity", "encoder")),
    ("Preference pairs", ("pair", "post_min_score", "comment_min_score", "ratio")),
    (
        "Labeling ensemble",
        (
            "label",
            "weight",
            "threshold",
            "margin",
            "reception",
            "op_signal",
            "feedback",
            "gratitude",
            "sentiment",
            "support",
            "vote",
            "effective",
        ),
    ),
    ("Splits", ("split", "seed", "fraction")),
    (
        "Sources and filters",
        (
            "subreddit",
            "min_",
            "max_",
            "length",
            "bot",
            "spam",
            "edit",
            "delete",
            "remove",
            "author",
            "date",
            "since",
            "until",
            "input",
            "format",
            "require",
            "nsfw",
        ),
    ),
]

GATED_PROMPT = (
    "RedditESS holds posts and replies from mental-health communities, including text about self-harm "
    "and suicide. Authors are pseudonymized and contact details are scrubbed, but the text is real and "
    "sensitive. Access is granted for research and for building peer-support writing aids only. By "
    "requesting access you agree not to try to identify, contact or profile any author, not to "
    "redistribute the data, and to follow your institution's ethics rules for research on human data."
)

GATED_FIELDS: dict[str, Any] = {
    "Name": "text",
    "Affiliation": "text",
    "Country": "country",
    "Intended use": {
        "type": "select",
        "options": ["Research", "Education", "Building a peer-support writing aid", "Other"],
    },
    "I will not try to identify, contact or profile any author in this dataset": "checkbox",
    "I will not redistribute this dataset": "checkbox",
}

BASE_TAGS = ["mental-health", "social-support", "peer-support", "reddit", "preference", "dpo", "sft"]


DEFAULT_LICENSE_NAME = "redditess-research-use"
LICENSE_FILE = "LICENSE.md"


def license_link(manifest: Mapping[str, Any]) -> str | None:
    """`license_link` of the card: the manifest's own (a URL or a file of the folder), else for
    `license: other` the `LICENSE.md` that `write_dataset_card` writes beside the card (the Hub shows
    `license_name` as a link to it; without one, an `other` license names terms nobody can read)."""
    if manifest.get("license_link"):
        return str(manifest["license_link"])
    return LICENSE_FILE if (manifest.get("license") or "other") == "other" else None


def render_license(manifest: Mapping[str, Any]) -> str:
    """The text of `LICENSE.md`: the research-use terms the access gate asks every user to accept."""
    name = manifest.get("license_name") or DEFAULT_LICENSE_NAME
    pretty = manifest.get("pretty_name") or "RedditESS"
    version = manifest.get("version") or "unknown"
    return (
        f"# {pretty} {version}: terms of use (`{name}`)\n\n"
        "The text in this dataset belongs to its Reddit authors and is subject to Reddit's terms. The dataset "
        "is shared for research only, under these terms, which every user accepts when requesting access:\n\n"
        f"{GATED_PROMPT}\n\n"
        "You may publish aggregate results, models trained on the data (with their own cards and safety "
        "screening) and short excerpts needed to explain a finding, never an author's identity. You may not "
        "redistribute the data or any part of it that could re-identify an author.\n"
    )


class ManifestError(ValueError):
    """A manifest is missing a field the card needs; the message names the field."""


def _require(manifest: Mapping[str, Any], key: str) -> Any:
    if key not in manifest or manifest[key] in (None, ""):
        raise ManifestError(f"manifest field `{key}` is missing (needed by the dataset card)")
    return manifest[key]


def _ordered_splits(splits: Mapping[str, Any]) -> list[str]:
    known = [s for s in SPLITS if s in splits]
    return known + sorted(s for s in splits if s not in SPLITS)


def loadable_configs(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The `configs:` YAML entries: non-empty splits only, the default config first.

    Shared with `cards.validate`, which checks these entries against the files on disk.
    """
    configs = _require(manifest, "configs")
    if not isinstance(configs, Mapping) or not configs:
        raise ManifestError("manifest field `configs` must be a non-empty mapping of config name -> splits")
    defaults = [name for name, cfg in configs.items() if cfg.get("default")]
    if len(defaults) > 1:
        raise ManifestError(f"manifest field `configs`: more than one default config ({', '.join(defaults)})")
    default = defaults[0] if defaults else ("effective_support" if "effective_support" in configs else None)
    entries = []
    for name, cfg in configs.items():
        splits = cfg.get("splits") or {}
        empty = set(cfg.get("empty_splits") or [])
        data_files = []
        for split in _ordered_splits(splits):
            info = splits[split] or {}
            if split in empty or int(info.get("num_rows") or 0) == 0:
                continue
            if not info.get("path"):
                raise ManifestError(f"manifest field `configs.{name}.splits.{split}.path` is missing")
            data_files.append({"split": split, "path": info["path"]})
        if not data_files:
            continue
        entry: dict[str, Any] = {"config_name": name}
        if name == default:
            entry["default"] = True
        entry["data_files"] = data_files
        entries.append(entry)
    entries.sort(key=lambda e: not e.get("default", False))
    if not entries:
        raise ManifestError("manifest field `configs`: every split of every config is empty; nothing to load")
    return entries


def _num_rows(manifest: Mapping[str, Any], config: str, split: str) -> int:
    info = (manifest["configs"][config].get("splits") or {}).get(split) or {}
    return int(info.get("num_rows") or 0)


def dataset_info(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """`dataset_info:` entries (split sizes) for the loadable configs.

    Besides documenting sizes as Hub cards do, they make `datasets` notice a rebuilt folder: its
    local cache key hashes the card's `configs` and `dataset_info`, so without sizes two builds with
    the same YAML would share a cache and the second would load the first one's rows.
    """
    infos = []
    for entry in loadable_configs(manifest):
        splits = manifest["configs"][entry["config_name"]]["splits"]
        names = [f["split"] for f in entry["data_files"]]
        if not all("num_bytes" in splits[n] for n in names):
            continue
        infos.append(
            {
                "config_name": entry["config_name"],
                "splits": [
                    {
                        "name": n,
                        "num_bytes": int(splits[n]["num_bytes"]),
                        "num_examples": int(splits[n]["num_rows"]),
                    }
                    for n in names
                ],
                "download_size": sum(int(splits[n].get("download_bytes", 0)) for n in names),
                "dataset_size": sum(int(splits[n]["num_bytes"]) for n in names),
            }
        )
    return infos


def build_card_data(manifest: Mapping[str, Any]) -> DatasetCardData:
    """The YAML metadata: what the Hub and `load_dataset` read."""
    configs = loadable_configs(manifest)
    largest = max(
        sum(_num_rows(manifest, e["config_name"], f["split"]) for f in e["data_files"]) for e in configs
    )
    license_id = manifest.get("license") or "other"
    tags = list(BASE_TAGS) + (["synthetic"] if manifest.get("synthetic") else [])
    extra: dict[str, Any] = {}
    if license_id == "other":
        extra["license_name"] = manifest.get("license_name") or DEFAULT_LICENSE_NAME
    if link := license_link(manifest):
        extra["license_link"] = link
    if infos := dataset_info(manifest):
        extra["dataset_info"] = infos
    return DatasetCardData(
        license=license_id,
        language=["en"],
        pretty_name=manifest.get("pretty_name") or "RedditESS",
        task_categories=["text-classification", "text-generation"],
        size_categories=[size_category(largest)],
        annotations_creators=["machine-generated"],
        language_creators=["found"],
        multilinguality=["monolingual"],
        source_datasets=["original"],
        tags=tags,
        configs=configs,
        extra_gated_prompt=GATED_PROMPT,
        extra_gated_fields=GATED_FIELDS,
        **extra,
    )


def _group_parameters(parameters: Mapping[str, Any]) -> list[tuple[str, str]]:
    groups: dict[str, list[tuple[str, Any]]] = {name: [] for name, _ in _PARAM_GROUPS}
    groups["Build"] = []
    for key, value in flatten(parameters).items():
        low = key.lower()
        if key == "subreddits" and not value:
            value = "all communities in the inputs"
        target = next((name for name, words in _PARAM_GROUPS if any(w in low for w in words)), "Build")
        groups[target].append((key, value))
    return [(name, table(["parameter", "value"], rows)) for name, rows in groups.items() if rows]


def _figures(manifest: Mapping[str, Any]) -> dict[str, str]:
    configs = manifest["configs"]
    splits = [s for s in SPLITS]
    for cfg in configs.values():
        splits += [s for s in _ordered_splits(cfg.get("splits") or {}) if s not in splits]
    count_rows = []
    empty_notes = []
    for name, cfg in configs.items():
        row: list[Any] = [f"`{name}`" + (" (default)" if cfg.get("default") else "")]
        total = 0
        for split in splits:
            n = _num_rows(manifest, name, split)
            total += n
            row.append(n if n else "empty")
            if not n:
                empty_notes.append(f"`{name}`/{split}")
        row.append(total)
        count_rows.append(row)
    stats = manifest.get("stats") or {}
    balance_rows = []
    for split, counts in (stats.get("label_balance") or {}).items():
        eff, neg = int(counts.get("effective", 0)), int(counts.get("not_effective", 0))
        balance_rows.append([split, eff, neg, f"{eff / (eff + neg):.1%}" if eff + neg else "—"])
    ppp_rows = [
        [f"`{c}`", v.get("mean"), v.get("max")] for c, v in (stats.get("pairs_per_post") or {}).items()
    ]
    subreddit_rows = sorted((stats.get("subreddits") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    drop_rows = [
        [stage, reason, n]
        for stage, reasons in (manifest.get("drops") or {}).items()
        for reason, n in sorted((reasons or {}).items(), key=lambda kv: -kv[1])
    ]
    counts = manifest.get("counts") or {}
    if "input" in counts or "kept" in counts:
        inp, kept = counts.get("input") or {}, counts.get("kept") or {}
        keys = list(inp) + [k for k in kept if k not in inp]
        pipeline_table = (
            table(["", "input", "kept"], [[k, inp.get(k), kept.get(k)] for k in keys]) if keys else ""
        )
    else:
        pipeline_table = table(["count", "value"], list(counts.items())) if counts else ""
    pair_sources = stats.get("pair_sources") or {}
    rejected = manifest.get("rejected") or {}
    rejected_rows = [
        [Path(str(e.get("file", ""))).name, e.get("line"), str(e.get("reason", ""))[:120]]
        for e in (rejected.get("examples") or [])[:10]
    ]
    return {
        "counts_table": table(["config", *splits, "total"], count_rows),
        "empty_splits": ", ".join(empty_notes),
        "balance_table": table(["split", "effective", "not_effective", "share effective"], balance_rows)
        if balance_rows
        else "",
        "pairs_table": table(["config", "mean pairs per post", "max pairs per post"], ppp_rows)
        if ppp_rows
        else "",
        "subreddit_table": table(["subreddit", "rows"], [[f"r/{k}", v] for k, v in subreddit_rows])
        if subreddit_rows
        else "",
        "drops_table": table(["record", "reason", "count"], drop_rows) if drop_rows else "",
        "pipeline_counts_table": pipeline_table,
        "pair_sources_table": table(["preference pair source", "pairs"], list(pair_sources.items()))
        if pair_sources
        else "",
        "unlabeled_comments": stats.get("unlabeled_comments"),
        "support_table": _support_table(manifest.get("support_seeking") or {}),
        "confidence_table": _confidence_table(stats.get("label_confidence") or {}),
        "edited_by_flag": counts.get("edited_by_flag"),
        "edited_by_marker": counts.get("edited_by_marker"),
        "names_replaced": counts.get("texts_with_participant_names_replaced"),
        "reddit_ids": manifest.get("reddit_ids"),
        "scrub_table": table(
            ["rule", "replacements"],
            [[f"`{k}`", v] for k, v in (manifest.get("scrub_replacements") or {}).items()],
        )
        if manifest.get("scrub_replacements")
        else "",
        "rejected_count": int(rejected.get("count") or 0),
        "rejected_table": table(["file", "line", "reason"], rejected_rows) if rejected_rows else "",
    }


def _confidence_table(distribution: Mapping[str, Any]) -> str:
    """One row per label: n, mean, quantiles and the counts per confidence bin (from `stats`)."""
    if not distribution:
        return ""
    bins = list(next(iter(distribution.values())).get("bins", {}))
    rows = [
        [f"`{label}`", d.get("n"), d.get("mean"), d.get("p10"), d.get("median"), d.get("p90")]
        + [d.get("bins", {}).get(b, 0) for b in bins]
        for label, d in distribution.items()
    ]
    return table(["label", "n", "mean", "p10", "median", "p90", *bins], rows)


def _support_table(support: Mapping[str, Any]) -> str:
    """Kept posts by support reason, and the comments left unlabeled on posts that do not seek support."""
    if not support:
        return ""
    rows = [[f"posts: `{reason}`", n] for reason, n in (support.get("posts_by_reason") or {}).items()]
    rows += [
        ["posts seeking support", support.get("posts_seeking_support")],
        ["posts not seeking support", support.get("posts_not_seeking_support")],
        [
            "top-level comments on posts not seeking support",
            support.get("comments_on_posts_not_seeking_support"),
        ],
    ]
    return table(["support-seeking", "count"], rows)


def _exclusions(manifest: Mapping[str, Any]) -> str:
    words = ("deleted", "removed", "bot", "spam", "advert", "survey", "moderator")
    rows = [
        [stage, reason, n]
        for stage, reasons in (manifest.get("drops") or {}).items()
        for reason, n in (reasons or {}).items()
        if any(w in reason.lower() for w in words)
    ]
    return table(["record", "reason", "count"], rows) if rows else ""


def card_context(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the Jinja template reads, precomputed (tables, grouped parameters, changelog)."""
    version = str(_require(manifest, "version"))
    code = manifest.get("code_version") or {}
    inputs = manifest.get("inputs") or []
    changelog = manifest.get("changelog") or [
        {
            "version": version,
            "date": str(manifest.get("built_at") or manifest.get("created_at") or "")[:10] or None,
            "changes": [
                f"Built with label rule {manifest.get('label_rule_version', 'unversioned')} "
                f"(preset `{manifest.get('preset', 'kit')}`); first release of this version."
            ],
        }
    ]
    stats = manifest.get("stats") or {}
    subreddits = sorted((stats.get("subreddits") or {}).keys())
    return {
        "name": manifest.get("name") or "redditess",
        "pretty_name": manifest.get("pretty_name") or "RedditESS",
        "version": version,
        "label_rule_version": manifest.get("label_rule_version") or "unversioned",
        "preset": manifest.get("preset") or "kit",
        "label_only_support_seeking": (manifest.get("parameters") or {}).get(
            "label_only_support_seeking", False
        ),
        "code_package": code.get("package") or "unknown",
        "code_git": code.get("git"),
        "synthetic": bool(manifest.get("synthetic")),
        "fingerprint": manifest.get("pseudonym_key_fingerprint") or "not recorded",
        "sensitive_rows": stats.get("sensitive_rows"),
        "subreddits": subreddits,
        "inputs_table": table(
            ["file", "kind", "format", "bytes", "sha256"],
            [
                [i.get("name"), i.get("kind"), i.get("format"), i.get("bytes"), i.get("sha256")]
                for i in inputs
            ],
        ),
        "config_rows": table(
            ["config", "contents"],
            [[f"`{n}`", CONFIG_DESCRIPTIONS.get(n, "")] for n in manifest["configs"]],
        ),
        "parameter_groups": _group_parameters(manifest.get("parameters") or {}),
        "exclusions_table": _exclusions(manifest),
        "drop_reasons": ", ".join(
            sorted({str(r) for reasons in (manifest.get("drops") or {}).values() for r in (reasons or {})})
        ),
        "changelog": changelog,
        "default_config": loadable_configs(manifest)[0]["config_name"],
        **_figures(manifest),
        **_training_rows(manifest),
    }


def _training_rows(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The training configs' quality rules: what each removed, the length figures, the intent check."""
    training = manifest.get("training_rows") or {}
    drops = training.get("drops") or {}
    rows = [
        [f"`{kind}`", reason, n]
        for kind, reasons in drops.items()
        for reason, n in sorted((reasons or {}).items(), key=lambda kv: (kv[0] != "kept", -kv[1]))
    ]
    stats = manifest.get("stats") or {}
    longer = stats.get("chosen_longer_share") or {}
    params = manifest.get("parameters") or {}
    return {
        "training_drops_table": table(["rows", "kept or removed by", "candidates"], rows) if rows else "",
        "chosen_longer_table": table(
            ["pair source", "chosen reply longer"], [[k, f"{v:.1%}"] for k, v in longer.items()]
        )
        if longer
        else "",
        "improvement_sources": stats.get("improvement_sources") or {},
        "similarity_method": training.get("similarity_method"),
        "min_similarity": training.get("min_similarity"),
        "system_prompt": params.get("system_prompt"),
        "improve_system_prompt": params.get("improve_system_prompt"),
    }


TEMPLATES = Path(__file__).resolve().parent / "templates"


def _template_text() -> str:
    return (TEMPLATES / "dataset_card.md.jinja").read_text(encoding="utf-8")


def render_dataset_card(manifest: Mapping[str, Any]) -> str:
    """The full README.md text of a dataset folder, rendered through `DatasetCard.from_template`."""
    card = DatasetCard.from_template(
        build_card_data(manifest), template_str=_template_text(), **card_context(manifest)
    )
    return str(card)


def _write_atomic(target: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, target)


def write_dataset_card(manifest: Mapping[str, Any], folder: str | os.PathLike[str]) -> Path:
    """Render and write `folder/README.md` atomically (temp file, then rename), and `folder/LICENSE.md` when
    the card links to it (`license: other` without a `license_link` of its own). Returns the card's path."""
    folder = Path(folder)
    text = render_dataset_card(manifest)
    if license_link(manifest) == LICENSE_FILE:
        _write_atomic(folder / LICENSE_FILE, render_license(manifest))
    target = folder / "README.md"
    _write_atomic(target, text)
    return target
