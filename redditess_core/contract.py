"""The RedditESS data contract: config, split and column names, features, labels and the kit's file names.

One definition of each, imported by the builder (what it writes), training and eval (what they read), the
cards (what they describe), publishing and assist. The names are fixed by the dataset's published contract
(README.md, "Configs (the data contract)", and the dataset card); columns may be added, never renamed.

Features are kept in the serialized form `datasets` stores in parquet metadata (key "huggingface"), so the
builder writes them without importing `datasets` (about 1 s of start-up); `features(config)` gives the
`datasets.Features` and `arrow_schema(config)` the parquet schema carrying them (ClassLabel names survive a
round trip through parquet). `tests/test_contract.py` pins that the two agree.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # both imported where used: importing the contract stays cheap
    import datasets
    import pyarrow as pa

# ---------------------------------------------------------------------------------------------------------
# Configs, splits, labels
# ---------------------------------------------------------------------------------------------------------

CONFIG_NAMES: tuple[str, ...] = ("effective_support", "comments", "preference", "sft", "improvement")
DEFAULT_CONFIG = "effective_support"
SPLITS: tuple[str, ...] = ("train", "validation", "test")
# ClassLabel names of `label` (index 0 = not_effective, 1 = effective) and the positive class of the classifier.
LABEL_NAMES: tuple[str, ...] = ("not_effective", "effective")
POSITIVE_LABEL = "effective"

CONFIG_DESCRIPTIONS: dict[str, str] = {
    "effective_support": "One row per labeled top-level comment: post, comment, signals, `label` "
    "(`not_effective` / `effective`), confidence. For classifiers.",
    "comments": "Every kept top-level comment with the same columns; `label` is null where no signal decided.",
    "preference": "Conversational chosen / rejected replies to one post (`votes` pairs after SHP, "
    "`label` pairs effective vs not effective). For DPO of a Generation Model.",
    "sft": "System + post + an effective reply as `messages`. For supervised fine-tuning.",
    "improvement": "**Experimental.** A draft reply and its revision: a better-received reply to the same post, "
    "written after the draft, that says the same thing (`similar_reply`), or the earlier and later text of "
    "one edited comment (`self_edit`). For an Improvement Model that revises a human draft.",
}

# ---------------------------------------------------------------------------------------------------------
# Features of each config (serialized `datasets.Features`)
# ---------------------------------------------------------------------------------------------------------


def _value(dtype: str) -> dict[str, Any]:
    return {"dtype": dtype, "_type": "Value"}


# A conversation: a list of {role, content} turns (TRL's conversational format).
MESSAGES: dict[str, Any] = {
    "feature": {"role": _value("string"), "content": _value("string")},
    "_type": "List",
}

_COMMENT_FEATURES: dict[str, Any] = {
    "post_id": _value("string"),
    "comment_id": _value("string"),
    "subreddit": _value("string"),
    "post_title": _value("string"),
    "post_text": _value("string"),
    "comment_text": _value("string"),
    "comment_score": _value("int64"),
    "post_score": _value("int64"),
    "post_created_utc": _value("int64"),
    "comment_created_utc": _value("int64"),
    "op_replied": _value("bool"),
    "op_reply_text": _value("string"),
    "reception": _value("float64"),
    "op_signal": _value("float64"),
    "op_evidence": _value("string"),
    "post_feedback": _value("float64"),
    "label": {"names": list(LABEL_NAMES), "_type": "ClassLabel"},
    "label_confidence": _value("float64"),
    "label_source": _value("string"),
    "seeks_support": _value("bool"),
    "author": _value("string"),
    "is_sensitive": _value("bool"),
}

# The `preference` config's columns; DPO2 pairs from human ratings (eval.human) share them.
PREFERENCE_FEATURES: dict[str, Any] = {
    "prompt": MESSAGES,
    "chosen": MESSAGES,
    "rejected": MESSAGES,
    "post_id": _value("string"),
    "chosen_id": _value("string"),
    "rejected_id": _value("string"),
    "chosen_score": _value("int64"),
    "rejected_score": _value("int64"),
    "score_ratio": _value("float64"),
    "seconds_difference": _value("int64"),
    "pair_source": _value("string"),
    "is_sensitive": _value("bool"),
}

FEATURES: dict[str, dict[str, Any]] = {
    "effective_support": _COMMENT_FEATURES,
    "comments": _COMMENT_FEATURES,
    "preference": PREFERENCE_FEATURES,
    "sft": {
        "messages": MESSAGES,
        "post_id": _value("string"),
        "comment_id": _value("string"),
        "label_confidence": _value("float64"),
        "is_sensitive": _value("bool"),
    },
    "improvement": {
        "prompt": MESSAGES,
        "chosen": MESSAGES,
        "rejected": MESSAGES,
        "similarity": _value("float64"),
        "post_id": _value("string"),
        "draft_id": _value("string"),
        "revision_id": _value("string"),
        "draft_score": _value("int64"),
        "revision_score": _value("int64"),
        "pair_source": _value("string"),
        "is_sensitive": _value("bool"),
    },
}

# Column names of each config, in file order.
COLUMNS: dict[str, tuple[str, ...]] = {config: tuple(f) for config, f in FEATURES.items()}

# The columns a consumer of each config relies on (training, eval): what a file claiming to be that config
# must have; extra columns are allowed. `improvement` shares `preference`'s (prompt, chosen, rejected).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "sft": ("messages",),
    "preference": ("prompt", "chosen", "rejected"),
    "improvement": ("prompt", "chosen", "rejected"),
    "effective_support": ("post_title", "post_text", "comment_text", "label"),
    "comments": ("post_title", "post_text", "comment_text", "label"),
}


def _config_features(config: str) -> dict[str, Any]:
    if config not in FEATURES:
        raise KeyError(f"unknown RedditESS config {config!r}; known: {list(CONFIG_NAMES)}")
    return FEATURES[config]


def _arrow_type(feature: dict[str, Any]) -> pa.DataType:
    import pyarrow as pa

    kind = feature["_type"]
    if kind == "Value":
        return {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}[
            feature["dtype"]
        ]
    if kind == "ClassLabel":
        return pa.int64()
    if kind == "List":
        item = feature["feature"]
        if "_type" in item:
            return pa.list_(_arrow_type(item))
        return pa.list_(pa.struct([(name, _arrow_type(sub)) for name, sub in item.items()]))
    raise ValueError(f"unsupported feature type {kind}")


def arrow_schema(config: str, extra: list[tuple[str, pa.DataType]] | None = None) -> pa.Schema:
    """The parquet schema of `config`, carrying its `datasets` features (ClassLabel names survive).

    `extra` appends columns after the contract's (e.g. the rater counts of human DPO2 pairs); they are not
    described in the metadata, so `datasets` infers their types. KeyError for an unknown config.
    """
    import pyarrow as pa

    features = _config_features(config)
    fields = [(name, _arrow_type(f)) for name, f in features.items()] + list(extra or [])
    metadata = {"huggingface": json.dumps({"info": {"features": features}})}
    return pa.schema(fields, metadata=metadata)


def features(config: str) -> datasets.Features:
    """The `datasets.Features` of `config` (imports `datasets`). KeyError for an unknown config."""
    import datasets

    return datasets.Features.from_dict(_config_features(config))


# ---------------------------------------------------------------------------------------------------------
# File names: a dataset folder (a Hub dataset repository) and a training run
# ---------------------------------------------------------------------------------------------------------

MANIFEST_FILE = "manifest.json"  # version, inputs with sha256, every parameter, counts, drop reasons
DATA_DIR = "data"


def data_file(config: str, split: str) -> str:
    """The one parquet file of a config's split, relative to the dataset folder."""
    return f"{DATA_DIR}/{config}/{split}-00000-of-00001.parquet"


def data_files_pattern(config: str, split: str) -> str:
    """The `data_files` glob of a config's split in the card's `configs:` (relative to the folder)."""
    return f"{DATA_DIR}/{config}/{split}-*.parquet"


RUN_RECORD = "redditess_run.json"  # written by training.run beside a trained model/adapter
RESOLVED_CONFIG = "redditess_config.yaml"  # the recipe after overrides, as the run used it
THRESHOLD_FILE = "threshold.json"  # a classifier run's tuned decision threshold and the metric it maximised
