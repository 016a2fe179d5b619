"""Reading a built folder's rows back, with the split each row came from (shared by the builder tests)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq


def read_rows(folder: Path, config: str) -> list[dict]:
    rows = []
    for path in sorted((folder / "data" / config).glob("*.parquet")):
        split = path.name.split("-")[0]
        rows += [r | {"_split": split} for r in pq.read_table(path).to_pylist()]
    return rows
