"""The Spark engine (`build --engine spark`): a connection that stands in for the builder's DuckDB one.

`SparkConnection` is duck-typed to the part of DuckDB's connection the builder uses (`execute`, `sql`,
`register`, `unregister`, `cursor`, `close`, results with `fetchall` / `fetchone` / `to_arrow_table` /
`to_arrow_reader` / `description`), plus three distributed operations:

- `run_step(step, params)`: a relational step's `.sql` file rendered as Spark SQL (`Step.render(...,
  dialect="spark")`), each output created in order;
- `map_batches(query, fn, schema, table, batch_rows)`: a Python pass over Arrow batches on the executors
  (`DataFrame.mapInArrow`), its per-batch counts summed exactly (see `map_batches`);
- `ingest(files, workdir, record_filter)`: one Spark task per input file running the kit's reader
  (`dataset_builder.ingest.ingest`) on a task-local DuckDB connection, writing parquet shards.

Inline SQL in the builder is DuckDB SQL; it is transpiled here with sqlglot (read "duckdb", write "spark",
unsupported constructs raise). Every table a statement creates is materialized as parquet under the
build's private work folder, at a fresh path per write, and registered as a temporary view over those files:
so `CREATE OR REPLACE TABLE t AS SELECT ... FROM t` reads the old files while writing the new ones. Views
stay views (Spark SQL temporary views keep their text and bind late, as DuckDB's do).

On a cluster the work folder must be on storage every executor and the driver see (a shared file
system): ingest tasks write their shards there and the driver reads them.
"""

from __future__ import annotations

import collections
import copy
import itertools
import json
import logging
import pickle
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from dataset_builder import spark_session, steps

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from dataset_builder.ingest import IngestReport
    from dataset_builder.record_filter import RecordFilter
    from dataset_builder.sources import InputFile

logger = logging.getLogger(__name__)

READ = steps.SOURCE_DIALECT
WRITE = "spark"
# Shuffle partitions per core when the session has Spark's default (200, sized for clusters): AQE
# coalesces small ones but not below this; set spark.sql.shuffle.partitions to choose another number.
SHUFFLE_PARTITIONS_PER_CORE = 2
# Rows an ingest task moves from its reader's views to its shard at a time.
SHARD_BATCH_ROWS = 50_000
# A column map_batches adds to carry each task's counts next to its rows (see `map_batches`).
_COUNTS_COLUMN = "__redditess_batch_counts"


def to_spark_sql(node: exp.Expression) -> str:
    """One parsed DuckDB statement or query as Spark SQL, with what the JVM reads differently (regex
    literals, `lower`, `trim`) rewritten as the steps' SQL is (`steps.for_java`); raises sqlglot's
    UnsupportedError when a construct has no Spark equivalent."""
    return steps.for_java(node, "inline SQL").sql(dialect=WRITE, unsupported_level=ErrorLevel.RAISE)


class SparkResult:
    """The result of a query (a DataFrame, run when its rows are asked for) or of a statement (no rows)."""

    def __init__(self, df: DataFrame | None = None):
        self._df = df
        self._rows: list[tuple] | None = None

    @property
    def columns(self) -> list[str]:
        return list(self._df.columns) if self._df is not None else []

    @property
    def description(self) -> list[tuple]:
        """DB-API style: (name, None, ...) per column."""
        return [(name, None, None, None, None, None, None) for name in self.columns]

    def fetchall(self) -> list[tuple]:
        if self._rows is None:
            self._rows = [tuple(row) for row in self._df.collect()] if self._df is not None else []
        return self._rows

    def fetchone(self) -> tuple | None:
        rows = self.fetchall()
        return rows[0] if rows else None

    def to_arrow_table(self) -> pa.Table:
        """The rows collected on the driver as one Arrow table."""
        return self._df.toArrow() if self._df is not None else pa.table({})

    arrow = to_arrow_table

    def to_arrow_reader(self, batch_rows: int = 10_000) -> pa.RecordBatchReader:
        """The rows collected on the driver, in batches of `batch_rows` with the embedded engine's Arrow
        layout: passed through an in-memory DuckDB, which cuts batches and lays out buffers (a validity
        bitmap on every column) as the embedded engine does, so the Arrow sizes the export records
        (`num_bytes`) match too."""
        import duckdb

        con = duckdb.connect()
        reader = con.from_arrow(self.to_arrow_table()).to_arrow_reader(batch_rows)

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                yield from reader
            finally:
                con.close()

        return pa.RecordBatchReader.from_batches(reader.schema, batches())


class SparkConnection:
    """The builder's connection on the Spark engine (see the module docstring). `workdir` is the build's
    private work folder; tables are written under `workdir/spark-tables`."""

    def __init__(
        self, spark: SparkSession, workdir: Path, owns_session: bool = False, memory_limit: str = "1GB"
    ):
        self.spark = spark
        self.workdir = Path(workdir)
        self.tables_dir = self.workdir / "spark-tables"
        self.tables_dir.mkdir(parents=True, exist_ok=True)
        self.owns_session = owns_session
        self.memory_limit = memory_limit
        self._writes = itertools.count()
        self._views: set[str] = set()
        self._is_cursor = False
        if spark.conf.get("spark.sql.shuffle.partitions") == "200":  # Spark's default, for large clusters
            spark.conf.set(
                "spark.sql.shuffle.partitions",
                str(SHUFFLE_PARTITIONS_PER_CORE * spark.sparkContext.defaultParallelism),
            )

    # --- the DuckDB connection subset -------------------------------------------------------------

    def execute(self, query: str, params: Sequence[Any] | None = None) -> SparkResult:
        """Run DuckDB SQL (one or more statements); returns the last statement's result."""
        result = SparkResult()
        for node in sqlglot.parse(query, read=READ):
            if node is None:
                continue
            if params:
                node = _bind_positional(node, list(params))
            result = self._run(node)
        return result

    def sql(self, query: str) -> SparkResult:
        return self.execute(query)

    def register(self, name: str, table: pa.Table) -> SparkConnection:
        """A temporary view `name` over `table`, written as parquet from the driver (types kept)."""
        if isinstance(table, pa.RecordBatchReader):
            table = table.read_all()
        table = table.cast(pa.schema([_spark_field(f) for f in table.schema]))
        path = self._fresh_path(name)
        path.mkdir(parents=True)
        pq.write_table(table, path / "part-0.parquet")
        self._view_over(name, self.spark.read.parquet(str(path)))
        return self

    def unregister(self, name: str) -> SparkConnection:
        self.spark.catalog.dropTempView(name)
        self._views.discard(name)
        return self

    def cursor(self) -> SparkConnection:
        """A second handle on the same session, views and work folder (Spark runs every statement from the
        one driver); closing it closes nothing."""
        handle = copy.copy(self)
        handle._is_cursor = True
        return handle

    def close(self) -> None:
        """Drop this build's views and cached data; stop the session only when this connection started it
        (a session shared with the caller, e.g. tests, stays up). Closing a `cursor()` does nothing."""
        if self._is_cursor:
            return
        for name in list(self._views):
            self.spark.catalog.dropTempView(name)
        self._views.clear()
        self.spark.catalog.clearCache()
        if self.owns_session:
            self.spark.stop()

    # --- distributed operations ---------------------------------------------------------------------

    def run_step(self, step: steps.Step, params: Mapping[str, steps.Param]) -> None:
        """Create each output of `step` from its Spark SQL rendering, in the file's order."""
        for output, kind, query in step.render(params, dialect=WRITE):
            if kind == "VIEW":
                self._create_view(output, query)
            else:
                self._materialize(output, self.spark.sql(query))

    def map_batches(
        self,
        query: str,
        fn: Callable[[pa.RecordBatch], tuple[pa.RecordBatch, Mapping[str, int]]],
        schema: pa.Schema,
        table: str,
        batch_rows: int = 10_000,
    ) -> collections.Counter[str]:
        """CREATE `table` (columns `schema`) from `fn` over Arrow batches of `query`'s rows, on the
        executors (`mapInArrow`); returns the per-batch counts summed.

        Counts are exact: each task emits its summed counts as one extra row (a JSON text in a column
        of its own, the data columns null) with its output rows, and the driver reads them back from the
        materialized files. Only the files of committed task attempts are kept, so a retried or
        speculative task is counted once (an accumulator would count retries twice)."""
        from pyspark.sql.pandas.types import from_arrow_schema

        from dataset_builder.batches import conform

        df = self._dataframe(query)
        out_schema = schema.append(pa.field(_COUNTS_COLUMN, pa.string()))
        empty_counts_row = {name: pa.nulls(1, f.type) for name, f in zip(schema.names, schema, strict=True)}

        def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            counts: collections.Counter[str] = collections.Counter()
            for batch in batches:
                for start in range(0, batch.num_rows, batch_rows):
                    out, batch_counts = fn(batch.slice(start, batch_rows))
                    counts.update(batch_counts)
                    if out.num_rows:
                        out = conform(out, schema, table)
                        yield pa.RecordBatch.from_arrays(
                            [*out.columns, pa.nulls(out.num_rows, pa.string())],
                            schema=out_schema,
                        )
            yield pa.RecordBatch.from_arrays(
                [*empty_counts_row.values(), pa.array([json.dumps(dict(counts))], pa.string())],
                schema=out_schema,
            )

        mapped = df.mapInArrow(run, from_arrow_schema(out_schema))
        path = self._write(table, mapped)
        stored = self.spark.read.parquet(str(path))
        totals: collections.Counter[str] = collections.Counter()
        for (text,) in stored.where(f"{_COUNTS_COLUMN} IS NOT NULL").select(_COUNTS_COLUMN).collect():
            totals.update(json.loads(text))
        self._view_over(table, stored.where(f"{_COUNTS_COLUMN} IS NULL").drop(_COUNTS_COLUMN))
        return totals

    def ingest(
        self, files: list[InputFile], workdir: Path, record_filter: RecordFilter | None = None
    ) -> IngestReport:
        """One Spark task per input file, each running `dataset_builder.ingest.ingest` on a task-local
        DuckDB connection and work folder and writing its parquet shards under `workdir/shards`; the
        per-file reports merged into one `IngestReport` in file order; views `raw_submissions` and
        `raw_comments` over the shards.

        A file's index (`file_idx`, which orders duplicates) is its position in `files`, as in the
        embedded engine. A task's failure is raised here as the reader raised it (same type and message,
        e.g. InputError naming a truncated file), the first failing file's first."""
        from dataset_builder import normalize
        from dataset_builder.ingest import IngestReport
        from dataset_builder.record_filter import RecordFilter

        record_filter = record_filter or RecordFilter()
        shards = Path(workdir) / "shards"
        for kind in ("submissions", "comments"):
            (shards / kind).mkdir(parents=True, exist_ok=True)
        task = _ingest_task(shards, record_filter, self.memory_limit)
        items = list(enumerate(files))
        results = (
            self.spark.sparkContext.parallelize(items, max(1, len(items))).map(task).collect()
            if items
            else []
        )
        report = IngestReport(record_filter=record_filter)
        for _, payload in sorted(results, key=lambda r: r[0]):
            outcome = pickle.loads(payload)
            if isinstance(outcome, BaseException):
                raise outcome
            report.rows = {k: report.rows[k] + outcome.rows[k] for k in report.rows}
            report.more_placeholders += outcome.more_placeholders
            report.files += outcome.files
            rejects = report.rejects
            rejects.count += outcome.rejects.count
            for reason, n in outcome.rejects.by_reason.items():
                rejects.by_reason[reason] = rejects.by_reason.get(reason, 0) + n
            room = rejects.max_examples - len(rejects.examples)
            rejects.examples += outcome.rejects.examples[: max(0, room)]
        for kind in ("submissions", "comments"):
            if any((shards / kind).glob("*.parquet")):
                self._view_over(f"raw_{kind}", self.spark.read.parquet(str(shards / kind)))
            else:
                import duckdb

                with duckdb.connect() as con:
                    empty = con.sql(
                        f"SELECT * FROM ({normalize.empty_select(kind)}) LIMIT 0"
                    ).to_arrow_table()
                self.register(f"raw_{kind}", empty)
        return report

    # --- internals ------------------------------------------------------------------------------

    def _run(self, node: exp.Expression) -> SparkResult:
        if isinstance(node, exp.Create) and str(node.args.get("kind", "")).upper() in ("TABLE", "VIEW"):
            name = node.this.name
            if str(node.args["kind"]).upper() == "VIEW":
                self._create_view(name, to_spark_sql(node.expression))
            else:
                self._materialize(name, self._dataframe(node.expression))
            return SparkResult()
        if isinstance(node, exp.Drop):
            for table in node.args.get("tables") or [node.this]:
                self.unregister(table.name)
            return SparkResult()
        if not isinstance(node, exp.Query):
            raise sqlglot.errors.UnsupportedError(
                f"the Spark engine runs CREATE TABLE|VIEW ... AS <query>, DROP and queries, not: "
                f"{node.sql(READ)[:80]}"
            )
        return SparkResult(self._dataframe(node))

    def _dataframe(self, query: str | exp.Expression) -> DataFrame:
        node = sqlglot.parse_one(query, read=READ) if isinstance(query, str) else query
        return self.spark.sql(to_spark_sql(node))

    def _create_view(self, name: str, query: str) -> None:
        self.spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {query}")
        self._views.add(name)

    def _view_over(self, name: str, df: DataFrame) -> None:
        df.createOrReplaceTempView(name)
        self._views.add(name)

    def _fresh_path(self, name: str) -> Path:
        return self.tables_dir / f"{name}-{next(self._writes):05d}"

    def _write(self, name: str, df: DataFrame) -> Path:
        path = self._fresh_path(name)
        df.write.parquet(str(path))
        return path

    def _materialize(self, name: str, df: DataFrame) -> None:
        """Write `df` as parquet at a fresh path; `name` becomes a view over those files (read with the
        schema known, so no job reads the footers back)."""
        started = time.perf_counter()
        path = self._write(name, df)
        self._view_over(name, self.spark.read.schema(df.schema).parquet(str(path)))
        logger.debug("table %s written in %.2fs", name, time.perf_counter() - started)


def _spark_field(field: pa.Field) -> pa.Field:
    """Arrow types Spark's parquet reader takes: no null-typed or large/view variants, no unsigned ints."""
    t = field.type
    if pa.types.is_null(t):
        return field.with_type(pa.string())
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return field.with_type(pa.string())
    if pa.types.is_unsigned_integer(t):
        return field.with_type(pa.int64())
    return field


def _bind_positional(node: exp.Expression, params: list[Any]) -> exp.Expression:
    """DuckDB's `?` parameters bound, in order, as literals."""
    values = iter(params)

    def replace(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Placeholder) and not n.name:
            return steps.literal(next(values), "inline SQL", "?")
        return n

    return node.transform(replace)


def _ingest_task(shards: Path, record_filter: RecordFilter, memory_limit: str) -> Callable[[tuple], tuple]:
    """The function one ingest task runs on (file_idx, InputFile): returns (file_idx, pickled
    IngestReport or the exception raised)."""

    def task(item: tuple[int, InputFile]) -> tuple[int, bytes]:
        import duckdb

        from dataset_builder.ingest import ingest

        file_idx, source = item
        try:
            local = Path(tempfile.mkdtemp(prefix=f"ingest-{file_idx:06d}-", dir=shards))
            try:
                con = duckdb.connect(":memory:", config={"threads": 1, "memory_limit": memory_limit})
                try:
                    report = ingest(con, [source], local, record_filter)
                    for kind in ("submissions", "comments"):
                        _write_shard(con, kind, file_idx, shards / kind / f"{file_idx:06d}.parquet")
                finally:
                    con.close()
            finally:
                shutil.rmtree(local, ignore_errors=True)
            return file_idx, pickle.dumps(report)
        except Exception as exc:  # noqa: BLE001  (raised again on the driver, as the reader raised it)
            try:
                return file_idx, pickle.dumps(exc)
            except Exception:  # noqa: BLE001  (an exception that does not pickle: its type and message)
                return file_idx, pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))

    return task


def _write_shard(con: Any, kind: str, file_idx: int, target: Path) -> None:
    """The rows of the reader's view `raw_<kind>` as one parquet shard at `target` (none when there are
    no rows), with `file_idx` set to the file's position in the build's input list (the task's reader saw
    one file, index 0). Written under a temporary name and renamed, so a shard is complete or absent."""
    writer = None
    partial = target.with_name(f".{target.name}.partial")
    try:
        for batch in con.sql(f"SELECT * FROM raw_{kind}").to_arrow_reader(SHARD_BATCH_ROWS):
            if not batch.num_rows:
                continue
            at = batch.schema.get_field_index("file_idx")
            column = pa.array([file_idx] * batch.num_rows, batch.schema.field(at).type)
            batch = pa.RecordBatch.from_arrays(
                [column if i == at else c for i, c in enumerate(batch.columns)], schema=batch.schema
            )
            writer = writer or pq.ParquetWriter(partial, batch.schema, compression="none")
            writer.write_batch(batch)
    finally:
        if writer is not None:
            writer.close()
    if writer is not None:
        partial.rename(target)


def connect(workdir: Path, master: str, memory_limit: str = "1GB") -> SparkConnection:
    """A SparkConnection for one build: the running session when there is one (it is left running),
    else a new session on `master` (stopped by `close`). Raises SparkUnavailable when pyspark or Java is
    missing."""
    spark_session.check_available()
    from pyspark.sql import SparkSession

    # pyspark 4.3 warns that pandas >= 3 is not fully supported: this engine moves data as Arrow only
    # (mapInArrow, toArrow), and its rows are the embedded engine's with pandas 3 (tests/builder/test_builder_spark.py).
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )

    active = SparkSession.getActiveSession()
    spark = active or spark_session.start(master, local_dir=Path(workdir) / "spark-local")
    return SparkConnection(spark, workdir, owns_session=active is None, memory_limit=memory_limit)


__all__ = ["SparkConnection", "SparkResult", "connect", "to_spark_sql"]
