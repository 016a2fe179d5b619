"""Python passes over the build's text as batched functions over Arrow data, run by either engine.

Every Python pass the build makes over rows (scrubbing, the crisis screen, sentiment, the participant-name
rewrite, id hashes, pseudonyms) is a `BatchFn`: a pure function of one Arrow record batch that returns the
output batch and counts (replacements by rule, texts flagged, ...). `map_batches` applies it to the rows of
a query and creates a table from the results:

- the embedded engine (DuckDB) streams the query's rows in batches of `batch_rows` and writes the results
  through a second cursor every `flush_rows` rows, so memory outside the engine stays bounded whatever the
  input's size (a few batches, never a whole column);
- a distributed engine's connection (`dataset_builder.spark_engine.SparkConnection`, which has a
  `map_batches` method) runs the function on its executors (e.g. `DataFrame.mapInArrow`). The function is
  therefore picklable with cloudpickle: a module-level function or an instance of a module-level class,
  holding only what it closes over (a key, a list of names), never a connection.

`query` is DuckDB SQL in the portable subset (`dataset_builder/README.md`); the Spark connection transpiles
it. `table` may be a table `query` reads: it is replaced only after every batch has been written (DuckDB:
the rows go to a temporary table that is renamed at the end; Spark materializes the result first). When
`fn` raises, the error propagates and `table` is left as it was (no partial table is created). Row order of
`table` is not defined.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa

BatchFn = Callable[[pa.RecordBatch], tuple[pa.RecordBatch, Mapping[str, int]]]

BATCH_ROWS = 10_000
# Rows the embedded engine collects before one INSERT (fewer, larger statements; bounded memory).
FLUSH_ROWS = 50_000


def map_batches(
    con: Any,
    query: str,
    fn: BatchFn,
    schema: pa.Schema,
    table: str,
    batch_rows: int = BATCH_ROWS,
    *,
    flush_rows: int = FLUSH_ROWS,
) -> Counter[str]:
    """CREATE (or replace) `table` with columns `schema` from `fn` applied to each Arrow batch of `query`'s
    rows; returns the per-batch counts summed (a key counted as 0 by every batch is kept, with 0).

    `fn(batch) -> (out_batch, counts)`: `out_batch` has `schema`'s column names in order (types are cast
    to `schema`'s, ValueError naming `table` when they cannot be); it may have any number of rows.
    `flush_rows` applies to the embedded engine only. See the module docstring for the contract (purity,
    pickling, replacing a table the query reads, failures)."""
    distributed = getattr(con, "map_batches", None)
    if distributed is not None:  # the Spark engine's connection
        return distributed(query, fn, schema, table, batch_rows)
    return _map_batches_duckdb(con, query, fn, schema, table, batch_rows, flush_rows)


def schema_of(con: Any, query: str) -> pa.Schema:
    """The Arrow schema of `query`'s rows (the query run with no rows)."""
    return con.sql(f"SELECT * FROM ({query}) AS q LIMIT 0").to_arrow_table().schema


def conform(batch: pa.RecordBatch, schema: pa.Schema, table: str) -> pa.RecordBatch:
    """`batch` with `schema`'s types (cast when they differ); ValueError naming `table` when its columns
    are not `schema`'s or a value does not fit."""
    if batch.schema.equals(schema):
        return batch
    if batch.schema.names != schema.names:
        raise ValueError(
            f"map_batches into {table}: the batch function returned columns {batch.schema.names}, "
            f"expected {schema.names}"
        )
    try:
        return pa.RecordBatch.from_arrays(
            [column.cast(field.type) for column, field in zip(batch.columns, schema, strict=True)],
            schema=schema,
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"map_batches into {table}: cannot cast the batch to {schema}: {exc}") from exc


def _map_batches_duckdb(
    con: Any,
    query: str,
    fn: BatchFn,
    schema: pa.Schema,
    table: str,
    batch_rows: int,
    flush_rows: int,
) -> Counter[str]:
    counts: Counter[str] = Counter()
    staging = f"_map_{table}_{uuid.uuid4().hex[:8]}"
    view = f"{staging}_batch"
    reader = con.sql(query).to_arrow_reader(batch_rows)
    writer = con.cursor()  # writes while `reader` streams on `con`
    pending: list[pa.RecordBatch] = []
    pending_rows = 0

    def write(batches: list[pa.RecordBatch], create: bool = False) -> None:
        writer.register(view, pa.Table.from_batches(batches, schema=schema))
        try:
            verb = f"CREATE TABLE {staging} AS" if create else f"INSERT INTO {staging}"
            writer.execute(f"{verb} SELECT * FROM {view}")
        finally:
            writer.unregister(view)

    try:
        write([], create=True)  # the table exists with `schema` even when no row comes
        for batch in reader:
            out, batch_counts = fn(batch)
            counts.update(batch_counts)
            if out.num_rows:
                pending.append(conform(out, schema, table))
                pending_rows += out.num_rows
            if pending_rows >= flush_rows:
                write(pending)
                pending, pending_rows = [], 0
        if pending:
            write(pending)
        reader.close()
        writer.execute(f"DROP TABLE IF EXISTS {table}")
        writer.execute(f"ALTER TABLE {staging} RENAME TO {table}")
    except BaseException:
        reader.close()
        writer.execute(f"DROP TABLE IF EXISTS {staging}")
        raise
    finally:
        writer.close()
    return counts
