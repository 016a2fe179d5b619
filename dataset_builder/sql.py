"""SQL text helpers shared by the relational steps."""

from __future__ import annotations


def literal(text: str) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def in_list(values: list[str]) -> str:
    return ", ".join(literal(v) for v in values)


def one(con, query: str, params: list | None = None) -> tuple:
    """The single row of `query` (DuckDB 2 wants every result consumed before the next statement)."""
    rows = con.execute(query, params or []).fetchall()
    if len(rows) != 1:
        raise ValueError(f"expected one row, got {len(rows)}")
    return rows[0]
