"""Sentiment scorers: VADER (lexicon bundled with the PyPI package, runs offline) or a plug-in.

`FastVader` is an exact re-implementation of vaderSentiment 3.3's `polarity_scores`: the same rules,
constants and lexicons, the same scores to the last digit (tests compare both on real and invented texts),
at about half the CPU. VADER's own code re-lowercases the whole text for every sentiment word it meets
(`_negation_check`, `_special_idioms_check`: quadratic in the text's length), scans every character for
emoji, and looks negations up in a list. Here each word is lowered once, emoji are found with a set of
the lexicon's single-character keys (only those can match VADER's per-character test), and negation is a
set lookup.
"""

from __future__ import annotations

import importlib
import os
import string
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

import pyarrow as pa
from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    allcap_differential,
)

Scorer = Callable[[Sequence[str]], list[float]]
_NEGATE = frozenset(NEGATE)
_PUNCTUATION = string.punctuation


def _negated(word: str) -> bool:
    """vaderSentiment's `negated([word])` for one lower-cased word."""
    return word in _NEGATE or "n't" in word


class FastVader(SentimentIntensityAnalyzer):
    """VADER with the per-text work done once (see the module docstring); `polarity_scores` returns
    VADER's dict (`neg`, `neu`, `pos`, `compound`)."""

    def __init__(self) -> None:
        super().__init__()
        self._emoji_chars = frozenset(k for k in self.emojis if len(k) == 1)

    def _replace_emoji(self, text: str) -> str:
        if self._emoji_chars.isdisjoint(text):
            return text
        emojis = self.emojis
        out = []
        prev_space = True
        for char in text:
            if char in emojis:
                if not prev_space:
                    out.append(" ")
                out.append(emojis[char])
                prev_space = False
            else:
                out.append(char)
                prev_space = char == " "
        return "".join(out)

    def polarity_scores(self, text: str) -> dict[str, float]:
        text = self._replace_emoji(text).strip()
        words = []
        for token in text.split():  # SentiText._strip_punc_if_word
            stripped = token.strip(_PUNCTUATION)
            words.append(token if len(stripped) <= 2 else stripped)
        low = [w.lower() for w in words]
        is_cap_diff = allcap_differential(words)
        lexicon = self.lexicon
        n = len(words)
        sentiments: list[float] = []
        for i, item_low in enumerate(low):
            if item_low in BOOSTER_DICT or (i < n - 1 and item_low == "kind" and low[i + 1] == "of"):
                sentiments.append(0)
                continue
            sentiments.append(self._valence(words, low, i, is_cap_diff) if item_low in lexicon else 0)
        if "but" in low:  # VADER's _but_check, including its first-equal-value quirk (zeros never change)
            bi = low.index("but")
            for k in range(len(sentiments)):
                value = sentiments[k]
                if value == 0:
                    continue
                si = sentiments.index(value)
                if si < bi:
                    sentiments[si] = value * 0.5
                elif si > bi:
                    sentiments[si] = value * 1.5
        return self.score_valence(sentiments, text)

    def _valence(self, words: list[str], low: list[str], i: int, is_cap_diff: bool) -> float:
        """SentimentIntensityAnalyzer.sentiment_valence for a lexicon word at `i`."""
        lexicon = self.lexicon
        item_low = low[i]
        valence = lexicon[item_low]
        if item_low == "no" and i != len(words) - 1 and low[i + 1] in lexicon:
            valence = 0.0
        if (
            (i > 0 and low[i - 1] == "no")
            or (i > 1 and low[i - 2] == "no")
            or (i > 2 and low[i - 3] == "no" and low[i - 1] in ("or", "nor"))
        ):
            valence = lexicon[item_low] * N_SCALAR
        if words[i].isupper() and is_cap_diff:
            valence = valence + C_INCR if valence > 0 else valence - C_INCR
        for start_i in range(3):
            j = i - (start_i + 1)
            if i > start_i and low[j] not in lexicon:
                s = 0.0  # scalar_inc_dec
                if low[j] in BOOSTER_DICT:
                    s = BOOSTER_DICT[low[j]]
                    if valence < 0:
                        s *= -1
                    if words[j].isupper() and is_cap_diff:
                        s = s + C_INCR if valence > 0 else s - C_INCR
                if start_i == 1 and s != 0:
                    s = s * 0.95
                if start_i == 2 and s != 0:
                    s = s * 0.9
                valence = valence + s
                valence = self._negation(valence, low, start_i, i)
                if start_i == 2:
                    valence = self._idioms(valence, low, i)
        # _least_check
        if i > 1 and low[i - 1] not in lexicon and low[i - 1] == "least":
            if low[i - 2] != "at" and low[i - 2] != "very":
                valence = valence * N_SCALAR
        elif i > 0 and low[i - 1] not in lexicon and low[i - 1] == "least":
            valence = valence * N_SCALAR
        return valence

    @staticmethod
    def _negation(valence: float, low: list[str], start_i: int, i: int) -> float:
        """SentimentIntensityAnalyzer._negation_check on the lowered words."""
        if start_i == 0:
            if _negated(low[i - 1]):
                valence = valence * N_SCALAR
        if start_i == 1:
            if low[i - 2] == "never" and (low[i - 1] == "so" or low[i - 1] == "this"):
                valence = valence * 1.25
            elif low[i - 2] == "without" and low[i - 1] == "doubt":
                pass
            elif _negated(low[i - 2]):
                valence = valence * N_SCALAR
        if start_i == 2:
            if (low[i - 3] == "never" and (low[i - 2] == "so" or low[i - 2] == "this")) or (
                low[i - 1] == "so" or low[i - 1] == "this"
            ):
                valence = valence * 1.25
            elif low[i - 3] == "without" and (low[i - 2] == "doubt" or low[i - 1] == "doubt"):
                pass
            elif _negated(low[i - 3]):
                valence = valence * N_SCALAR
        return valence

    @staticmethod
    def _idioms(valence: float, low: list[str], i: int) -> float:
        """SentimentIntensityAnalyzer._special_idioms_check on the lowered words."""
        onezero = f"{low[i - 1]} {low[i]}"
        twoonezero = f"{low[i - 2]} {low[i - 1]} {low[i]}"
        twoone = f"{low[i - 2]} {low[i - 1]}"
        threetwoone = f"{low[i - 3]} {low[i - 2]} {low[i - 1]}"
        threetwo = f"{low[i - 3]} {low[i - 2]}"
        for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
            if seq in SPECIAL_CASES:
                valence = SPECIAL_CASES[seq]
                break
        if len(low) - 1 > i:
            zeroone = f"{low[i]} {low[i + 1]}"
            if zeroone in SPECIAL_CASES:
                valence = SPECIAL_CASES[zeroone]
        if len(low) - 1 > i + 1:
            zeroonetwo = f"{low[i]} {low[i + 1]} {low[i + 2]}"
            if zeroonetwo in SPECIAL_CASES:
                valence = SPECIAL_CASES[zeroonetwo]
        for n_gram in (threetwoone, threetwo, twoone):
            if n_gram in BOOSTER_DICT:
                valence = valence + BOOSTER_DICT[n_gram]
        return valence


_ANALYZER: FastVader | None = None


def _vader_batch(texts: Sequence[str]) -> list[float]:
    global _ANALYZER
    if _ANALYZER is None:
        _ANALYZER = FastVader()
    return [_ANALYZER.polarity_scores(text)["compound"] for text in texts]


def die_with_parent(parent_pid: int, poll_seconds: float = 0.5) -> None:
    """Worker initializer: exit as soon as the process that started the pool is gone (a killed build
    must not leave workers behind). Linux: the kernel signals the worker (PR_SET_PDEATHSIG); everywhere:
    a daemon thread polls the parent (needed too with the forkserver/spawn start methods, where the
    worker's parent is not the build)."""
    import ctypes
    import signal
    import sys
    import threading
    import time

    if sys.platform.startswith("linux") and os.getppid() == parent_pid:
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass

    start_ppid = os.getppid()

    def watch() -> None:
        while True:
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass
            if os.getppid() != start_ppid:  # re-parented: the process that forked this worker died
                os._exit(1)
            time.sleep(poll_seconds)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def _workers() -> int:
    return min(os.cpu_count() or 1, 4)


# Below this many texts, a pool of worker processes costs more than it saves.
POOL_MIN_TEXTS = 4000


class SentimentBatch:
    """A `dataset_builder.batches.BatchFn`: rows (key, text) -> (key, compound) with the scorer `spec` (see
    `load_scorer`; VADER's compound in -1..1); counts `texts_scored`. The one scoring function of the
    build: the embedded engine runs it in worker processes while privacy works (`map_later`), a
    distributed engine on its executors (`batches.map_batches`)."""

    def __init__(self, spec: str = "vader", key_type: pa.DataType | None = None) -> None:
        self.spec = spec
        self.schema = pa.schema([("key", key_type or pa.string()), ("compound", pa.float64())])

    def __call__(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, dict[str, int]]:
        texts = batch.column(1).to_pylist()
        scorer = _vader_batch if self.spec == "vader" else load_scorer(self.spec)
        scores = list(scorer(texts)) if texts else []
        if len(scores) != len(texts):
            raise ValueError(
                f"sentiment scorer {self.spec!r} returned {len(scores)} scores for {len(texts)} texts"
            )
        out = pa.RecordBatch.from_arrays(
            [batch.column(0), pa.array(scores, pa.float64())], schema=self.schema
        )
        return out, {"texts_scored": len(texts)}


def vader(texts: Sequence[str]) -> list[float]:
    """VADER compound scores in -1..1; large batches use one process per core (VADER is pure Python)."""
    keys = pa.array(range(len(texts)), pa.int64())
    rows = pa.table({"key": keys, "text": pa.array(texts, pa.string())})
    pending = map_later(SentimentBatch("vader", pa.int64()), [rows])
    try:
        return pending.result()[0].column("compound").to_pylist()
    finally:
        pending.close()


class PendingBatches:
    """A batch function's output tables for several input tables, computed by worker processes while the
    caller goes on.

    `result()` waits and returns one table per input (rows in the input's order); `close()` stops the
    workers (idempotent; call it in a `finally`, so a failed build leaves no process behind)."""

    def __init__(
        self,
        schema: pa.Schema,
        ready: list[list[pa.RecordBatch]] | None = None,
        pool: ProcessPoolExecutor | None = None,
        futures: list[list[Future]] | None = None,
    ) -> None:
        self._schema, self._ready, self._pool, self._futures = schema, ready, pool, futures or []

    def result(self) -> list[pa.Table]:
        if self._ready is None:
            self._ready = [[f.result()[0] for f in group] for group in self._futures]
            self.close()
        return [pa.Table.from_batches(group, schema=self._schema) for group in self._ready]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def map_later(fn: SentimentBatch, tables: Sequence[pa.Table]) -> PendingBatches:
    """Start applying `fn` to the batches of each table and return at once.

    VADER on at least `POOL_MIN_TEXTS` texts runs in one worker process per core (up to 4), in batches, so
    the caller's own work (the build's privacy step, which does not need the scores) overlaps with it. Any
    other scorer, or few texts, is scored here and now: a plug-in may hold a model that must not be forked."""
    rows = sum(t.num_rows for t in tables)
    workers = _workers()
    if fn.spec != "vader" or rows < POOL_MIN_TEXTS or workers < 2:
        return PendingBatches(fn.schema, ready=[[fn(b)[0] for b in t.to_batches()] for t in tables])
    size = -(-rows // (workers * 4))
    pool = ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),))
    try:
        futures = [[pool.submit(fn, b) for b in t.to_batches(max_chunksize=size)] for t in tables]
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    return PendingBatches(fn.schema, pool=pool, futures=futures)


def load_scorer(spec: str) -> Scorer:
    """`vader`, or `package.module:function` taking a list of texts and returning compound scores."""
    if spec == "vader":
        return vader
    module, _, name = spec.partition(":")
    if not name:
        raise ValueError(f"sentiment scorer {spec!r}: use `vader` or `package.module:function`")
    return getattr(importlib.import_module(module), name)
