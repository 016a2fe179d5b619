"""Hand-written manifests and contract-shaped folders for the card / publish tests (no builder needed)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

SYSTEM = {"role": "system", "content": "You write supportive replies to people in mental-health communities."}

BASE_MANIFEST: dict[str, Any] = {
    "name": "redditess",
    "pretty_name": "RedditESS",
    "version": "0.1.0",
    "label_rule_version": "1.0",
    "preset": "kit",
    "code_version": {"package": "0.1.0", "git": None},
    "parameters": {
        "subreddits": ["depression", "anxiety"],
        "min_comment_length": 20,
        "label_weights": {"reception": 1.0, "op_signal": 2.0, "post_feedback": 1.0},
        "label_margin": 0.5,
        "reception_effective_threshold": 0.75,
        "post_min_score": 3,
        "comment_min_score": 2,
        "min_score_ratio": 2.0,
        "max_pairs_per_post": 5,
        "improvement_similarity_method": "lexical",
        "improvement_similarity_threshold": 0.4,
        "split_fractions": {"train": 0.9, "validation": 0.05, "test": 0.05},
        "seed": 0,
    },
    "pseudonym_key_fingerprint": "sha256:9f2c",
    "inputs": [
        {
            "name": "RS_sample.jsonl",
            "sha256": "a" * 64,
            "bytes": 1234,
            "format": "jsonl",
            "kind": "submissions",
        },
        {"name": "RC_sample.jsonl", "sha256": "b" * 64, "bytes": 5678, "format": "jsonl", "kind": "comments"},
    ],
    "counts": {"input": {"submissions": 10, "comments": 100}, "kept": {"submissions": 8, "comments": 80}},
    "drops": {"submission": {"deleted": 1, "removed": 1}, "comment": {"deleted_author": 5, "too_short": 15}},
    "rejected": {
        "count": 1,
        "examples": [{"file": "/raw/RC_sample.jsonl", "line": 7, "reason": "invalid JSON"}],
    },
    "configs": {},
    "stats": {
        "label_balance": {"train": {"effective": 3, "not_effective": 2}},
        "pairs_per_post": {"preference": {"mean": 1.5, "max": 2}},
        "subreddits": {"depression": 4, "anxiety": 2},
        "sensitive_rows": 1,
    },
    "synthetic": True,
}


def _effective_rows(n: int, offset: int) -> list[dict[str, Any]]:
    return [
        {
            "post_id": f"p{offset + i}",
            "comment_id": f"c{offset + i}",
            "subreddit": "depression",
            "post_title": f"title {offset + i}",
            "post_text": f"I have been feeling low for weeks, number {offset + i}.",
            "comment_text": f"You are not alone, reply {offset + i}.",
            "label": (offset + i) % 2,
            "author": f"user_{offset + i:012x}",
            "is_sensitive": False,
        }
        for i in range(n)
    ]


def _preference_rows(n: int, offset: int) -> list[dict[str, Any]]:
    return [
        {
            "prompt": [SYSTEM, {"role": "user", "content": f"post {offset + i}"}],
            "chosen": [{"role": "assistant", "content": f"kind reply {offset + i}"}],
            "rejected": [{"role": "assistant", "content": f"short reply {offset + i}"}],
            "post_id": f"p{offset + i}",
            "pair_source": "votes",
        }
        for i in range(n)
    ]


def write_contract_folder(root: Path, sizes: dict[str, dict[str, int]] | None = None) -> tuple[Path, dict]:
    """A dataset folder in the data contract's layout: parquet per config/split, manifest.json, README.md.

    `sizes` maps config -> split -> rows; a 0 means an empty split (no file, listed in empty_splits).
    """
    from cards.dataset_card import write_dataset_card

    sizes = sizes or {
        "effective_support": {"train": 5, "validation": 2, "test": 0},
        "preference": {"train": 3, "validation": 1, "test": 1},
    }
    makers = {"effective_support": _effective_rows, "preference": _preference_rows}
    manifest = copy.deepcopy(BASE_MANIFEST)
    folder = root / "redditess"
    offset = 0
    for config, splits in sizes.items():
        entry: dict[str, Any] = {"default": config == "effective_support", "splits": {}, "empty_splits": []}
        for split, n in splits.items():
            if n == 0:
                entry["empty_splits"].append(split)
                continue
            path = folder / "data" / config / f"{split}-00000-of-00001.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(makers[config](n, offset)), path)
            offset += n
            entry["splits"][split] = {"path": f"data/{config}/{split}-*.parquet", "num_rows": n}
        manifest["configs"][config] = entry
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    write_dataset_card(manifest, folder)
    return folder, manifest
