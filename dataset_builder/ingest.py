"""Load every input file into two staging views (`raw_submissions`, `raw_comments`) in DuckDB.

DuckDB's JSON reader parses each newline-aligned chunk with every field read as text (types differ
between dump years), and `normalize` casts them once, in SQL. A chunk's rows are in line order, so a
malformed line is found by position and reported with its file and line number; the rest of the
chunk is kept. Normalized chunks go to uncompressed parquet files in the work directory, not to
memory: memory stays flat as inputs grow, and DuckDB scans them in parallel (inserting into DuckDB
tables measured ~4x slower than writing the files).

Selection (`--subreddits`, `--since`, `--until`) happens here too, before staging (`record_filter`):
with subreddits selected, each decompressed chunk goes through a byte pre-filter and only candidate
lines reach the JSON parser; parsed records then get the exact check, and only kept records are
staged. Per input file, `IngestReport.files` counts the lines read, pre-filtered out and parsed, and the
records rejected, excluded by the exact check and kept.

Texts are cleaned once, here (`clean_text`): HTML entities unescaped (Pushshift and API bodies are
HTML-escaped, `&amp;` `&gt;` `&lt;`), NUL and other control characters stripped, and a lone UTF-16
surrogate (half an emoji, which DuckDB refuses) kept as U+FFFD instead of losing the record.
"""

from __future__ import annotations

import dataclasses
import html
import io
import json
import logging
import os
import re
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from dataset_builder import normalize
from dataset_builder.record_filter import RecordFilter
from dataset_builder.sources import (
    FIELDS,
    REQUIRED_FIELDS,
    InputError,
    InputFile,
    Rejects,
    iter_ndjson_chunks,
    prefetch,
    read_api_json,
)

logger = logging.getLogger(__name__)

TEXT_FIELDS = ("title", "selftext", "body")
# RE2 (pyarrow) test for texts that need `clean_text`; most texts do not.
_NEEDS_CLEANING = (
    r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """What a reader saw: HTML entities unescaped twice (the dumps escape the markdown source once, and
    Reddit renders entities typed in it, such as `&#x200B;`), control characters other than tab and
    newlines removed, lone surrogates replaced by U+FFFD."""
    if "&" in text:
        text = html.unescape(html.unescape(text))
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))


def clean_texts(table: pa.Table) -> pa.Table:
    """`table` with `clean_text` applied to its text fields. Only the texts that need it (an HTML entity
    or a control character) go through Python; the others stay in Arrow."""
    for name in TEXT_FIELDS:
        if name not in table.column_names:
            continue
        column = table[name].combine_chunks()
        needs = pc.fill_null(pc.match_substring_regex(column, _NEEDS_CLEANING), False)
        if not pc.any(needs).as_py():
            continue
        cleaned = pa.array([clean_text(v) for v in column.filter(needs).to_pylist()], column.type)
        table = table.set_column(
            table.column_names.index(name), name, pc.replace_with_mask(column, needs, cleaned)
        )
    return table


@dataclass
class FileCounts:
    """What the reader did with one input file. NDJSON: `lines_read` = `lines_prefiltered_out` +
    `lines_parsed`; of the parsed lines, the non-blank ones are `records_parsed` = `records_rejected`
    (malformed, missing fields) + `records_excluded` (failed the exact subreddit/date check) +
    `records_kept` (staged). Reddit API JSON files have no lines (`lines_*` are None)."""

    file: str
    kind: str
    lines_read: int | None = 0
    lines_prefiltered_out: int | None = 0
    lines_parsed: int | None = 0
    records_parsed: int = 0
    records_rejected: int = 0
    records_excluded: int = 0
    records_kept: int = 0

    def finish(self) -> None:
        self.records_excluded = self.records_parsed - self.records_rejected - self.records_kept


@dataclass
class IngestReport:
    rows: dict[str, int] = field(default_factory=lambda: {"submissions": 0, "comments": 0})
    more_placeholders: int = 0
    rejects: Rejects = field(default_factory=Rejects)
    files: list[FileCounts] = field(default_factory=list)
    record_filter: RecordFilter = field(default_factory=RecordFilter)

    def reader_summary(self) -> dict[str, object]:
        """The manifest's `reader` section: the filter, per-file counts and their totals."""
        files = [dataclasses.asdict(f) for f in self.files]
        totals = (
            {key: sum(f[key] or 0 for f in files) for key in files[0] if key not in ("file", "kind")}
            if files
            else {}
        )
        return {"filter": self.record_filter.describe(), "files": files, "totals": totals}


class Staging:
    """Normalized chunks written as parquet files, exposed to DuckDB as `raw_<kind>` views. Only records
    that pass the filter's exact check are written."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, workdir: Path, record_filter: RecordFilter | None = None
    ) -> None:
        self.con = con
        self.dir = workdir / "staging"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.parts = {"submissions": 0, "comments": 0}
        self.filter = record_filter or RecordFilter()

    def add(self, kind: str, table: pa.Table, file_idx: int) -> int:
        """Stage the records of `table` (raw text columns and `_line`) that pass the exact check;
        returns how many were staged."""
        keep = self.filter.keep_mask(table)
        if keep is not None:
            table = table.filter(keep)
        if not table.num_rows:
            return 0
        query = normalize.select(kind, "_chunk", file_idx)
        if dates := self.filter.date_sql():
            query = f"SELECT * FROM ({query}) WHERE {dates}"
        self.con.register("_chunk", clean_texts(table))
        try:
            normalized = self.con.sql(query).to_arrow_table()
        finally:
            self.con.unregister("_chunk")
        if not normalized.num_rows:
            return 0
        pq.write_table(normalized, self.dir / f"{kind}-{self.parts[kind]:06d}.parquet", compression="none")
        self.parts[kind] += 1
        return normalized.num_rows

    def create_views(self) -> None:
        for kind, parts in self.parts.items():
            source = (
                f"read_parquet('{self.dir / kind}-*.parquet')"
                if parts
                else f"({normalize.empty_select(kind)} LIMIT 0)"
            )
            self.con.execute(f"CREATE OR REPLACE VIEW raw_{kind} AS SELECT * FROM {source}")


def ingest(
    con: duckdb.DuckDBPyConnection,
    files: list[InputFile],
    workdir: Path,
    record_filter: RecordFilter | None = None,
) -> IngestReport:
    """Stream every file into the staging views, keeping only the records `record_filter` selects
    (default: all); malformed records are counted, not fatal."""
    record_filter = record_filter or RecordFilter()
    staging = Staging(con, workdir, record_filter)
    report = IngestReport(record_filter=record_filter)
    quiet = bool(os.environ.get("CI")) or not logger.isEnabledFor(logging.INFO)
    for file_idx, source in enumerate(files):
        counts = FileCounts(source.path.name, source.kind)
        report.files.append(counts)
        rejected_before = report.rejects.count
        if source.format == "reddit-api-json":
            counts.lines_read = counts.lines_prefiltered_out = counts.lines_parsed = None
            _ingest_api_json(con, staging, source, file_idx, report, counts)
        else:
            _ingest_ndjson(con, staging, source, file_idx, report, counts, quiet)
        counts.records_rejected = report.rejects.count - rejected_before
        counts.finish()
        logger.info(
            "%s: %s lines read, %s pre-filtered out, %s parsed; %s records kept, %s excluded by the "
            "filter, %s rejected",
            source.path.name,
            *("-" if value is None else f"{value:,}" for value in (
                counts.lines_read, counts.lines_prefiltered_out, counts.lines_parsed,
                counts.records_kept, counts.records_excluded, counts.records_rejected,
            )),
        )  # fmt: skip
    staging.create_views()
    return report


def _ingest_ndjson(
    con: duckdb.DuckDBPyConnection,
    staging: Staging,
    source: InputFile,
    file_idx: int,
    report: IngestReport,
    counts: FileCounts,
    quiet: bool,
) -> None:
    """One NDJSON file, chunk by chunk: byte pre-filter (when subreddits are selected), parse, stage."""
    prefilter = staging.filter.has_prefilter
    size = source.path.stat().st_size
    chunks = prefetch(iter_ndjson_chunks(source))  # decompression in a second thread
    # closing() stops that thread at once when parsing or staging fails (not when the traceback goes)
    with (
        closing(chunks),
        tqdm(total=size, unit="B", unit_scale=True, desc=source.path.name, disable=quiet, leave=False) as bar,
    ):
        position = 0
        first_line = 1  # the file's line number of the chunk's first line
        for chunk, compressed_pos in chunks:
            if prefilter:
                offsets, candidates = staging.filter.prefilter(chunk)
                n_lines = len(offsets) - 1
                counts.lines_read += n_lines
                counts.lines_prefiltered_out += n_lines - len(candidates)
                if len(candidates):
                    counts.lines_parsed += len(candidates)
                    starts, ends = offsets[candidates].tolist(), offsets[candidates + 1].tolist()
                    with memoryview(chunk) as view:  # one copy of the candidate lines
                        lines = b"".join([view[s:e] for s, e in zip(starts, ends, strict=True)])
                    _insert_ndjson_chunk(
                        con, staging, source, file_idx, first_line, lines, report, counts,
                        line_numbers=first_line + candidates,
                    )  # fmt: skip
            else:
                n_lines = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
                counts.lines_read += n_lines
                counts.lines_parsed += n_lines
                _insert_ndjson_chunk(con, staging, source, file_idx, first_line, chunk, report, counts)
            first_line += n_lines
            bar.update(compressed_pos - position)
            position = compressed_pos
            bar.set_postfix(records=f"{sum(report.rows.values()):,}")


def _insert_ndjson_chunk(
    con: duckdb.DuckDBPyConnection,
    staging: Staging,
    source: InputFile,
    file_idx: int,
    first_line: int,
    chunk: bytes,
    report: IngestReport,
    counts: FileCounts,
    line_numbers: np.ndarray | None = None,
) -> None:
    """Parse a chunk of lines and stage its kept records. Line i of `chunk` (0-based) is line
    `first_line + i` of the file, or `line_numbers[i]` when given (the candidates of the pre-filter)."""
    kind = source.kind
    columns = {name: "VARCHAR" for name in FIELDS[kind]} | {"_meta": "JSON"}
    try:
        table = con.read_json(
            io.BytesIO(chunk), format="newline_delimited", columns=columns, ignore_errors=True
        ).to_arrow_table()
    except duckdb.Error as exc:  # e.g. invalid UTF-8 in a chunk: fall back to line-by-line parsing
        logger.debug(
            "chunk of %s at line %d needs line-by-line parsing: %s", source.path.name, first_line, exc
        )
        table = None
    positions = None  # index in chunk.split(b"\n") of each parsed row
    if table is None or _needs_line_map(chunk, table.num_rows):
        positions = [i for i, line in enumerate(chunk.split(b"\n")) if line.strip()]
        if table is None or len(positions) != table.num_rows:
            table = _parse_lines_python(chunk, kind)
    index = np.asarray(positions if positions is not None else range(table.num_rows), np.int64)
    numbers = line_numbers[index] if line_numbers is not None else first_line + index
    row_lines = pa.array(numbers, pa.int64())
    row_positions = pa.array(index, pa.int64())
    counts.records_parsed += table.num_rows
    valid = _valid_mask(table, kind)
    n_invalid = table.num_rows - pc.sum(valid).as_py() if table.num_rows else 0
    if n_invalid:
        recovered = _recover_or_reject(chunk, row_positions, row_lines, valid, source, report)
        if recovered.num_rows:
            kept = staging.add(kind, recovered, file_idx)
            report.rows[kind] += kept
            counts.records_kept += kept
        table = table.filter(valid)
        row_lines = row_lines.filter(valid)
    if not table.num_rows:
        return
    table = table.append_column("_line", row_lines)
    kept = staging.add(kind, table, file_idx)
    report.rows[kind] += kept
    counts.records_kept += kept


def _needs_line_map(chunk: bytes, num_rows: int) -> bool:
    """Rows map to lines one to one unless the chunk has blank lines or lacks a final newline."""
    return chunk.count(b"\n") != num_rows or not chunk.endswith(b"\n")


def _parse_lines_python(chunk: bytes, kind: str) -> pa.Table:
    """Slow path for chunks DuckDB cannot read: json.loads each non-blank line."""
    rows = []
    for line in chunk.split(b"\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line.decode("utf-8", errors="replace"))
        except ValueError:
            record = None
        rows.append(_text_fields(record, kind))
    schema = pa.schema([(name, pa.string()) for name in FIELDS[kind]] + [("_meta", pa.string())])
    return pa.Table.from_pylist(rows, schema=schema)


def _text_fields(record: object, kind: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {name: None for name in FIELDS[kind]}
    out["_meta"] = None
    if isinstance(record, dict):
        for name in FIELDS[kind]:
            value = record.get(name)
            text = value if value is None or isinstance(value, str) else json.dumps(value)
            out[name] = _SURROGATE.sub("\ufffd", text) if text else text
        if isinstance(record.get("_meta"), dict):
            out["_meta"] = json.dumps(record["_meta"])
    return out


def _valid_mask(table: pa.Table, kind: str) -> pa.ChunkedArray:
    mask = None
    for name in REQUIRED_FIELDS[kind]:
        present = pc.is_valid(table[name])
        mask = present if mask is None else pc.and_(mask, present)
    return mask


def _recover_or_reject(
    chunk: bytes,
    positions: pa.Array,
    line_numbers: pa.Array,
    valid: pa.ChunkedArray,
    source: InputFile,
    report: IngestReport,
) -> pa.Table:
    """Lines the fast reader could not use: parsed again with `json`, which accepts what DuckDB refuses
    (a lone surrogate such as half an emoji); records with every required field are returned (with a
    `_line` column), the rest rejected with their true reason."""
    lines = chunk.split(b"\n")
    bad = pc.invert(valid).to_pylist()
    recovered: list[dict[str, str | None]] = []
    for position, line_no, is_bad in zip(positions.to_pylist(), line_numbers.to_pylist(), bad, strict=True):
        if not is_bad:
            continue
        text = lines[position]
        try:
            record = json.loads(text.decode("utf-8", errors="replace"))
        except ValueError:
            reason = "malformed JSON"
        else:
            if not isinstance(record, dict):
                reason = "not a JSON object"
            else:
                missing = [n for n in REQUIRED_FIELDS[source.kind] if record.get(n) is None]
                if not missing:
                    recovered.append({**_text_fields(record, source.kind), "_line": line_no})
                    continue
                reason = f"missing field {', '.join(missing)} for {source.kind}"
        report.rejects.add(source.path.name, line_no, reason)
        logger.warning("%s:%d: rejected (%s)", source.path.name, line_no, reason)
    schema = pa.schema(
        [(name, pa.string()) for name in FIELDS[source.kind]]
        + [("_meta", pa.string()), ("_line", pa.int64())]
    )
    return pa.Table.from_pylist(recovered, schema=schema)


def _ingest_api_json(
    con: duckdb.DuckDBPyConnection,
    staging: Staging,
    source: InputFile,
    file_idx: int,
    report: IngestReport,
    counts: FileCounts,
) -> None:
    """A Reddit API thread or morechildren file: no byte pre-filter (the file is one JSON document), the
    exact check on every flattened record."""
    submissions, comments, n_more = read_api_json(source.path)
    report.more_placeholders += n_more
    counts.records_parsed = len(submissions) + len(comments)
    for kind, records in (("submissions", submissions), ("comments", comments)):
        if not records:
            continue
        schema = pa.schema([(name, pa.string()) for name in FIELDS[kind]] + [("_meta", pa.string())])
        table = pa.Table.from_pylist(records, schema=schema)
        valid = _valid_mask(table, kind)
        for position, ok in enumerate(valid.to_pylist()):
            if not ok:
                missing = [n for n in REQUIRED_FIELDS[kind] if records[position].get(n) is None]
                report.rejects.add(
                    source.path.name, 0, f"missing field {', '.join(missing)} in {kind[:-1]} thing"
                )
        table = table.filter(valid)
        # API things have no line; their position in the file orders duplicates.
        table = table.append_column("_line", pa.array(range(1, table.num_rows + 1), pa.int64()))
        kept = staging.add(kind, table, file_idx)
        report.rows[kind] += kept
        counts.records_kept += kept


def sha256_file(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


__all__ = ["FileCounts", "IngestReport", "InputError", "RecordFilter", "ingest", "sha256_file"]
