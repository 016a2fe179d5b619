"""Confidence intervals used across metrics and commands (one implementation, stated method)."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence

import numpy as np
from scipy import stats as scipy_stats

Z95 = 1.959963984540054


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion; `successes` may be fractional (ties counted half)."""
    if n <= 0:
        return (float("nan"), float("nan"))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def bootstrap_mean_interval(
    values: Sequence[float], n_resamples: int = 2000, seed: int = 0, confidence: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (seeded, so a rerun reproduces it)."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = rng.choice(arr, size=(n_resamples, arr.size), replace=True).mean(axis=1)
    alpha = (1 - confidence) / 2
    return (float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha)))


def bootstrap_over_clusters(
    values: Sequence[float],
    clusters: Sequence[Hashable],
    statistic: Callable[[np.ndarray], float] = np.mean,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile cluster bootstrap interval of `statistic` over rows grouped by `clusters`.

    Each resample draws as many clusters as there are, with replacement, and keeps *all* rows of every
    drawn cluster, so rows of one cluster (e.g. several raters of one post, or several comments of one
    thread) are never treated as independent. With one row per cluster it reduces to the ordinary row
    bootstrap. Method: the cluster (block) bootstrap of Davison & Hinkley (1997), *Bootstrap Methods and
    their Application*, sec. 3.8; Field & Welsh (2007), "Bootstrapping clustered data", JRSS-B 69(3).

    Args:
        values: one number per row (shape (n_rows,)); NaN rows are kept and reach `statistic` as is.
        clusters: one hashable cluster id per row (same length as `values`).
        statistic: maps a 1-d array of the drawn rows to a number (default: the mean).
        n_resamples: bootstrap resamples; confidence: two-sided level; seed: numpy RNG seed (reproducible).

    Returns:
        `(low, high)`; `(nan, nan)` when there are no rows.

    Raises:
        ValueError: when `values` and `clusters` differ in length.
    """
    arr = np.asarray(values, dtype=float)
    if len(clusters) != arr.size:
        raise ValueError(
            f"bootstrap_over_clusters: {arr.size} values but {len(clusters)} cluster ids (need one per value)"
        )
    if arr.size == 0:
        return (float("nan"), float("nan"))
    groups: dict[Hashable, list[int]] = {}
    for i, c in enumerate(clusters):
        groups.setdefault(c, []).append(i)
    blocks = [arr[idx] for idx in groups.values()]
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(blocks), size=(n_resamples, len(blocks)))
    if statistic is np.mean and not np.isnan(arr).any():
        # Same result as the general path, vectorised: a resample's mean is sum(drawn sums) / sum(drawn sizes).
        sums = np.array([b.sum() for b in blocks])
        sizes = np.array([b.size for b in blocks], dtype=float)
        stats = sums[draws].sum(axis=1) / sizes[draws].sum(axis=1)
    else:
        stats = np.array([statistic(np.concatenate([blocks[j] for j in row])) for row in draws], dtype=float)
    alpha = (1 - confidence) / 2
    return (float(np.nanquantile(stats, alpha)), float(np.nanquantile(stats, 1 - alpha)))


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> dict[str, float]:
    """Mean with a Student-t interval (ratings are bounded and roughly symmetric; t is the usual choice)."""
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    n = int(arr.size)
    if n == 0:
        return {"mean": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "n": 0}
    mean = float(arr.mean())
    if n == 1:
        return {"mean": mean, "ci_low": float("nan"), "ci_high": float("nan"), "n": 1}
    sem = float(arr.std(ddof=1)) / math.sqrt(n)
    half = float(scipy_stats.t.ppf((1 + confidence) / 2, n - 1)) * sem
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half, "n": n}


def win_rate_summary(
    verdicts: Sequence[str],
    method: str = "wilson",
    seed: int = 0,
    clusters: Sequence[Hashable] | None = None,
) -> dict[str, float | int | str]:
    """Wins/losses/ties of system a over b, with the win rate two ways and a 95% CI for each.

    `win_rate` counts a tie as half a win (n = all verdicts); `win_rate_excluding_ties` is wins / (wins +
    losses). Ties are always reported separately (`ties`, `tie_rate`).
    `method="wilson"`: Wilson score interval (verdicts independent: one per item).
    `method="bootstrap"`: percentile bootstrap of per-verdict scores 1 / 0.5 / 0; with `clusters` (one id per
    verdict, e.g. the post or item several raters judged) it resamples clusters (`bootstrap_over_clusters`),
    so repeated judgements of one item are not counted as independent evidence.

    Raises:
        ValueError: on verdicts other than 'a', 'b', 'tie', an unknown method, or clusters with Wilson.
    """
    bad = sorted({v for v in verdicts if v not in ("a", "b", "tie")})
    if bad:
        raise ValueError(f"win_rate: verdicts must be 'a', 'b' or 'tie'; got {bad[:5]}")
    if method not in ("wilson", "bootstrap"):
        raise ValueError(f"win_rate: unknown CI method {method!r} (use 'wilson' or 'bootstrap')")
    if clusters is not None and method != "bootstrap":
        raise ValueError("win_rate: clustered verdicts need method='bootstrap' (Wilson assumes independence)")
    wins = sum(v == "a" for v in verdicts)
    losses = sum(v == "b" for v in verdicts)
    ties = sum(v == "tie" for v in verdicts)
    n = wins + losses + ties
    decided = wins + losses
    rate = (wins + 0.5 * ties) / n if n else float("nan")
    rate_ex = wins / decided if decided else float("nan")
    if method == "wilson":
        low, high = wilson_interval(wins + 0.5 * ties, n)
        low_ex, high_ex = wilson_interval(wins, decided)
        label = "wilson 95%"
    else:
        scores = [1.0 if v == "a" else 0.5 if v == "tie" else 0.0 for v in verdicts]
        ids = list(clusters) if clusters is not None else list(range(n))
        if len(ids) != n:
            raise ValueError(f"win_rate: {n} verdicts but {len(ids)} cluster ids")
        low, high = bootstrap_over_clusters(scores, ids, seed=seed)
        keep = [i for i, v in enumerate(verdicts) if v != "tie"]
        low_ex, high_ex = bootstrap_over_clusters(
            [scores[i] for i in keep], [ids[i] for i in keep], seed=seed
        )
        n_clusters = len(set(ids))
        label = (
            f"bootstrap 95% over {n_clusters} clusters (items)" if clusters is not None else "bootstrap 95%"
        )
    return {
        "wins": wins,
        "losses": losses,
        "ties": ties,
        "n": n,
        "tie_rate": ties / n if n else float("nan"),
        "win_rate": rate,
        "ci_low": low,
        "ci_high": high,
        "win_rate_excluding_ties": rate_ex,
        "ci_low_excluding_ties": low_ex,
        "ci_high_excluding_ties": high_ex,
        "ci_method": label,
    }
