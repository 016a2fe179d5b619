"""The export rows: the portable `export_rows` views plus the chat turns built in Arrow (`export.chat_rows`)
equal the rows the DuckDB-only list/struct literals of the former inline SQL gave (`_messages_sql` below), on crafted rows with a
NULL title, an empty text, a NULL reply and a self_edit pair without an earlier version."""

from __future__ import annotations

import re

import duckdb
import pyarrow as pa
import pytest
import step_snapshots

from dataset_builder import export, steps
from dataset_builder.sql import literal
from redditess_core.contract import CONFIG_NAMES, arrow_schema
from redditess_core.prompts import IMPROVE_TURN, POST_TURN


def _template_sql(template: str, **columns: str) -> str:
    """A SQL concatenation rendering `template` with SQL expressions for its {placeholders}."""
    parts = []
    for piece in re.split(r"(\{\w+\})", template):
        if re.fullmatch(r"\{\w+\}", piece):
            parts.append(columns[piece[1:-1]])
        elif piece:
            parts.append(literal(piece))
    return " || ".join(parts)


def messages_sql(system: str, user_template: str, **columns: str) -> str:
    """A DuckDB list of {role, content} structs: the system turn and the rendered user turn (the reference)."""
    user = _template_sql(user_template, **columns)
    return f"[{{'role': 'system', 'content': {literal(system)}}}, {{'role': 'user', 'content': {user}}}]"


def assistant_sql(text: str) -> str:
    return f"[{{'role': 'assistant', 'content': {text}}}]"


PROMPTS = {"system_prompt": "Be kind.\nReally.", "improve_system_prompt": "Improve it, 'please'."}
# The chat columns as the inline DuckDB SQL wrote them before the step (struct and list literals).
_POST = messages_sql(PROMPTS["system_prompt"], POST_TURN, title="post_title", body="post_text")
_IMPROVE = messages_sql(
    PROMPTS["improve_system_prompt"], IMPROVE_TURN, title="post_title", body="post_text", draft="draft_text"
)
LITERAL_TURNS = {
    "preference": {
        "prompt": _POST,
        "chosen": assistant_sql("chosen_text"),
        "rejected": assistant_sql("rejected_text"),
    },
    "sft": {"messages": f"list_concat({_POST}, {assistant_sql('reply_text')})"},
    "improvement": {
        "prompt": _IMPROVE,
        "chosen": assistant_sql("chosen_text"),
        "rejected": assistant_sql("draft_text"),
    },
}


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    step_snapshots.export_inputs(con)
    steps.run(con, export.ROWS, {})
    return con


@pytest.mark.parametrize("config", CONFIG_NAMES)
def test_chat_rows_equal_the_struct_literals(con: duckdb.DuckDBPyConnection, config: str) -> None:
    schema = arrow_schema(config)
    query = export.row_queries()[config]
    built = pa.Table.from_batches(
        [export.chat_rows(config, b, schema, PROMPTS) for b in con.sql(query).to_arrow_reader(2)]
    )
    assert built.num_rows > 0
    assert built.schema.names == ["_split", *schema.names]
    turns = LITERAL_TURNS.get(config, {})
    columns = ", ".join(f"{turns[name]} AS {name}" if name in turns else name for name in schema.names)
    expected = con.sql(f"SELECT _split, {columns} FROM ({query})").to_arrow_table()
    assert built.cast(expected.schema).to_pylist() == expected.to_pylist()


def test_a_null_placeholder_makes_the_user_turn_null() -> None:
    columns = {"title": pa.array(["t", None, "t"]), "body": pa.array(["b", "b", None])}
    assert export.render_template("{title}\n\n{body}", columns).to_pylist() == ["t\n\nb", None, None]
