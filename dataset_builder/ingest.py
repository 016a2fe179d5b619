"""Load every input file into two staging views (`raw_submissions`, `raw_comments`) in DuckDB.

DuckDB's JSON reader parses each newline-aligned chunk with every field read as text (types differ
between dump years), and `normalize` casts them once, in SQL. A chunk's rows are in line order, so a
malformed line is found by position and reported with its file and line number; the rest of the
chunk is kept. Normalized chunks go to uncompressed parquet files in the work directory, not to
memory: memory stays flat as inputs grow, and DuckDB scans them in parallel (inserting into DuckDB
tables measured ~4x slower than writing the files).

Texts are cleaned once, here (`clean_text`): HTML entities unescaped (Pushshift and API bodies are
HTML-escaped, `&amp;` `&gt;` `&lt;`), NUL and other control characters stripped, and a lone UTF-16
surrogate (half an emoji, which DuckDB refuses) kept as U+FFFD instead of losing the record.
"""

from __future__ import annotations

import html
import io
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from dataset_builder import normalize
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
    """`table` with `clean_text` applied to its text fields (only rows that need it are converted)."""
    for name in TEXT_FIELDS:
        if name not in table.column_names:
            continue
        column = table[name]
        needs = pc.match_substring_regex(column, _NEEDS_CLEANING)
        if not pc.any(needs).as_py():
            continue
        values = [
            clean_text(v) if flag else v
            for v, flag in zip(column.to_pylist(), needs.to_pylist(), strict=True)
        ]
        table = table.set_column(table.column_names.index(name), name, pa.array(values, pa.string()))
    return table


@dataclass
class IngestReport:
    rows: dict[str, int] = field(default_factory=lambda: {"submissions": 0, "comments": 0})
    more_placeholders: int = 0
    rejects: Rejects = field(default_factory=Rejects)


class Staging:
    """Normalized chunks written as parquet files, exposed to DuckDB as `raw_<kind>` views."""

    def __init__(self, con: duckdb.DuckDBPyConnection, workdir: Path) -> None:
        self.con = con
        self.dir = workdir / "staging"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.parts = {"submissions": 0, "comments": 0}

    def add(self, kind: str, table: pa.Table, file_idx: int) -> None:
        self.con.register("_chunk", clean_texts(table))
        try:
            normalized = self.con.sql(normalize.select(kind, "_chunk", file_idx)).to_arrow_table()
        finally:
            self.con.unregister("_chunk")
        pq.write_table(normalized, self.dir / f"{kind}-{self.parts[kind]:06d}.parquet", compression="none")
        self.parts[kind] += 1

    def create_views(self) -> None:
        for kind, parts in self.parts.items():
            source = (
                f"read_parquet('{self.dir / kind}-*.parquet')"
                if parts
                else f"({normalize.empty_select(kind)})"
            )
            self.con.execute(f"CREATE OR REPLACE VIEW raw_{kind} AS SELECT * FROM {source}")


def ingest(con: duckdb.DuckDBPyConnection, files: list[InputFile], workdir: Path) -> IngestReport:
    """Stream every file into the staging views; malformed records are counted, not fatal."""
    staging = Staging(con, workdir)
    report = IngestReport()
    quiet = bool(os.environ.get("CI")) or not logger.isEnabledFor(logging.INFO)
    for file_idx, source in enumerate(files):
        if source.format == "reddit-api-json":
            _ingest_api_json(con, staging, source, file_idx, report)
            continue
        size = source.path.stat().st_size
        with tqdm(
            total=size, unit="B", unit_scale=True, desc=source.path.name, disable=quiet, leave=False
        ) as bar:
            position = 0
            for first_line, chunk, compressed_pos in prefetch(iter_ndjson_chunks(source)):
                _insert_ndjson_chunk(con, staging, source, file_idx, first_line, chunk, report)
                bar.update(compressed_pos - position)
                position = compressed_pos
                bar.set_postfix(records=f"{sum(report.rows.values()):,}")
    staging.create_views()
    return report


def _insert_ndjson_chunk(
    con: duckdb.DuckDBPyConnection,
    staging: Staging,
    source: InputFile,
    file_idx: int,
    first_line: int,
    chunk: bytes,
    report: IngestReport,
) -> None:
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
    lines = None
    if table is None or _needs_line_map(chunk, table.num_rows):
        lines = [i for i, line in enumerate(chunk.split(b"\n")) if line.strip()]
        if table is None or len(lines) != table.num_rows:
            table, lines = _parse_lines_python(chunk, kind), lines
    line_numbers = (
        pa.array([first_line + i for i in lines], pa.int64())
        if lines is not None
        else pa.array(range(first_line, first_line + table.num_rows), pa.int64())
    )
    valid = _valid_mask(table, kind)
    n_invalid = table.num_rows - pc.sum(valid).as_py() if table.num_rows else 0
    if n_invalid:
        recovered = _recover_or_reject(chunk, first_line, line_numbers, valid, source, report)
        if recovered.num_rows:
            staging.add(kind, recovered, file_idx)
            report.rows[kind] += recovered.num_rows
        table = table.filter(valid)
        line_numbers = line_numbers.filter(valid)
    if not table.num_rows:
        return
    table = table.append_column("_line", line_numbers)
    staging.add(kind, table, file_idx)
    report.rows[kind] += table.num_rows


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
    first_line: int,
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
    for line_no, is_bad in zip(line_numbers.to_pylist(), bad, strict=True):
        if not is_bad:
            continue
        text = lines[line_no - first_line]
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
    con: duckdb.DuckDBPyConnection, staging: Staging, source: InputFile, file_idx: int, report: IngestReport
) -> None:
    submissions, comments, n_more = read_api_json(source.path)
    report.more_placeholders += n_more
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
        staging.add(kind, table, file_idx)
        report.rows[kind] += table.num_rows


def sha256_file(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


__all__ = ["IngestReport", "InputError", "ingest", "sha256_file"]
