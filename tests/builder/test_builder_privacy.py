"""Scrubbing rules and pseudonyms, checked one text at a time in DuckDB (the engine the build uses)."""

from __future__ import annotations

import duckdb
import pytest

from dataset_builder.privacy import key_fingerprint, pseudonym, replace_names, scrub_query


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at jane.doe+x@mail.example.co.uk now", "mail me at [email] now"),
        ("see https://www.reddit.com/r/x/comments/abc?x=1) ok", "see [url]) ok"),
        ("go to WWW.Example.org/path and reddit.com/r/depression", "go to [url] and [url]"),
        ("call (555) 123-4567 or +1 555.123.4567", "call [phone] or [phone]"),
        ("988 and 116 123 stay", "988 and 116 123 stay"),
        ("thanks u/Some_User-1 and /u/other, not you/me", "thanks [user] and [user], not you/me"),
        ("no personal data here. 3.5 stars", "no personal data here. 3.5 stars"),
    ],
)
def test_scrub_rules(text: str, expected: str) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS id, ? AS body", [text])
    assert con.execute(scrub_query("t", ["id"], {"body": "body"})).fetchall() == [(1, expected)]


def test_replace_names_whole_names_only() -> None:
    text = "Thanks Jane_Doe99! jane_doe99's advice; not jane_doe990 or xjane_doe99. ANNA, anna-b and anna"
    assert replace_names(text, ["jane_doe99", "anna"]) == (
        "Thanks [user]! [user]'s advice; not jane_doe990 or xjane_doe99. [user], anna-b and [user]"
    )


def test_pseudonyms_are_keyed_and_stable() -> None:
    assert pseudonym(b"k1", "Alice") == pseudonym(b"k1", "alice")
    assert pseudonym(b"k1", "alice") != pseudonym(b"k2", "alice")
    assert key_fingerprint(b"k1") != key_fingerprint(b"k2") and "k1" not in key_fingerprint(b"k1")
