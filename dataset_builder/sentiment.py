"""Sentiment scorers: VADER (lexicon bundled with the PyPI package, runs offline) or a plug-in.

VADER re-lowercases the whole text for every sentiment word it meets (in `_negation_check` and
`_special_idioms_check`), which makes a text's cost quadratic in its length; on real OP replies that
was over half of its time. `FastVader` computes the lowered words once per text and otherwise runs
VADER's own code, with the same rules and results (a test compares both on real and crafted texts).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

from vaderSentiment.vaderSentiment import N_SCALAR, SPECIAL_CASES, SentimentIntensityAnalyzer, negated

Scorer = Callable[[Sequence[str]], list[float]]


class FastVader(SentimentIntensityAnalyzer):
    """VADER whose negation and idiom checks read a per-text cache of the lowered words."""

    _cache_key: object = None
    _cache: list[str] = []

    def _lowered(self, words: list[str]) -> list[str]:
        if self._cache_key is not words:
            self._cache_key, self._cache = words, [str(w).lower() for w in words]
        return self._cache

    def _negation_check(self, valence: float, words: list[str], start_i: int, i: int) -> float:
        low = self._lowered(words)
        if start_i == 0:
            if negated([low[i - 1]]):
                valence = valence * N_SCALAR
        if start_i == 1:
            if low[i - 2] == "never" and (low[i - 1] == "so" or low[i - 1] == "this"):
                valence = valence * 1.25
            elif low[i - 2] == "without" and low[i - 1] == "doubt":
                pass
            elif negated([low[i - 2]]):
                valence = valence * N_SCALAR
        if start_i == 2:
            if (low[i - 3] == "never" and (low[i - 2] == "so" or low[i - 2] == "this")) or (
                low[i - 1] == "so" or low[i - 1] == "this"
            ):
                valence = valence * 1.25
            elif low[i - 3] == "without" and (low[i - 2] == "doubt" or low[i - 1] == "doubt"):
                pass
            elif negated([low[i - 3]]):
                valence = valence * N_SCALAR
        return valence

    def _special_idioms_check(self, valence: float, words: list[str], i: int) -> float:
        from vaderSentiment.vaderSentiment import BOOSTER_DICT

        low = self._lowered(words)
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


def vader(texts: Sequence[str]) -> list[float]:
    """VADER compound scores in -1..1; large batches use one process per core (VADER is pure Python)."""
    workers = min(os.cpu_count() or 1, 4)
    if len(texts) < 4000 or workers < 2:
        return _vader_batch(texts)
    size = -(-len(texts) // (workers * 4))
    batches = [texts[i : i + size] for i in range(0, len(texts), size)]
    with ProcessPoolExecutor(
        max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),)
    ) as pool:
        return [score for batch in pool.map(_vader_batch, batches) for score in batch]


def load_scorer(spec: str) -> Scorer:
    """`vader`, or `package.module:function` taking a list of texts and returning compound scores."""
    if spec == "vader":
        return vader
    module, _, name = spec.partition(":")
    if not name:
        raise ValueError(f"sentiment scorer {spec!r}: use `vader` or `package.module:function`")
    return getattr(importlib.import_module(module), name)
