"""Text normalization for the crisis screen, vectorized over Arrow string arrays (RE2 via pyarrow.compute).

`normalize(texts)` maps each text to lower-case ASCII words separated by single spaces, with sentence and
clause boundaries marked by `" | "`:

- apostrophes (straight, curly, modifier letter, backtick, acute) are removed: "don’t" -> "dont";
- non-ASCII texts are decomposed (NFKD) and their combining marks dropped: "não" -> "nao"; "ß" -> "ss";
- leetspeak and masks inside words are undone: "k1ll", "k!ll", "su1c1dal", "k*ll", "$uicide";
- letters repeated three or more times collapse to one: "dieeee" -> "die", "sooo" -> "so";
- sentence ends (. ! ? ; new line, not an ellipsis) and the words "but", "pero", "aber" become clause
  boundaries `|`;
  all other characters (punctuation, emoji) become spaces;
- misspellings listed in the lexicon are replaced by their canonical word ("sucide" -> "suicide").

Each step that only some texts need (accents, leetspeak, repeats, misspellings) runs on the texts that
need it only, found by one cheap match over the whole column, so a column of ordinary posts costs a few
RE2 passes. Reference for RE2 rewrite strings: https://github.com/google/re2/wiki/Syntax
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping

import pyarrow as pa
import pyarrow.compute as pc

BOUNDARY = " | "
_APOSTROPHES = "['\u2018\u2019\u02bc\u0060\u00b4\u2032\uff07]"
# Leetspeak and masking characters inside a word (a letter on both sides) and what they stand for;
# "*" and "#" are masks dropped so the misspelling list can restore the word ("k*ll" -> "kll" -> "kill").
_LEET = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "@": "a",
    "$": "s",
    "!": "i",
    "*": "",
    "#": "",
}
LEET_CANDIDATE = r"[a-z][0-9@$!*#]+[a-z]|(?:^|[^a-z0-9])\$[a-z]"
_LETTERS = string.ascii_lowercase
# Any character but ASCII, general punctuation (dashes, curly quotes), emoji, dingbats, variation selectors.
_NEEDS_FOLDING = r"[^\x00-\x7f\x{2000}-\x{206f}\x{2190}-\x{2bff}\x{fe00}-\x{fe0f}\x{1f000}-\x{1faff}]"
REPEAT_CANDIDATE = "|".join(f"{c}{c}{c}" for c in _LETTERS)
_ELLIPSIS = r"\.\.+|\x{2026}"  # a pause inside a sentence, not its end
_SENTENCE_END = r"[.!?;\n\r]+|\b(?:but|pero|aber)\b"


def apply_where(arr: pa.Array, mask: pa.Array, fn: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """`fn` applied to the rows where `mask` is true; the other rows are returned unchanged, in order."""
    mask = pc.fill_null(mask, False)
    count = pc.sum(mask).as_py() or 0
    if count == 0:
        return arr
    if count == len(arr):
        return fn(arr)
    return pc.replace_with_mask(arr, mask, fn(arr.filter(mask)))


def fold_accents(arr: pa.Array) -> pa.Array:
    """Non-ASCII texts: apostrophe look-alikes removed; the texts with other non-ASCII characters than
    punctuation and emoji are decomposed (NFKD), their combining marks dropped, and lower-cased."""
    arr = pc.replace_substring_regex(arr, _APOSTROPHES, "")
    return apply_where(arr, pc.match_substring_regex(arr, _NEEDS_FOLDING), _fold)


def _fold(arr: pa.Array) -> pa.Array:
    arr = pc.utf8_normalize(arr, form="NFKD")
    arr = pc.replace_substring_regex(arr, r"\p{Mn}+", "")
    return pc.utf8_lower(pc.replace_substring(arr, "\u00df", "ss"))


def _undo_leet(arr: pa.Array) -> pa.Array:
    arr = pc.replace_substring_regex(arr, r"(^|[^a-z0-9])\$([a-z])", r"\1s\2")
    for _ in range(2):  # non-overlapping matches: a second pass catches "su1c1dal"
        for char, letter in _LEET.items():
            arr = pc.replace_substring_regex(arr, rf"([a-z]){re.escape(char)}+([a-z])", rf"\1{letter}\2")
    return arr


def _collapse_repeats(arr: pa.Array) -> pa.Array:
    # RE2 has no back-references: one alternative per letter, nine capture groups a pass.
    for start in range(0, len(_LETTERS), 9):
        chunk = _LETTERS[start : start + 9]
        pattern = "|".join(f"({c}){c}{{2,}}" for c in chunk)
        arr = pc.replace_substring_regex(arr, pattern, "".join(f"\\{i + 1}" for i in range(len(chunk))))
    return arr


def spelling_fixer(spelling: Mapping[str, list[str]]) -> tuple[str, Callable[[pa.Array], pa.Array]]:
    """The pattern that finds any listed misspelling, and the function that replaces them all."""
    rules = [
        (
            r"\b(?:"
            + "|".join(re.escape(v).replace("\\ ", " ") for v in sorted(variants, key=len, reverse=True))
            + r")\b",
            canon,
        )
        for canon, variants in spelling.items()
        if variants
    ]
    candidate = "|".join(p for p, _ in rules) or r"$^"

    def fix(arr: pa.Array) -> pa.Array:
        for pattern, canon in rules:
            arr = pc.replace_substring_regex(arr, pattern, canon)
        return arr

    return candidate, fix


def normalize(
    texts: pa.Array | list[str | None], spelling: Mapping[str, list[str]] | None = None, clauses: bool = True
) -> pa.Array:
    """Normalized texts (a pa.StringArray of the same length; None becomes "").

    `clauses=False` skips the clause boundaries (sentence ends become spaces like other punctuation): the
    cheaper form used to find candidate texts in a large column.
    """
    arr = texts if isinstance(texts, pa.Array) else pa.array(texts, pa.string())
    if pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    arr = pc.fill_null(arr, "")
    arr = apply_where(arr, pc.invert(pc.string_is_ascii(arr)), fold_accents)
    arr = pc.ascii_lower(pc.replace_substring(arr, "'", ""))
    arr = apply_where(arr, pc.match_substring_regex(arr, LEET_CANDIDATE), _undo_leet)
    arr = apply_where(arr, pc.match_substring_regex(arr, REPEAT_CANDIDATE), _collapse_repeats)
    if clauses:
        arr = pc.replace_substring_regex(arr, _ELLIPSIS, " ")
        arr = pc.replace_substring_regex(arr, _SENTENCE_END, "|")
        arr = pc.replace_substring_regex(arr, r"[^a-z0-9|]+", " ")
        arr = pc.replace_substring_regex(arr, r" ?\|[ |]*", BOUNDARY)
        arr = pc.utf8_trim(arr, " |")
    else:
        # Runs of non-word characters that hold more than one space (a common case costs no rewrite).
        arr = pc.replace_substring_regex(arr, r"[^a-z0-9 ]+[^a-z0-9]*| [^a-z0-9]+", " ")
    if spelling:
        candidate, fix = spelling_fixer(spelling)
        arr = apply_where(arr, pc.match_substring_regex(arr, candidate), fix)
    return arr
