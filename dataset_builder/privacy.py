"""Privacy: keyed pseudonyms for authors and Reddit ids, and text scrubbing.

- Authors become `user_<12 hex>`: HMAC-SHA256 under a secret key of at least 16 bytes. Same key, same
  pseudonyms, so builds are reproducible; the key never reaches an output (the manifest keeps a
  scrypt fingerprint under a fixed, published salt, so a guessed key costs a slow KDF per guess).
- Reddit ids (`reddit.com/comments/<post>/_/<comment>` shows the author) become keyed hashes under the
  same key, unless the build keeps them (`--keep-reddit-ids`).
- Texts are scrubbed in Python (`Scrubber`): Reddit's markdown escapes (`kind\\_helper`) are undone
  first, then emails (also `name [at] domain [dot] com`), URLs (any scheme, any top-level domain with a
  path, the common ones without), phone numbers (candidates from a cheap pattern, confirmed by
  `phonenumbers`, the Python port of Google's libphonenumber) and `u/` mentions become placeholders.
- A thread participant's username written in plain text ("thanks jane_doe99!") is replaced by
  `[user]`. Usernames are found by a token join in SQL (fast, no per-post regex), and only the few
  texts that contain one are rewritten in Python. A name that is also a common word (`hope`, `tired`)
  is replaced only where it is used as a name (`@hope`, "thanks hope!", "Hope, ...", "I told Hope").

What runs where (issue 13's portable pipeline):

- Portable steps (`dataset_builder/steps.py`): `privacy_participants` (`sql/privacy_participants.sql`:
  `participants(post_id, name)` from `comment_status` and `kept_posts`) and `privacy_name_hits`
  (`sql/privacy_name_hits.sql`: `post_name_hits`, `comment_name_hits` from `clean_posts`, `clean_comments`
  and `participants`; the token pattern `NAME_TOKEN` is bound as `$name_token`).
- Batch functions over Arrow record batches (`dataset_builder.batches.map_batches`, which either engine
  runs): `ScrubBatch` (`scrub_table`, batches of `SCRUB_BATCH_ROWS`), `NameRewrite` (`rewrite_names`: the
  few texts with a hit; its patterns need lookarounds, outside the regex subset both engines share; a join
  then rebuilds the table), `PseudonymBatch` (`create_pseudonyms`), `IdHasher` (`hash_ids`) and
  `crisis_flags` (the dataset's `is_sensitive`).
- The key never enters SQL text: `PseudonymBatch` and `IdHasher` hold it (pickled to a distributed
  engine's executors, in memory only; their repr hides it), and the SQL `hash_ids` runs names only the
  columns to hash (`comment_id AS _hashed_t1_comment_id`). Neither is a step with a `$parameter` (bound
  parameters become literals in the rendered SQL, which an engine may log).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
import re
import secrets
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import phonenumbers
import pyarrow as pa

from dataset_builder import batches, steps

logger = logging.getLogger(__name__)

KEY_ENV = "REDDITESS_PSEUDONYM_KEY"
MIN_KEY_BYTES = 16
# Published on purpose: the fingerprint's strength is the slow KDF and the key's length, not the salt.
FINGERPRINT_SALT = b"redditess-pseudonym-key-fingerprint-v1"
FINGERPRINT_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
USER_PLACEHOLDER = "[user]"
NAME_CHARS = "A-Za-z0-9_-"

# Reddit's markdown editor escapes these characters (`kind\_helper\_42`, `https:\/\/…`).
MARKDOWN_ESCAPE = re.compile(r"\\([\\_*./@:\-~^\[\](){}#>`|!+=])")
# Top-level domains a bare `name.tld` (no scheme, no path) is a URL under: the common generic and
# country ones, minus those that are English words and follow a period typed without a space
# ("tried.it", "logged.in": it, in, at, no, be, me, us, my, id). With a scheme, `www.` or a path (`myname.dev/about`), any alphabetic TLD counts.
COMMON_TLDS = (
    "com|org|net|edu|gov|mil|int|io|co|uk|ca|au|nz|ie|de|fr|nl|ch|es|pt|se|dk|fi|pl|cz|"
    "ru|ua|jp|cn|kr|tw|hk|sg|ph|th|vn|br|mx|ar|cl|za|ng|ke|eu|ly|gg|tv|fm|info|biz|dev|app|ai|"
    "xyz|site|online|store|shop|blog|tech|page|link|live|world|life|club|space|website|email|cloud|"
    "digital|news|media|social|today|art|design|studio|agency|health|care|help|works|rocks"
)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOT = r"(?:\s*(?:\[dot\]|\(dot\)|\{dot\}|<dot>)\s*|\s+dot\s+|\.)"
_AT = r"(?:\s*(?:\[at\]|\(at\)|\{at\}|<at>)\s*|\s*@\s*)"
_LOCAL = r"[a-z0-9_](?:[a-z0-9._%+-]{0,63}[a-z0-9_])?"
# Host names in URLs: labels may hold underscores (subdomains such as `my_site.example.dev`).
_HOST = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_IPV4 = r"(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}"
EMAIL = re.compile(
    rf"(?i)(?<![a-z0-9._%+-])(?:{_LOCAL}{_AT}{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}[a-z]{{2,24}}"
    # `name at domain dot com`: only with a spelled-out `dot` before a common TLD (else too many words)
    rf"|{_LOCAL}\s+at\s+{_LABEL}(?:\s+dot\s+{_LABEL})*\s+dot\s+(?:{COMMON_TLDS}))(?![a-z0-9])"
)
_URL_TAIL = r"[^\s<>\"'\]\[)(]*[^\s<>\"'\]\[)(.,;:!?]"
URL = re.compile(
    rf"(?i)(?:(?<![a-z0-9])[a-z][a-z0-9+.-]{{1,15}}://{_URL_TAIL}"  # any scheme
    rf"|(?<![a-z0-9@_.])(?:www\.{_URL_TAIL}"
    rf"|{_HOST}(?:\.{_HOST})*\.[a-z]{{2,24}}(?::\d{{2,5}})?/{_URL_TAIL}?"  # any TLD, with a path
    rf"|{_IPV4}(?::\d{{2,5}})?(?:/{_URL_TAIL}?)?(?![\d.]\d)"  # IP addresses identify too
    rf"|{_HOST}(?:\.{_HOST})*\.(?:{COMMON_TLDS})(?::\d{{2,5}})?(?![a-z0-9_-]|\.[a-z0-9])))"
)
MENTION = re.compile(r"(?i)(?<![A-Za-z0-9_/])/?u/[A-Za-z0-9_-]{2,}")
# Phone candidates: 7-15 digits with an optional +/00 prefix, in groups separated by one space, dot,
# dash or parentheses. `phonenumbers` then decides (`_is_phone`).
PHONE_CANDIDATE = re.compile(
    r"(?<![\w+.,/$€£-])(?:\+|00)?\(?\d(?:[\d]|[ .\-]\(?|\)[ .\-]?){5,24}\d(?![\w/%]|[.,]\d)"
)
# Cheap pre-checks (one simple scan) before the costly patterns.
_MAYBE_URL = re.compile(r"(?i)[a-z0-9_]\.[a-z]|://|\d\.\d+\.\d")
_MAYBE_PHONE = re.compile(r"\d[\d .()-]{5,}\d")
DEFAULT_REGIONS = ("US", "GB", "CA", "AU", "NZ", "IE", "IN")
_NANP = re.compile(r"^(?:\+?1[ .-]?)?\(?[2-9]\d{2}\)?[ .-]?\d{3}[ .-]\d{4}$")
_NOT_PHONE = re.compile(
    r"^(?:\d{4}[-./ ]\d{1,2}[-./ ]\d{1,2}|\d{1,2}[-./ ]\d{1,2}[-./ ]\d{2,4}"  # dates
    r"|(?:(?:19|20)\d{2}[ .-]+)+(?:19|20)\d{2}|\d+\.\d+)$"  # years, decimals
)
# Phone numbers of organisations (toll-free, shared cost, premium rate, e.g. crisis lines) are public
# and useful to readers of support threads: they stay.
_PUBLIC_NUMBER_TYPES = {
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.SHARED_COST,
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
}
# Words a name can be used with as a greeting or address ("thanks hope!", "hi Tired,").
_GREETINGS = (
    r"hi|hey|hello|hiya|heya|yo|dear|thanks|thank\s+you|thx|ty|cheers|sorry|congrats|congratulations|"
    r"welcome|bye|good\s+luck|hugs|love\s+you|agree\s+with|replying\s+to"
)


# Words that follow a name used as an address at the start of a line ("Hope, you are right").
_ADDRESSED = r"(?i:you|your|you're|thanks|thank|i|i'm|i've|i'd|we|please|sorry|welcome|congrats|hugs|same)\b"


def unescape_markdown(text: str) -> str:
    r"""Undo Reddit's markdown escapes (`\_ \* \. \/ \\` and the other escapable characters)."""
    return MARKDOWN_ESCAPE.sub(r"\1", text) if "\\" in text else text


def _is_phone(candidate: str) -> bool:
    digits = sum(c.isdigit() for c in candidate)
    if not 7 <= digits <= 15 or _NOT_PHONE.match(candidate):
        return False
    international = candidate.startswith(("+", "00"))
    if not international and digits < 9:  # national numbers of the default regions have 9+ digits
        return False
    for region in (None,) if candidate.startswith("+") else DEFAULT_REGIONS:
        try:
            number = phonenumbers.parse(candidate, region or "ZZ")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.number_type(number) not in _PUBLIC_NUMBER_TYPES
        if international and phonenumbers.is_possible_number(number):
            return True  # an explicit country code and a possible length: a phone number
        # National formats of fictional / newly assigned ranges (555-…, 07700 900…): the shape decides.
        if region in ("US", "CA") and _NANP.match(candidate):
            return True
        if region in ("GB", "AU", "NZ", "IE") and candidate.startswith("0") and " " in candidate.strip():
            if phonenumbers.is_possible_number(number) and 10 <= digits <= 11:
                return True
    return False


class Scrubber:
    """Placeholders for emails, URLs, phone numbers and u/ mentions; `counts` tallies replacements by rule."""

    RULES = ("markdown_unescaped", "email", "url", "phone", "user_mention")

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter({rule: 0 for rule in self.RULES})

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        counts = self.counts
        unescaped = unescape_markdown(text)
        if unescaped != text:
            counts["markdown_unescaped"] += 1
            text = unescaped
        lowered = text.lower()
        if "@" in text or "dot" in lowered:  # `name at domain dot com` spells out `dot`
            text, n = EMAIL.subn("[email]", text)
            counts["email"] += n
        if _MAYBE_URL.search(text):
            text, n = URL.subn("[url]", text)
            counts["url"] += n
        if _MAYBE_PHONE.search(text):
            text = PHONE_CANDIDATE.sub(self._phone, text)
        if "u/" in text or "U/" in text:
            text, n = MENTION.subn(USER_PLACEHOLDER, text)
            counts["user_mention"] += n
        return text

    def _phone(self, match: re.Match[str]) -> str:
        """The candidate with each phone number in it replaced: the longest run of its space-separated
        groups that is a number, from left to right ("(555)201-9876 (555)201-9877" holds two)."""
        parts = re.split(r"(\s+)", match.group(0))  # group, space, group, space, ..., group
        n = len(parts) // 2 + 1
        text = ""
        i = 0
        while i < n:
            for j in range(n, i, -1):
                if _is_phone("".join(parts[2 * i : 2 * j - 1])):
                    self.counts["phone"] += 1
                    text += "[phone]"
                    break
            else:
                j = i + 1
                text += parts[2 * i]
            if j < n:
                text += parts[2 * j - 1]
            i = j
        return text


SCRUB_BATCH_ROWS = 10_000
SCRUB_FLUSH_ROWS = 50_000


class ScrubBatch:
    """A `batches.BatchFn`: the batch with its `texts` columns scrubbed by a fresh `Scrubber`; the counts
    are that Scrubber's replacements by rule (`Scrubber.RULES`)."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = tuple(texts)

    def __call__(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, Counter[str]]:
        scrubber = Scrubber()
        columns = [
            pa.array([scrubber(t) for t in column.to_pylist()], pa.string()) if name in self.texts else column
            for name, column in zip(batch.schema.names, batch.columns, strict=True)
        ]
        return pa.RecordBatch.from_arrays(columns, names=batch.schema.names), scrubber.counts


def scrub_table(
    con: duckdb.DuckDBPyConnection,
    query: str,
    texts: list[str],
    table: str,
    scrubber: Scrubber | None = None,
) -> Counter[str]:
    """CREATE `table` from `query`'s rows with the `texts` columns scrubbed (`ScrubBatch` through
    `batches.map_batches`: batches of `SCRUB_BATCH_ROWS`, written every `SCRUB_FLUSH_ROWS` rows on the
    embedded engine, so memory outside the engine stays bounded whatever the input's size). Returns the
    replacements by rule (every rule of `Scrubber.RULES`, 0 included), also added to `scrubber.counts`
    when a `scrubber` is given."""
    schema = batches.schema_of(con, query)
    schema = pa.schema([pa.field(f.name, pa.string()) if f.name in texts else f for f in schema])
    counts: Counter[str] = Counter(dict.fromkeys(Scrubber.RULES, 0))
    counts.update(
        batches.map_batches(
            con, query, ScrubBatch(texts), schema, table, SCRUB_BATCH_ROWS, flush_rows=SCRUB_FLUSH_ROWS
        )
    )
    if scrubber is not None:
        scrubber.counts.update(counts)
    return counts


def default_key_path() -> Path:
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "redditess" / "pseudonym.key"


def check_key(key: bytes, source: str) -> bytes:
    """`key` if it is long enough to resist guessing; else ValueError naming where it came from."""
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(
            f"{source}: the pseudonym key is {len(key)} bytes; use at least {MIN_KEY_BYTES} random bytes "
            "(a short key can be guessed, and a guessed key reverses every pseudonym). "
            "Generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return key


def resolve_key(key_file: Path | None = None) -> bytes:
    """The pseudonym key: $REDDITESS_PSEUDONYM_KEY, else --pseudonym-key-file, else a key created
    once in the user's config directory and reused (so rebuilds give the same pseudonyms).

    Raises ValueError for a key shorter than 16 bytes or an empty key file."""
    if os.environ.get(KEY_ENV):
        return check_key(os.environ[KEY_ENV].encode(), f"${KEY_ENV}")
    if key_file is not None:
        key = Path(key_file).read_bytes().strip()
        if not key:
            raise ValueError(f"{key_file}: pseudonym key file is empty")
        return check_key(key, str(key_file))
    path = default_key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        logger.info("created a new pseudonym key in your config directory (%s)", path.parent)
    return check_key(path.read_bytes().strip(), str(path))


def key_fingerprint(key: bytes) -> str:
    """Identifies the key in the manifest without revealing it: scrypt (n=2^14, r=8, p=1, 16 MiB and
    ~50 ms per guess) under the fixed salt `FINGERPRINT_SALT`, 8 bytes shown as hex."""
    digest = hashlib.scrypt(key, salt=FINGERPRINT_SALT, dklen=8, **FINGERPRINT_SCRYPT)
    return "scrypt:" + digest.hex()


def pseudonym(key: bytes, author: str) -> str:
    return "user_" + hmac.new(key, author.lower().encode(), hashlib.sha256).hexdigest()[:12]


def hashed_id(key: bytes, kind: str, reddit_id: str) -> str:
    """A Reddit id as a keyed hash: 16 hex characters of HMAC-SHA256 over `<kind>_<id>` (kind t3 for
    posts, t1 for comments), so the same id maps to the same hash in every config and rebuild."""
    return hmac.new(key, f"{kind}_{reddit_id}".encode(), hashlib.sha256).hexdigest()[:16]


class _Keyed:
    """A batch function holding the pseudonym key: HMAC-SHA256 (RFC 2104) from inner and outer SHA-256
    states keyed once per process (hash objects do not pickle; the key does, so it reaches a distributed
    engine's executors in the pickled function, in memory only). Its repr never shows the key.

    The same digests as `hmac.new(key, message, sha256)` (tests compare them), from C-level hash-state copies
    only: about twice as fast per message as copying a pre-keyed `hmac.HMAC`, whose methods are Python."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._states: tuple[hashlib._Hash, hashlib._Hash] | None = None

    def __getstate__(self) -> dict[str, bytes]:
        return {"key": self._key}

    def __setstate__(self, state: dict[str, bytes]) -> None:
        self.__init__(state["key"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key=<hidden>)"

    def _hexdigest(self, message: bytes) -> str:
        if self._states is None:
            block = hashlib.sha256().block_size
            key = hashlib.sha256(self._key).digest() if len(self._key) > block else self._key
            key = key.ljust(block, b"\0")
            self._states = (
                hashlib.sha256(bytes(b ^ 0x36 for b in key)),
                hashlib.sha256(bytes(b ^ 0x5C for b in key)),
            )
        inner, outer = self._states[0].copy(), self._states[1].copy()
        inner.update(message)
        outer.update(inner.digest())
        return outer.hexdigest()


class PseudonymBatch(_Keyed):
    """A `batches.BatchFn`: (author) -> (author, pseudonym), `pseudonym(key, author)` for each row."""

    SCHEMA = pa.schema([("author", pa.string()), ("pseudonym", pa.string())])

    def __call__(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, dict[str, int]]:
        authors = batch.column(0)
        pseudonyms = [
            None if a is None else "user_" + self._hexdigest(a.lower().encode())[:12]
            for a in authors.to_pylist()
        ]
        out = pa.RecordBatch.from_arrays([authors, pa.array(pseudonyms, pa.string())], schema=self.SCHEMA)
        return out, {"authors": batch.num_rows}


def create_pseudonyms(con: duckdb.DuckDBPyConnection, key: bytes, query: str) -> None:
    """Create `pseudonyms(author, pseudonym)` for the distinct authors `query` returns (`PseudonymBatch`)."""
    batches.map_batches(con, query, PseudonymBatch(key), PseudonymBatch.SCHEMA, "pseudonyms")


# Id columns of the tables rows are written from, and the kind of Reddit thing each holds.
ID_COLUMNS = {
    "post_id": "t3",
    "comment_id": "t1",
    "chosen_id": "t1",
    "rejected_id": "t1",
    "draft_id": "t1",
    "revision_id": "t1",
}
# How `hash_ids` names a column the batch function hashes: `_hashed_<kind>_<column>`.
_HASHED_COLUMN = re.compile(r"^_hashed_(t[1-6])_(.+)$")
# Distinct ids an `IdHasher` remembers per process before it starts over (bounded memory).
ID_CACHE_SIZE = 1_000_000


class IdHasher(_Keyed):
    """A `batches.BatchFn` for `hash_ids`: each column named `_hashed_<kind>_<column>` becomes `<column>`
    holding `hashed_id(key, kind, value)` (nulls stay null; each distinct id hashed once, ids repeat across
    tables and rows); other columns pass through."""

    def __init__(self, key: bytes) -> None:
        super().__init__(key)
        self._cache: dict[str, str] = {}

    def __call__(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, dict[str, int]]:
        names, columns = [], []
        hashed = 0
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            match = _HASHED_COLUMN.match(name)
            if match:
                kind, name = match.groups()
                column = self._hashed(kind, column)
                hashed += len(column) - column.null_count
            names.append(name)
            columns.append(column)
        return pa.RecordBatch.from_arrays(columns, names=names), {"ids_hashed": hashed}

    def _hashed(self, kind: str, column: pa.Array) -> pa.Array:
        if len(self._cache) > ID_CACHE_SIZE:
            self._cache.clear()
        cache, prefix, out = self._cache, f"{kind}_", []
        for raw in column.to_pylist():
            if raw is None:
                out.append(None)
                continue
            tagged = prefix + raw
            value = cache.get(tagged)
            if value is None:
                value = cache[tagged] = self._hexdigest(tagged.encode())[:16]
            out.append(value)
        return pa.array(out, pa.string())


def hash_ids(con: duckdb.DuckDBPyConnection, key: bytes, tables: list[str]) -> None:
    """Replace every id column (`ID_COLUMNS`) of `tables` by its keyed hash (`hashed_id`, by `IdHasher`
    through `batches.map_batches`; the table is replaced once every row is hashed). Run after every step
    that orders or splits by raw ids, so those results do not depend on the key. The key never enters SQL:
    the query only names the columns to hash (`<column> AS _hashed_<kind>_<column>`)."""
    hasher = IdHasher(key)
    for table in tables:
        schema = batches.schema_of(con, f"SELECT * FROM {table}")
        if not any(name in ID_COLUMNS for name in schema.names):
            continue
        selected = ", ".join(
            f"{name} AS _hashed_{ID_COLUMNS[name]}_{name}" if name in ID_COLUMNS else name
            for name in schema.names
        )
        schema = pa.schema([pa.field(f.name, pa.string()) if f.name in ID_COLUMNS else f for f in schema])
        batches.map_batches(con, f"SELECT {selected} FROM {table}", hasher, schema, table)


def name_pattern(names: list[str]) -> re.Pattern[str]:
    """Whole-name matches (a name is a maximal run of username characters), case-insensitive."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![{NAME_CHARS}])(?:{alternatives})(?![{NAME_CHARS}])", re.IGNORECASE)


def name_use_pattern(names: list[str]) -> re.Pattern[str]:
    """Matches of names that are also common words, only where used as a name: after `@`, after a
    greeting ("thanks hope!"), as an address opening a line ("Hope, ..."), or capitalized after a
    lower-case word ("I told Hope"). The name itself is group `name`."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    any_case = rf"(?i:{alternatives})"
    title = "|".join(re.escape(n[:1].upper() + n[1:]) for n in names)
    return re.compile(
        rf"(?:(?<=@)(?P<at>{any_case})"
        rf"|(?i:\b(?:{_GREETINGS}))[ \t,]+(?P<greeted>{any_case})(?=[ \t]*(?:[,.!?:;)\n]|$))"
        rf"|(?:^|(?<=\n))[ \t>*-]*(?P<address>{any_case})(?=[ \t]*[,:](?:[ \t]*(?:\n|$)|[ \t]+{_ADDRESSED}))"
        rf"|(?<=[a-z,;][ \t])(?<!\bi[ \t])(?P<capitalized>{title}))"
        rf"(?![{NAME_CHARS}])"
    )


def replace_names(
    text: str | None, names: list[str], common: frozenset[str] | set[str] = frozenset()
) -> str | None:
    """Replace `names` (lower-case usernames) in `text` by `[user]`: everywhere for ordinary names,
    only where used as a name (`name_use_pattern`) for those in `common` (names that are also words)."""
    return replace_names_counted(text, names, common)[0]


def replace_names_counted(
    text: str | None, names: list[str], common: frozenset[str] | set[str] = frozenset()
) -> tuple[str | None, int, int]:
    """`replace_names` plus the number of replacements of ordinary names and of common-word names."""
    if text is None or not names:
        return text, 0, 0
    rare = [n for n in names if n not in common]
    words = [n for n in names if n in common]
    n_rare = n_words = 0
    if rare:
        text, n_rare = name_pattern(rare).subn(USER_PLACEHOLDER, text)
    if words:
        text, n_words = name_use_pattern(words).subn(
            lambda m: m.group(0)[: m.start(m.lastgroup) - m.start()] + USER_PLACEHOLDER, text
        )
    return text, n_rare, n_words


# A name token: a maximal run of at least 3 username characters (Reddit's minimum name length), matched
# in lower-cased text (`$name_token` of the name-hit steps; RE2 and Java read it alike).
NAME_TOKEN = "[a-z0-9_-]{3,}"

PARTICIPANTS = steps.Step(
    "privacy_participants", inputs=("comment_status", "kept_posts"), outputs=("participants",)
)
NAME_HITS = steps.Step(
    "privacy_name_hits",
    inputs=("clean_posts", "clean_comments", "participants"),
    outputs=("post_name_hits", "comment_name_hits"),
)


def name_hit_params() -> dict[str, steps.Param]:
    """The parameters of the name-hit steps (`privacy_name_hits`, `revisions_name_hits`)."""
    return {"name_token": NAME_TOKEN}


def create_participants(con: duckdb.DuckDBPyConnection) -> None:
    """Create `participants(post_id, name)` (the step `privacy_participants`)."""
    steps.run(con, PARTICIPANTS, {})


def find_name_hits(con: duckdb.DuckDBPyConnection) -> None:
    """Create `post_name_hits` and `comment_name_hits(key, post_id, name)` (the step `privacy_name_hits`)
    over the scrubbed `clean_posts` and `clean_comments`."""
    steps.run(con, NAME_HITS, name_hit_params())


@functools.cache
def lexicon_words() -> frozenset[str]:
    """The words of VADER's lexicon (bundled with vaderSentiment, a dependency of the builder)."""
    import vaderSentiment.vaderSentiment as vader

    path = Path(vader.__file__).with_name("vader_lexicon.txt")
    return frozenset(line.split("\t", 1)[0] for line in path.read_text(encoding="utf-8").splitlines() if line)


def common_word_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Participant names that are also common English words: alphabetic names in VADER's lexicon (7,500
    words, bundled with vaderSentiment) or among the frequent function words of `pairs.STOPWORDS`.

    Only a word list decides, never frequency in the corpus: a username written in many threads (a
    well-known member of a community) is frequent too, and must still be replaced everywhere."""
    from dataset_builder.pairs import STOPWORDS

    words = lexicon_words() | frozenset(STOPWORDS)
    names = {r[0] for r in con.sql("SELECT DISTINCT name FROM participants").fetchall()}
    return {n for n in names if n.isalpha() and n in words}


class NameRewrite:
    """A `batches.BatchFn` for `rewrite_names`: rows (key, <columns>..., names) -> the rows whose text
    changed, (key, <columns>...) with `replace_names_counted(text, sorted(names), common)`; counts:
    `texts` changed, `participant_name` and `participant_name_common_word` replacements."""

    def __init__(self, columns: Sequence[str], common: frozenset[str] | set[str] = frozenset()) -> None:
        self.columns = tuple(columns)
        self.common = frozenset(common)
        self.schema = pa.schema([("key", pa.string())] + [(c, pa.string()) for c in self.columns])

    def __call__(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, Counter[str]]:
        counts: Counter[str] = Counter(texts=0, participant_name=0, participant_name_common_word=0)
        rows = batch.to_pylist()
        keys: list[str] = []
        fixed: dict[str, list[str | None]] = {c: [] for c in self.columns}
        for row in rows:
            names = sorted(row["names"])
            new = {}
            for column in self.columns:
                new[column], n_rare, n_words = replace_names_counted(row[column], names, self.common)
                counts["participant_name"] += n_rare
                counts["participant_name_common_word"] += n_words
            if any(new[c] != row[c] for c in self.columns):
                keys.append(row["key"])
                for column in self.columns:
                    fixed[column].append(new[column])
        counts["texts"] = len(keys)
        arrays = [pa.array(keys, pa.string())] + [pa.array(fixed[c], pa.string()) for c in self.columns]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema), counts


def rewrite_names(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key_column: str,
    columns: list[str],
    hits: str,
    common: set[str] | frozenset[str] = frozenset(),
) -> Counter[str]:
    """Replace participant names in `columns` of the rows of `table` listed in `hits(key, post_id,
    name)` (only names taking part in the row's thread). Returns counts: `texts` rewritten,
    `participant_name` and `participant_name_common_word` replacements.

    The rows with a hit go through `NameRewrite` (`batches.map_batches`) into `<table>_names_fixed`, and a
    join rebuilds `table` with the fixed texts (portable SQL: no UPDATE, no ordered aggregate)."""
    rewrite = NameRewrite(columns, common)
    fixed = f"{table}_names_fixed"
    query = f"""
        SELECT t.{key_column} AS key, {", ".join(f"t.{c}" for c in columns)}, h.names
        FROM {table} t JOIN (
            SELECT h.key, list(h.name) AS names FROM {hits} h
            JOIN participants p ON p.post_id = h.post_id AND p.name = h.name GROUP BY h.key) h
          ON h.key = t.{key_column}"""
    counts: Counter[str] = Counter(texts=0, participant_name=0, participant_name_common_word=0)
    counts.update(batches.map_batches(con, query, rewrite, rewrite.schema, fixed))
    if counts["texts"]:
        names = batches.schema_of(con, f"SELECT * FROM {table}").names
        selected = ", ".join(
            f"CASE WHEN f.key IS NULL THEN t.{c} ELSE f.{c} END AS {c}" if c in columns else f"t.{c}"
            for c in names
        )
        con.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT {selected} "
            f"FROM {table} t LEFT JOIN {fixed} f ON f.key = t.{key_column}"
        )
    con.execute(f"DROP TABLE {fixed}")
    return counts


def crisis_flags(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, dict[str, int]]:
    """A `batches.BatchFn` for the dataset's `is_sensitive`: rows (key, text) -> the keys of the texts the
    crisis screen flags (`redditess_core.safety.crisis.default_rules().flags`, the same rules as
    `screen`); counts `screened` and `flagged`."""
    from redditess_core.safety.crisis import default_rules

    keys, texts = batch.column(0), batch.column(1)
    flags = default_rules().flags(texts) if len(texts) else np.zeros(0, dtype=bool)
    flagged = keys.filter(pa.array(flags, pa.bool_()))
    out = pa.RecordBatch.from_arrays([flagged], schema=CRISIS_FLAGS_SCHEMA)
    return out, {"screened": len(texts), "flagged": len(flagged)}


CRISIS_FLAGS_SCHEMA = pa.schema([("key", pa.string())])
