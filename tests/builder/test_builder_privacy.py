"""Scrubbing rules, participant names, pseudonyms, keys and id hashing, one text or key at a time.

Issue 11 items 1-7: each example of the issue plus variants of the same kind."""

from __future__ import annotations

import time

import duckdb
import pytest

from dataset_builder.privacy import (
    MIN_KEY_BYTES,
    Scrubber,
    check_key,
    hashed_id,
    key_fingerprint,
    pseudonym,
    replace_names,
    resolve_key,
    unescape_markdown,
)


def scrub(text: str) -> str:
    return Scrubber()(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the kit's original rules
        ("mail me at jane.doe+x@mail.example.co.uk now", "mail me at [email] now"),
        ("see https://www.reddit.com/r/x/comments/abc?x=1) ok", "see [url]) ok"),
        ("go to WWW.Example.org/path and reddit.com/r/depression", "go to [url] and [url]"),
        ("call (555) 123-4567 or +1 555.123.4567", "call [phone] or [phone]"),
        ("thanks u/Some_User-1 and /u/other, not you/me", "thanks [user] and [user], not you/me"),
        ("no personal data here. 3.5 stars", "no personal data here. 3.5 stars"),
    ],
)
def test_scrub_rules(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"kind\_helper\_42", "kind_helper_42"),
        (r"\*sigh\* 3\.5 https:\/\/x \\ back", r"*sigh* 3.5 https://x \ back"),
        (r"a \\_b", r"a \_b"),  # an escaped backslash, then a plain underscore
        ("no escapes here", "no escapes here"),
    ],
)
def test_unescape_markdown(text: str, expected: str) -> None:
    assert unescape_markdown(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # item 1: markdown escapes hide names and PII from every rule
        (r"thanks u/kind\_helper\_42!", "thanks [user]!"),
        (r"ask /u/Night\_Owl\-7 or U/x\_y", "ask [user] or [user]"),
        (r"write to jane\_doe\@mail\.com", "write to [email]"),
        (r"see my\_site\.dev\/about", "see [url]"),
        (r"call 555\-201\-9876", "call [phone]"),
    ],
)
def test_markdown_escapes_undone_before_every_rule(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "number",
    [
        "+44 20 7946 0958",
        "(555)201-9876",
        "+15552019876",
        "07700 900123",
        "555-201-9876",
        "+1 (415) 555-0132",
        "0044 20 7946 0958",
        "020 7946 0958",
        "07911 123456",
        "0412 345 678",
        "+49 30 901820",
        "5552019876",
        "555.201.9876",
        "+61 412 345 678",
    ],
)
def test_phone_numbers_international_and_compact(number: str) -> None:
    assert scrub(f"call me on {number} tonight") == "call me on [phone] tonight"


def test_several_phone_numbers_in_one_run() -> None:
    assert scrub("(555)201-9876 (555)201-9877, or +44 20 7946 0958.") == "[phone] [phone], or [phone]."


@pytest.mark.parametrize(
    "text",
    [
        "988 and 116 123 stay",  # crisis lines are short codes
        "call 1-800-273-8255 or 0800 689 5652",  # toll-free numbers of organisations are public
        "born 2019-10-12, on 10/12/2019",
        "from 1995 to 2005, in 2019 2020 2021",
        "I scored 1450 1520 and pi is 3.14159265",
        "$1,234,567 and 12345678 and ID 4839201",
        "it was 98.6 degrees, 120/80, 5'11\", 10,000 steps",
    ],
)
def test_numbers_that_are_not_phone_numbers_stay(text: str) -> None:
    assert scrub(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my site myname.dev/about is up", "my site [url] is up"),
        (r"watch https:\/\/youtu.be\/dQw4w9WgXcQ now", "watch [url] now"),
        ("ipfs://bafy/x and ftp://files.example and hxxp://evil.biz", "[url] and [url] and [url]"),
        ("try example.org. Or blog.example.xyz!", "try [url]. Or [url]!"),
        ("my.portfolio.studio/work?id=3#top", "[url]"),
        ("host at localhost:8080/x and 10.0.0.1:8000/path", "host at localhost:8080/x and [url]"),
    ],
)
def test_urls_any_scheme_any_tld_no_scheme_escaped(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    ["I tried.It was hard", "file.txt and node.js, e.g. this", "1.5/10 and/or w/o", "logged.in at 5.30pm"],
)
def test_words_with_dots_are_not_urls(text: str) -> None:
    assert scrub(text) == text


@pytest.mark.parametrize(
    "address",
    [
        "jane.doe @ gmail.com",
        "jane.doe@ gmail.com",
        "jane.doe [at] gmail [dot] com",
        "jane.doe (at) gmail (dot) co (dot) uk",
        "jane.doe at gmail dot com",
        "JANE_DOE{at}mail{dot}org",
        "jane@mail.example.co.uk",
    ],
)
def test_obfuscated_emails_replaced_whole(address: str) -> None:
    out = scrub(f"write to {address} please")
    assert out == "write to [email] please"
    assert "jane" not in out.lower()


@pytest.mark.parametrize("text", ["look at this", "meet me at the café", "I'm at home, dot your i's"])
def test_at_in_sentences_is_not_an_email(text: str) -> None:
    assert scrub(text) == text


def test_scrubber_counts_replacements_by_rule() -> None:
    scrubber = Scrubber()
    scrubber(r"mail a@b.com, see x.com/y, call +15552019876, thanks u/someone and u/other\_one")
    assert {k: v for k, v in scrubber.counts.items() if v} == {
        "markdown_unescaped": 1,
        "email": 1,
        "url": 1,
        "phone": 1,
        "user_mention": 2,
    }


def test_replace_names_whole_names_only() -> None:
    text = "Thanks Jane_Doe99! jane_doe99's advice; not jane_doe990 or xjane_doe99. ANNA, anna-b and anna"
    assert replace_names(text, ["jane_doe99", "anna"]) == (
        "Thanks [user]! [user]'s advice; not jane_doe990 or xjane_doe99. [user], anna-b and [user]"
    )


COMMON = {"hope", "tired", "happy"}


@pytest.mark.parametrize(
    "text",
    [
        "I hope you find some rest",
        "I hope, tired as you are, you find some happy moments.",
        "Tired, but ok. Happy new year",
        "I'm so tired of this. hope is hard.",
        "Hope this helps!",
    ],
)
def test_common_word_names_kept_as_words(text: str) -> None:
    assert replace_names(text, ["hope", "tired", "happy"], COMMON) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks hope! that helped", "Thanks [user]! that helped"),
        ("thank you, Tired.", "thank you, [user]."),
        ("@happy you ok?", "@[user] you ok?"),
        ("Hope, you are right", "[user], you are right"),
        ("> Tired: thanks for this", "> [user]: thanks for this"),
        ("I told Hope about it", "I told [user] about it"),
        ("hi tired, hugs happy", "hi [user], hugs [user]"),
    ],
)
def test_common_word_names_replaced_where_used_as_names(text: str, expected: str) -> None:
    assert replace_names(text, ["hope", "tired", "happy"], COMMON) == expected


def test_pseudonyms_are_keyed_and_stable() -> None:
    k1, k2 = b"k1" * 8, b"k2" * 8
    assert pseudonym(k1, "Alice") == pseudonym(k1, "alice")
    assert pseudonym(k1, "alice") != pseudonym(k2, "alice")
    assert key_fingerprint(k1) != key_fingerprint(k2) and "k1" not in key_fingerprint(k1)


@pytest.mark.parametrize("key", [b"1", b"", b"short-key", b"x" * (MIN_KEY_BYTES - 1)])
def test_short_keys_refused(key: bytes) -> None:
    with pytest.raises(ValueError, match=rf"at least {MIN_KEY_BYTES} random bytes"):
        check_key(key, "test")


def test_short_key_from_environment_and_file_refused(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("REDDITESS_PSEUDONYM_KEY", "1")
    with pytest.raises(ValueError, match=r"\$REDDITESS_PSEUDONYM_KEY: the pseudonym key is 1 bytes"):
        resolve_key()
    monkeypatch.delenv("REDDITESS_PSEUDONYM_KEY")
    key_file = tmp_path / "key"
    key_file.write_text("secret\n")
    with pytest.raises(ValueError, match=r"key: the pseudonym key is 6 bytes"):
        resolve_key(key_file)
    key_file.write_text("a-long-enough-secret-key\n")
    assert resolve_key(key_file) == b"a-long-enough-secret-key"


def test_fingerprint_is_a_slow_salted_kdf() -> None:
    key = b"demo-key-not-secret"
    started = time.perf_counter()
    fingerprint = key_fingerprint(key)
    elapsed = time.perf_counter() - started
    assert fingerprint.startswith("scrypt:") and len(fingerprint) == len("scrypt:") + 16
    assert fingerprint == key_fingerprint(key)  # fixed salt: the same key gives the same fingerprint
    import hashlib

    fast = hashlib.sha256(b"redditess-pseudonym-key\0" + key).hexdigest()[:16]
    assert fast not in fingerprint
    assert elapsed > 0.005  # a KDF, not a single hash (scrypt n=2^14 takes ~50 ms)


def test_hashed_ids_are_keyed_and_kind_scoped() -> None:
    key = b"k" * 16
    assert hashed_id(key, "t3", "abc") == hashed_id(key, "t3", "abc")
    assert hashed_id(key, "t3", "abc") != hashed_id(key, "t1", "abc")
    assert hashed_id(key, "t3", "abc") != hashed_id(b"j" * 16, "t3", "abc")
    assert len(hashed_id(key, "t3", "abc")) == 16 and "abc" not in hashed_id(key, "t3", "abc")


def test_hash_ids_replaces_every_id_column() -> None:
    from dataset_builder.privacy import hash_ids

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE pairs AS SELECT 'p1' AS post_id, 'c1' AS chosen_id, 'c2' AS rejected_id, 3 AS n"
    )
    key = b"k" * 16
    hash_ids(con, key, ["pairs"])
    assert con.execute("SELECT * FROM pairs").fetchall() == [
        (hashed_id(key, "t3", "p1"), hashed_id(key, "t1", "c1"), hashed_id(key, "t1", "c2"), 3)
    ]


def test_common_word_names_come_from_word_lists_not_frequency() -> None:
    """`hope` is a word; a well-known member's username written in many threads is not."""
    from dataset_builder.privacy import common_word_names

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE participants AS SELECT * FROM (VALUES ('p1', 'hope'), ('p1', 'tired'), "
        "('p2', 'scholarmom'), ('p3', 'kind_helper_42'), ('p4', 'the')) t(post_id, name)"
    )
    assert common_word_names(con) == {"hope", "tired", "the"}
    assert replace_names("I love scholarmom's book", ["scholarmom"], common_word_names(con)) == (
        "I love [user]'s book"
    )


def test_hash_ids_on_many_rows_keeps_order_and_nulls() -> None:
    """The vectorized hasher equals `hashed_id` row by row over several engine vectors, repeated ids
    and nulls included, and keeps the table's row order."""
    from dataset_builder.privacy import hash_ids

    con = duckdb.connect()
    con.execute("""
        CREATE TABLE improvement AS
        SELECT i AS n, 'p' || (i % 997) AS post_id, 'c' || i AS draft_id,
               CASE WHEN i % 5 = 0 THEN NULL ELSE 'c' || (i * 7) END AS revision_id
        FROM range(12000) t(i)""")
    before = con.execute("SELECT * FROM improvement").fetchall()
    key = b"k" * 16
    hash_ids(con, key, ["improvement"])
    after = con.execute("SELECT * FROM improvement").fetchall()
    assert after == [
        (n, hashed_id(key, "t3", p), hashed_id(key, "t1", d), None if r is None else hashed_id(key, "t1", r))
        for n, p, d, r in before
    ]


def test_pseudonym_key_never_reaches_sql_text() -> None:
    """The engine's own query log (every SQL text it ran) holds neither the key nor any HMAC prefix of it
    after pseudonyms and id hashes are computed: the key stays in Python (Arrow data, a UDF's closure)."""
    from dataset_builder.privacy import create_pseudonyms, hash_ids

    key = b"do-not-log-this-key-0123456789"
    con = duckdb.connect()
    con.execute("CALL enable_logging('QueryLog')")
    con.execute(
        "CREATE TABLE top_comments AS SELECT 'writer_' || i AS author, 'c' || i AS comment_id FROM range(50) t(i)"
    )
    create_pseudonyms(con, key, "SELECT DISTINCT author FROM top_comments ORDER BY author")
    hash_ids(con, key, ["top_comments"])
    assert con.execute("SELECT count(*) FROM pseudonyms").fetchone()[0] == 50
    assert con.execute("SELECT comment_id FROM top_comments WHERE author = 'writer_3'").fetchone()[0] == (
        hashed_id(key, "t1", "c3")
    )
    logged = [m for (m,) in con.execute("SELECT message FROM duckdb_logs WHERE type = 'QueryLog'").fetchall()]
    assert any("_hashed_t1" in m for m in logged), logged  # the log does record the hashing statements
    for secret in (key.decode(), key.hex(), key.decode()[:8]):
        assert not [m for m in logged if secret in m], secret
