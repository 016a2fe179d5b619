"""Write the folder: data/<config>/<split>-*.parquet with `datasets` features in the schema metadata,
manifest.json and README.md (the card). Rows are ordered by stable keys and written by pyarrow with
fixed settings, so the same inputs, parameters and key give byte-identical parquet files.

`datasets` 5.2 fails on an empty parquet split, so an empty split gets no file and no `configs:` entry.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from dataset_builder.prompts import assistant_sql, messages_sql
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

_COMMENT_ROWS = """
    SELECT e.split AS _split, e.post_id, e.comment_id, e.subreddit, p.post_title, p.post_text, c.comment_text, e.comment_score,
           e.post_score, e.post_created_utc, e.comment_created_utc, e.op_replied, c.op_reply_text, e.reception,
           e.op_signal, e.op_evidence, e.post_feedback, e.label, e.label_confidence, e.label_source,
           e.seeks_support, e.author, e.is_sensitive
    FROM ess e JOIN clean_comments c ON c.comment_id = e.comment_id JOIN clean_posts p ON p.post_id = e.post_id
    WHERE {where} ORDER BY e.split, e.post_id, e.comment_id"""


def row_queries(
    system_prompt: str = SYSTEM_PROMPT, improve_system_prompt: str = IMPROVE_SYSTEM_PROMPT
) -> dict[str, str]:
    """The rows of each config, texts joined in from the scrubbed tables as they are written; the system
    turns are the build's `system_prompt` / `improve_system_prompt`. A `self_edit` improvement pair's draft
    is the earlier retrieval of the revised comment (`clean_earlier_versions`).

    One query per config for all its splits (one join and one sort instead of one per split): the first
    column, `_split`, is the split, and rows come ordered by split, then by the config's stable keys."""
    post_prompt = messages_sql(system_prompt, POST_TURN, title="p.post_title", body="p.post_text")
    draft_text = "CASE WHEN x.pair_source = 'self_edit' THEN ev.comment_text ELSE d.comment_text END"
    improve_prompt = messages_sql(
        improve_system_prompt, IMPROVE_TURN, title="p.post_title", body="p.post_text", draft=draft_text
    )
    return {
        "effective_support": _COMMENT_ROWS.replace("{where}", "e.label IS NOT NULL"),
        "comments": _COMMENT_ROWS.replace("{where}", "true"),
        "preference": f"""
            SELECT x.split AS _split, {post_prompt} AS prompt, {assistant_sql("c.comment_text")} AS chosen,
                   {assistant_sql("r.comment_text")} AS rejected, x.post_id, x.chosen_id, x.rejected_id,
                   x.chosen_score, x.rejected_score, x.score_ratio, x.seconds_difference, x.pair_source,
                   x.is_sensitive
            FROM preference x JOIN clean_posts p ON p.post_id = x.post_id
            JOIN clean_comments c ON c.comment_id = x.chosen_id JOIN clean_comments r ON r.comment_id = x.rejected_id
            ORDER BY x.split, x.post_id, x.chosen_id, x.rejected_id""",
        "sft": f"""
            SELECT x.split AS _split, list_concat({post_prompt}, {assistant_sql("c.comment_text")}) AS messages,
                   x.post_id,
                   x.comment_id, x.label_confidence, x.is_sensitive
            FROM sft x JOIN clean_posts p ON p.post_id = x.post_id
            JOIN clean_comments c ON c.comment_id = x.comment_id
            ORDER BY x.split, x.post_id, x.comment_id""",
        "improvement": f"""
            SELECT x.split AS _split, {improve_prompt} AS prompt, {assistant_sql("r.comment_text")} AS chosen,
                   {assistant_sql(draft_text)} AS rejected, x.similarity, x.post_id, x.draft_id,
                   x.revision_id, x.draft_score, x.revision_score, x.pair_source, x.is_sensitive
            FROM improvement x JOIN clean_posts p ON p.post_id = x.post_id
            JOIN clean_comments d ON d.comment_id = x.draft_id JOIN clean_comments r ON r.comment_id = x.revision_id
            LEFT JOIN clean_earlier_versions ev ON ev.comment_id = x.draft_id AND x.pair_source = 'self_edit'
            ORDER BY x.split, x.post_id, x.draft_id, x.revision_id, x.pair_source""",
    }


ROW_GROUP_SIZE = 10_000


def write_configs(
    con: duckdb.DuckDBPyConnection, folder: Path, queries: dict[str, str] | None = None
) -> dict[str, Any]:
    """Write every config's splits (rows of `queries`, default `row_queries()`: `_split` first, ordered by
    it); returns the manifest's `configs` section. Raises ValueError on a split not in `SPLITS`."""
    queries = queries or row_queries()
    configs: dict[str, Any] = {}
    for config in CONFIG_NAMES:
        schema = arrow_schema(config)
        writers = {split: _SplitWriter(folder / data_file(config, split), schema) for split in SPLITS}
        try:
            for batch in con.sql(queries[config]).to_arrow_reader(ROW_GROUP_SIZE):
                for split, rows in _split_runs(batch):
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
