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
    SELECT e.post_id, e.comment_id, e.subreddit, p.post_title, p.post_text, c.comment_text, e.comment_score,
           e.post_score, e.post_created_utc, e.comment_created_utc, e.op_replied, c.op_reply_text, e.reception,
           e.op_signal, e.op_evidence, e.post_feedback, e.label, e.label_confidence, e.label_source,
           e.seeks_support, e.author, e.is_sensitive
    FROM ess e JOIN clean_comments c ON c.comment_id = e.comment_id JOIN clean_posts p ON p.post_id = e.post_id
    WHERE e.split = '{split}' AND {where} ORDER BY e.post_id, e.comment_id"""


def row_queries(
    system_prompt: str = SYSTEM_PROMPT, improve_system_prompt: str = IMPROVE_SYSTEM_PROMPT
) -> dict[str, str]:
    """The rows of each config, texts joined in from the scrubbed tables as they are written; the system
    turns are the build's `system_prompt` / `improve_system_prompt`. A `self_edit` improvement pair's draft
    is the earlier retrieval of the revised comment (`clean_earlier_versions`)."""
    post_prompt = messages_sql(system_prompt, POST_TURN, title="p.post_title", body="p.post_text")
    draft_text = "CASE WHEN x.pair_source = 'self_edit' THEN ev.comment_text ELSE d.comment_text END"
    improve_prompt = messages_sql(
        improve_system_prompt, IMPROVE_TURN, title="p.post_title", body="p.post_text", draft=draft_text
    )
    return {
        "effective_support": _COMMENT_ROWS.replace("{where}", "e.label IS NOT NULL"),
        "comments": _COMMENT_ROWS.replace("{where}", "true"),
        "preference": f"""
            SELECT {post_prompt} AS prompt, {assistant_sql("c.comment_text")} AS chosen,
                   {assistant_sql("r.comment_text")} AS rejected, x.post_id, x.chosen_id, x.rejected_id,
                   x.chosen_score, x.rejected_score, x.score_ratio, x.seconds_difference, x.pair_source,
                   x.is_sensitive
            FROM preference x JOIN clean_posts p ON p.post_id = x.post_id
            JOIN clean_comments c ON c.comment_id = x.chosen_id JOIN clean_comments r ON r.comment_id = x.rejected_id
            WHERE x.split = '{{split}}' ORDER BY x.post_id, x.chosen_id, x.rejected_id""",
        "sft": f"""
            SELECT list_concat({post_prompt}, {assistant_sql("c.comment_text")}) AS messages, x.post_id,
                   x.comment_id, x.label_confidence, x.is_sensitive
            FROM sft x JOIN clean_posts p ON p.post_id = x.post_id
            JOIN clean_comments c ON c.comment_id = x.comment_id
            WHERE x.split = '{{split}}' ORDER BY x.post_id, x.comment_id""",
        "improvement": f"""
            SELECT {improve_prompt} AS prompt, {assistant_sql("r.comment_text")} AS chosen,
                   {assistant_sql(draft_text)} AS rejected, x.similarity, x.post_id, x.draft_id,
                   x.revision_id, x.draft_score, x.revision_score, x.pair_source, x.is_sensitive
            FROM improvement x JOIN clean_posts p ON p.post_id = x.post_id
            JOIN clean_comments d ON d.comment_id = x.draft_id JOIN clean_comments r ON r.comment_id = x.revision_id
            LEFT JOIN clean_earlier_versions ev ON ev.comment_id = x.draft_id AND x.pair_source = 'self_edit'
            WHERE x.split = '{{split}}' ORDER BY x.post_id, x.draft_id, x.revision_id, x.pair_source""",
    }


ROW_GROUP_SIZE = 10_000


def write_configs(
    con: duckdb.DuckDBPyConnection, folder: Path, queries: dict[str, str] | None = None
) -> dict[str, Any]:
    """Write every config's splits (rows of `queries`, default `row_queries()`); returns the manifest's
    `configs` section."""
    queries = queries or row_queries()
    configs: dict[str, Any] = {}
    for config in CONFIG_NAMES:
        schema = arrow_schema(config)
        splits: dict[str, Any] = {}
        empty: list[str] = []
        for split in SPLITS:
            reader = con.sql(queries[config].replace("{split}", split)).to_arrow_reader(ROW_GROUP_SIZE)
            path = folder / data_file(config, split)
            rows, nbytes = _write_parquet(reader, schema, path)
            if rows:
                splits[split] = {
                    "path": data_files_pattern(config, split),
                    "num_rows": rows,
                    "num_bytes": nbytes,
                    "download_bytes": path.stat().st_size,
                }
            else:
                empty.append(split)
        configs[config] = {"default": False, "splits": splits, "empty_splits": empty}
    configs[default_config(configs)]["default"] = True
    return configs


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


def _write_parquet(reader: pa.RecordBatchReader, schema: pa.Schema, path: Path) -> tuple[int, int]:
    """Write fixed-size row groups whatever batch sizes the engine returns (byte-identical output);
    returns the rows and their Arrow size in bytes."""
    rows = 0
    nbytes = 0
    writer = None
    pending: list[pa.RecordBatch] = []
    pending_rows = 0

    def flush(final: bool) -> None:
        nonlocal writer, pending, pending_rows
        if not pending_rows:
            return
        table = pa.Table.from_batches(pending, schema=schema)
        cut = pending_rows if final else (pending_rows // ROW_GROUP_SIZE) * ROW_GROUP_SIZE
        if writer is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(path, schema, compression="zstd", write_statistics=True)
        for start in range(0, cut, ROW_GROUP_SIZE):
            writer.write_table(table.slice(start, min(ROW_GROUP_SIZE, cut - start)))
        rest = table.slice(cut)
        pending = rest.to_batches() if rest.num_rows else []
        pending_rows = rest.num_rows

    try:
        for batch in reader:
            pending.append(
                pa.Table.from_batches([batch]).cast(schema).combine_chunks().to_batches()[0]
                if batch.num_rows
                else batch
            )
            pending_rows += batch.num_rows
            rows += batch.num_rows
            nbytes += pending[-1].nbytes
            if pending_rows >= ROW_GROUP_SIZE:
                flush(final=False)
        flush(final=True)
    finally:
        if writer is not None:
            writer.close()
    return rows, nbytes


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n", encoding="utf-8")
