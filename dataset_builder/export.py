"""Write the folder: data/<config>/<split>-*.parquet with `datasets` features in the schema metadata,
manifest.json and README.md (the card). Rows are ordered by stable keys and written by pyarrow with
fixed settings, so the same inputs, parameters and key give byte-identical parquet files.

`datasets` 5.2 fails on an empty parquet split, so an empty split gets no file and no `configs:` entry.

Engines: the rows are the portable step `export_rows` (sql/export_rows.sql: one view `export_<config>` per
config, chat turns as plain text columns, since list and struct literals differ between DuckDB and Spark);
the `messages` columns are built in Arrow per batch (`chat_rows`), and the parquet writing is Python.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dataset_builder import steps
from redditess_core.contract import (
    CONFIG_NAMES,
    DEFAULT_CONFIG,
    SPLITS,
    arrow_schema,
    data_file,
    data_files_pattern,
)
from redditess_core.prompts import IMPROVE_SYSTEM_PROMPT, IMPROVE_TURN, POST_TURN, SYSTEM_PROMPT

logger = logging.getLogger(__name__)

# The rows of each config as portable views (sql/export_rows.sql), chat turns as plain text columns.
ROWS = steps.Step(
    "export_rows",
    inputs=(
        "ess",
        "clean_comments",
        "clean_posts",
        "preference",
        "sft",
        "improvement",
        "clean_earlier_versions",
    ),
    outputs=tuple(f"export_{config}" for config in CONFIG_NAMES),
)
# Each config's stable row order (after `_split`), applied when its view is read.
ROW_ORDER = {
    "effective_support": ("post_id", "comment_id"),
    "comments": ("post_id", "comment_id"),
    "preference": ("post_id", "chosen_id", "rejected_id"),
    "sft": ("post_id", "comment_id"),
    "improvement": ("post_id", "draft_id", "revision_id", "pair_source"),
}
# A turn's content: a constant (the system prompts, by name), a text column, or a template rendered from
# text columns ({placeholder: column}).
Content = str | tuple[str, dict[str, str]]
# Each config's message columns: {column: [(role, content), ...]}; the text columns they read are dropped.
_POST = ("user", (POST_TURN, {"title": "post_title", "body": "post_text"}))
_IMPROVE = ("user", (IMPROVE_TURN, {"title": "post_title", "body": "post_text", "draft": "draft_text"}))
TURNS: dict[str, dict[str, list[tuple[str, Content]]]] = {
    "effective_support": {},
    "comments": {},
    "preference": {
        "prompt": [("system", "$system_prompt"), _POST],
        "chosen": [("assistant", "chosen_text")],
        "rejected": [("assistant", "rejected_text")],
    },
    "sft": {"messages": [("system", "$system_prompt"), _POST, ("assistant", "reply_text")]},
    "improvement": {
        "prompt": [("system", "$improve_system_prompt"), _IMPROVE],
        "chosen": [("assistant", "chosen_text")],
        "rejected": [("assistant", "draft_text")],
    },
}


def row_queries() -> dict[str, str]:
    """The query reading each config's rows from its view (`ROWS`, created by `write_configs`): `_split`
    first, rows ordered by split, then by the config's stable keys (`ROW_ORDER`). One query per config for
    all its splits (one join and one sort instead of one per split)."""
    return {
        config: f"SELECT * FROM export_{config} ORDER BY _split, {', '.join(keys)}"
        for config, keys in ROW_ORDER.items()
    }


def render_template(template: str, columns: dict[str, pa.Array]) -> pa.Array:
    """`template` ({placeholder}s, as `str.format`) rendered row by row from the string arrays `columns`;
    NULL where any placeholder's value is NULL (as SQL's `||`)."""
    parts: list[Any] = []
    for piece in re.split(r"(\{\w+\})", template):
        if re.fullmatch(r"\{\w+\}", piece):
            parts.append(columns[piece[1:-1]])
        elif piece:
            parts.append(pa.scalar(piece, pa.string()))
    return pc.binary_join_element_wise(*parts, "", null_handling="emit_null")


def chat_rows(
    config: str, batch: pa.RecordBatch, schema: pa.Schema, prompts: dict[str, str]
) -> pa.RecordBatch:
    """A batch of `export_<config>` rows in `schema`'s columns (`_split` first): each message column of
    `TURNS[config]` built as a list of {role, content} turns from its text columns and the system prompts
    (`prompts`: $system_prompt, $improve_system_prompt)."""
    n = batch.num_rows
    texts = {name: batch.column(name) for name in batch.schema.names}
    built: dict[str, pa.Array] = {}
    for column, turns in TURNS[config].items():
        contents = []
        for _, content in turns:
            if isinstance(content, tuple):
                template, placeholders = content
                contents.append(render_template(template, {k: texts[v] for k, v in placeholders.items()}))
            elif content.startswith("$"):
                contents.append(pa.array([prompts[content[1:]]] * n, pa.string()))
            else:
                contents.append(texts[content].cast(pa.string()))
        k = len(turns)
        order = np.arange(n * k).reshape(k, n).T.ravel()  # row-major: the turns of row 0, then of row 1...
        roles = pa.array([role for role, _ in turns] * n, pa.string())
        content = pa.concat_arrays(contents).take(pa.array(order))
        list_type = schema.field(column).type
        values = pa.StructArray.from_arrays([roles, content], fields=list(list_type.value_type))
        built[column] = pa.ListArray.from_arrays(
            pa.array(np.arange(0, n * k + 1, k), pa.int32()), values, type=list_type
        )
    names = [batch.schema.names[0], *schema.names]
    return pa.RecordBatch.from_arrays(
        [built[c] if c in built else batch.column(c) for c in names], names=names
    )


ROW_GROUP_SIZE = 10_000


def write_configs(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    system_prompt: str = SYSTEM_PROMPT,
    improve_system_prompt: str = IMPROVE_SYSTEM_PROMPT,
) -> dict[str, Any]:
    """Write every config's splits (the `export_rows` step's views, read by `row_queries()`, chat turns
    built by `chat_rows` with the build's `system_prompt` / `improve_system_prompt`); returns the
    manifest's `configs` section. Raises ValueError on a split not in `SPLITS`."""
    steps.run(con, ROWS, {})
    queries = row_queries()
    prompts = {"system_prompt": system_prompt, "improve_system_prompt": improve_system_prompt}
    configs: dict[str, Any] = {}
    for config in CONFIG_NAMES:
        schema = arrow_schema(config)
        writers = {split: _SplitWriter(folder / data_file(config, split), schema) for split in SPLITS}
        try:
            for batch in con.sql(queries[config]).to_arrow_reader(ROW_GROUP_SIZE):
                for split, rows in _split_runs(chat_rows(config, batch, schema, prompts)):
                    if split not in writers:
                        raise ValueError(
                            f"{config}: row in unknown split {split!r} (expected one of {SPLITS})"
                        )
                    writers[split].add(rows)
        finally:
            for writer in writers.values():
                writer.close()
        splits: dict[str, Any] = {}
        empty: list[str] = []
        for split, writer in writers.items():
            if writer.rows:
                splits[split] = {
                    "path": data_files_pattern(config, split),
                    "num_rows": writer.rows,
                    "num_bytes": writer.nbytes,
                    "download_bytes": writer.path.stat().st_size,
                }
            else:
                empty.append(split)
        configs[config] = {"default": False, "splits": splits, "empty_splits": empty}
    configs[default_config(configs)]["default"] = True
    return configs


def _split_runs(batch: pa.RecordBatch) -> list[tuple[str, pa.RecordBatch]]:
    """The batch cut into runs of equal `_split` (its first column), that column removed."""
    splits = batch.column(0).to_pylist()
    rows = batch.drop_columns([batch.schema.names[0]])
    runs, start = [], 0
    for i in range(1, len(splits) + 1):
        if i == len(splits) or splits[i] != splits[start]:
            runs.append((splits[start], rows.slice(start, i - start)))
            start = i
    return runs


def default_config(configs: dict[str, Any]) -> str:
    """`effective_support` when it has rows, else the first config (in `CONFIG_NAMES` order) that has;
    ValueError when none has (a Hub dataset needs exactly one loadable default config)."""
    for name in (DEFAULT_CONFIG, *CONFIG_NAMES):
        if configs.get(name, {}).get("splits"):
            if name != DEFAULT_CONFIG:
                logger.warning(
                    "`%s` has no rows (no labeled comments): the default config is `%s`", DEFAULT_CONFIG, name
                )
            return name
    raise ValueError("no config has any rows: nothing to publish")


class _SplitWriter:
    """One split's parquet file, written in fixed-size row groups whatever batch sizes it is given
    (byte-identical output); created at the first row, so an empty split has no file. `rows` and
    `nbytes` (Arrow size) count what was written."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path, self.schema = path, schema
        self.rows = self.nbytes = 0
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        batch = pa.Table.from_batches([batch]).cast(self.schema).combine_chunks().to_batches()[0]
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        self.rows += batch.num_rows
        self.nbytes += batch.nbytes
        if self._pending_rows >= ROW_GROUP_SIZE:
            self._flush(final=False)

    def close(self) -> None:
        try:
            self._flush(final=True)
        finally:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    def _flush(self, final: bool) -> None:
        if not self._pending_rows:
            return
        # One contiguous chunk: the pages written do not depend on the engine's batch boundaries.
        table = pa.Table.from_batches(self._pending, schema=self.schema).combine_chunks()
        cut = self._pending_rows if final else (self._pending_rows // ROW_GROUP_SIZE) * ROW_GROUP_SIZE
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.path, self.schema, compression="zstd", write_statistics=True)
        for start in range(0, cut, ROW_GROUP_SIZE):
            self._writer.write_table(table.slice(start, min(ROW_GROUP_SIZE, cut - start)))
        rest = table.slice(cut)
        self._pending = rest.to_batches() if rest.num_rows else []
        self._pending_rows = rest.num_rows


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n", encoding="utf-8")
