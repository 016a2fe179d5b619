"""Lexical text statistics for the linguistic analyses: readability, diversity, language style matching.

Pure Python and deterministic, so the numbers do not depend on which optional packages are installed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from itertools import combinations

import numpy as np

_WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)?")
_SENT_RE = re.compile(r"[.!?]+(?:\s|$)")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters and inner apostrophes)."""
    return _WORD_RE.findall(text.lower())


def count_syllables(word: str) -> int:
    """Heuristic English syllable count (vowel groups, silent final e but not -le/-ee/-ye); at least 1."""
    word = word.lower().strip("'")
    if not word:
        return 0
    groups = len(_VOWEL_GROUPS.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and groups > 1:
        groups -= 1
    return max(1, groups)


def count_sentences(text: str) -> int:
    """Sentence count: terminal punctuation runs, at least 1 for non-empty text."""
    n = len(_SENT_RE.findall(text.strip() + " "))
    return max(1, n) if text.strip() else 0


def readability(text: str) -> dict[str, float]:
    """Flesch reading ease and Flesch–Kincaid grade (Kincaid et al. 1975 coefficients)."""
    toks = words(text)
    if not toks:
        return {"flesch_reading_ease": float("nan"), "flesch_kincaid_grade": float("nan")}
    n_words, n_sent = len(toks), count_sentences(text)
    n_syll = sum(count_syllables(w) for w in toks)
    wps, spw = n_words / n_sent, n_syll / n_words
    return {
        "flesch_reading_ease": 206.835 - 1.015 * wps - 84.6 * spw,
        "flesch_kincaid_grade": 0.39 * wps + 11.8 * spw - 15.59,
    }


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct-n (Li et al. 2016): unique n-grams / all n-grams over the whole set of texts."""
    total, unique = 0, set()
    for text in texts:
        toks = words(text)
        grams = list(zip(*(toks[i:] for i in range(n)), strict=False))
        total += len(grams)
        unique.update(grams)
    return len(unique) / total if total else float("nan")


def jaccard_self_similarity(texts: Sequence[str]) -> float:
    """Mean pairwise Jaccard similarity of word sets (a lexical stand-in when no encoder is available)."""
    sets = [set(words(t)) for t in texts]
    sims = [len(a & b) / len(a | b) for a, b in combinations(sets, 2) if a | b]
    return float(np.mean(sims)) if sims else float("nan")


# Function-word categories for language style matching (Ireland & Pennebaker 2010 use LIWC's nine
# categories; LIWC is proprietary, so these are open word lists for the same categories).
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "personal_pronouns": frozenset(
        "i me my mine myself we us our ours ourselves you your yours yourself yourselves he him his himself "
        "she her hers herself they them their theirs themselves i'm i've i'll i'd you're you've you'll "
        "you'd we're we've they're they've".split()
    ),
    "impersonal_pronouns": frozenset(
        "it its itself it's that this these those something anything everything nothing someone anyone "
        "everyone nobody somebody anybody everybody what which whatever".split()
    ),
    "articles": frozenset("a an the".split()),
    "prepositions": frozenset(
        "about above across after against along among around at before behind below beneath beside between "
        "beyond by down during except for from in inside into near of off on onto out outside over past "
        "since through throughout till to toward towards under until up upon with within without".split()
    ),
    "auxiliary_verbs": frozenset(
        "am is are was were be been being have has had having do does did will would shall should can could "
        "may might must isn't aren't wasn't weren't haven't hasn't hadn't don't doesn't didn't won't "
        "wouldn't shouldn't can't couldn't".split()
    ),
    "high_frequency_adverbs": frozenset(
        "very really just so too also only even still again always never often sometimes now then here "
        "there already almost quite rather ever".split()
    ),
    "conjunctions": frozenset(
        "and but or nor so yet because although though while if unless whereas".split()
    ),
    "negations": frozenset(
        "no not never none nothing nobody neither nor isn't aren't wasn't weren't don't doesn't didn't "
        "won't wouldn't can't couldn't shouldn't haven't hasn't hadn't".split()
    ),
    "quantifiers": frozenset(
        "all some many much more most few less least lot lots several any each every both".split()
    ),
}


def function_word_rates(text: str) -> dict[str, float]:
    """Share of words in each function-word category."""
    toks = words(text)
    counts = Counter(toks)
    n = len(toks)
    return {cat: (sum(counts[w] for w in vocab) / n if n else 0.0) for cat, vocab in FUNCTION_WORDS.items()}


def style_matching(post: str, reply: str) -> float:
    """Language style matching (LSM): mean over categories of 1 - |p1 - p2| / (p1 + p2 + 0.0001)."""
    a, b = function_word_rates(post), function_word_rates(reply)
    return float(np.mean([1 - abs(a[c] - b[c]) / (a[c] + b[c] + 0.0001) for c in FUNCTION_WORDS]))
