"""Inter-rater agreement: percent agreement, Cohen's kappa, Fleiss' kappa, Krippendorff's alpha.

Input is a list of items, each a list of one label per rater (the same raters, in the same order, for every
item; `None` where a rater did not rate the item). Implemented here (no heavy dependency at compute time);
the tests check every number against scikit-learn, statsmodels and the `krippendorff` package.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from itertools import combinations
from typing import Any

import numpy as np

LEVELS = ("nominal", "ordinal")


def _check(items: Sequence[Sequence[Any]], level: str) -> int:
    if level not in LEVELS:
        raise ValueError(f"agreement: level must be one of {LEVELS}, got {level!r}")
    if not items:
        raise ValueError("agreement: no items")
    widths = {len(row) for row in items}
    if len(widths) != 1:
        bad = [f"item {i}: {len(row)} ratings" for i, row in enumerate(items) if len(row) != len(items[0])]
        raise ValueError(
            f"agreement: every item needs one slot per rater ({len(items[0])}); offending: {bad[:10]}"
        )
    n_raters = widths.pop()
    if n_raters < 2:
        raise ValueError("agreement: at least two raters are needed")
    if level == "ordinal":
        bad = [
            f"item {i}: {v!r}"
            for i, row in enumerate(items)
            for v in row
            if v is not None and not isinstance(v, int | float)
        ]
        if bad:
            raise ValueError(f"agreement: ordinal level needs numeric labels; offending: {bad[:10]}")
    return n_raters


def percent_agreement(items: Sequence[Sequence[Hashable | None]]) -> float:
    """Mean over items (with >= 2 ratings) of the share of agreeing rater pairs; for two raters this is the
    share of items on which both gave the same label."""
    shares = []
    for row in items:
        vals = [v for v in row if v is not None]
        if len(vals) < 2:
            continue
        pairs = list(combinations(vals, 2))
        shares.append(sum(a == b for a, b in pairs) / len(pairs))
    return float(np.mean(shares)) if shares else float("nan")


def cohen_kappa(items: Sequence[Sequence[Hashable | None]], weights: str | None = None) -> float:
    """Cohen's kappa for exactly two raters over items both rated; `weights` None, 'linear' or 'quadratic'
    (weighted kappa needs numeric labels)."""
    pairs = [(row[0], row[1]) for row in items if row[0] is not None and row[1] is not None]
    if not pairs:
        return float("nan")
    labels = sorted({v for pair in pairs for v in pair}, key=_sort_key)
    index = {v: i for i, v in enumerate(labels)}
    k = len(labels)
    confusion = np.zeros((k, k))
    for a, b in pairs:
        confusion[index[a], index[b]] += 1
    if weights is None:
        w = 1 - np.eye(k)
    else:
        values = np.asarray(labels, dtype=float)
        diff = np.abs(values[:, None] - values[None, :])
        w = diff if weights == "linear" else diff**2
    expected = np.outer(confusion.sum(1), confusion.sum(0)) / confusion.sum()
    denom = (w * expected).sum()
    if denom == 0:
        return float("nan")
    return float(1 - (w * confusion).sum() / denom)


def fleiss_kappa(items: Sequence[Sequence[Hashable | None]]) -> tuple[float, int]:
    """Fleiss' kappa over items rated by every rater; returns (kappa, number of items used)."""
    complete = [row for row in items if all(v is not None for v in row)]
    if not complete:
        return float("nan"), 0
    labels = sorted({v for row in complete for v in row}, key=_sort_key)
    index = {v: i for i, v in enumerate(labels)}
    counts = np.zeros((len(complete), len(labels)))
    for i, row in enumerate(complete):
        for v in row:
            counts[i, index[v]] += 1
    n = counts.sum(1)[0]
    p_j = counts.sum(0) / counts.sum()
    p_i = ((counts**2).sum(1) - n) / (n * (n - 1))
    p_bar, p_e = p_i.mean(), (p_j**2).sum()
    if p_e == 1:
        return float("nan"), len(complete)
    return float((p_bar - p_e) / (1 - p_e)), len(complete)


def krippendorff_alpha(items: Sequence[Sequence[Hashable | None]], level: str = "nominal") -> float:
    """Krippendorff's alpha from the coincidence matrix; missing ratings allowed; nominal or ordinal."""
    units = [[v for v in row if v is not None] for row in items]
    units = [u for u in units if len(u) >= 2]
    if not units:
        return float("nan")
    labels = sorted({v for u in units for v in u}, key=_sort_key)
    index = {v: i for i, v in enumerate(labels)}
    k = len(labels)
    coincidence = np.zeros((k, k))
    for u in units:
        m = len(u)
        c = Counter(index[v] for v in u)
        for a, na in c.items():
            for b, nb in c.items():
                pairs = na * (nb - 1) if a == b else na * nb
                coincidence[a, b] += pairs / (m - 1)
    n_c = coincidence.sum(1)
    n = n_c.sum()
    if level == "nominal":
        delta = 1 - np.eye(k)
    else:
        cum = np.cumsum(n_c)
        delta = np.zeros((k, k))
        for c in range(k):
            for d in range(k):
                lo, hi = min(c, d), max(c, d)
                between = cum[hi] - (cum[lo - 1] if lo > 0 else 0)
                delta[c, d] = (between - (n_c[c] + n_c[d]) / 2) ** 2
    d_o = (coincidence * delta).sum() / n
    d_e = (np.outer(n_c, n_c) * delta).sum() / (n * (n - 1))
    if d_e == 0:
        return float("nan")
    return float(1 - d_o / d_e)


def agreement_summary(items: Sequence[Sequence[Hashable | None]], level: str = "nominal") -> dict[str, Any]:
    """All agreement statistics at once, as the `agreement` metric and `human ingest` report them."""
    n_raters = _check(items, level)
    fleiss, n_complete = fleiss_kappa(items)
    out: dict[str, Any] = {
        "percent_agreement": percent_agreement(items),
        "cohen_kappa": None,
        "fleiss_kappa": fleiss,
        "krippendorff_alpha": krippendorff_alpha(items, level),
        "n_items": len(items),
        "n_items_complete": n_complete,
        "n_raters": n_raters,
        "level": level,
    }
    if n_raters == 2:
        # Ordinal scales: quadratic-weighted kappa (the usual choice for 1-5 ratings); nominal: unweighted.
        out["cohen_kappa"] = cohen_kappa(items, weights="quadratic" if level == "ordinal" else None)
        out["cohen_kappa_weights"] = "quadratic" if level == "ordinal" else "none"
    return out


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, int | float) else (1, str(v))
