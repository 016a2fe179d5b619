"""Matplotlib figures for eval outputs (Agg backend, written atomically as PNG)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from eval.io import atomic_path  # noqa: E402


def _save(fig: plt.Figure, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def confusion_matrix_png(
    matrix: Sequence[Sequence[int]], labels: Sequence[str], path: Path, title: str = ""
) -> Path:
    """Counts with row-normalised shading (rows = true labels)."""
    m = np.asarray(matrix, dtype=float)
    norm = m / np.clip(m.sum(1, keepdims=True), 1, None)
    fig, ax = plt.subplots(figsize=(4, 3.5))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(
                j,
                i,
                f"{int(m[i, j])}",
                ha="center",
                va="center",
                color="white" if norm[i, j] > 0.5 else "black",
            )
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or "confusion matrix")
    return _save(fig, path)


def pr_curve_png(
    precision: Sequence[float],
    recall: Sequence[float],
    path: Path,
    ap: float,
    threshold_point: tuple[float, float] | None,
) -> Path:
    """Precision-recall curve of the positive class, with the operating point at the chosen threshold."""
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    ax.plot(recall, precision, label=f"AP = {ap:.3f}")
    if threshold_point is not None:
        ax.scatter([threshold_point[0]], [threshold_point[1]], color="red", zorder=3, label="threshold")
    ax.set_xlabel("recall (effective)")
    ax.set_ylabel("precision (effective)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left")
    ax.set_title("precision-recall")
    return _save(fig, path)


def win_rate_png(rows: Sequence[dict], path: Path) -> Path:
    """Horizontal bars of win rates with their 95% CIs; rows need label, win_rate, ci_low, ci_high."""
    fig, ax = plt.subplots(figsize=(6, 0.6 * len(rows) + 1))
    y = np.arange(len(rows))
    rates = np.array([r["win_rate"] for r in rows])
    err = np.array(
        [[r["win_rate"] - r["ci_low"] for r in rows], [r["ci_high"] - r["win_rate"] for r in rows]]
    )
    ax.barh(y, rates, xerr=err, color="#4a7fb5", capsize=4)
    ax.axvline(0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(y, [r["label"] for r in rows])
    ax.set_xlim(0, 1)
    ax.set_xlabel("win rate (ties = 1/2), 95% CI")
    return _save(fig, path)


def profile_png(
    profile: dict[str, dict[str, float]],
    dims: Sequence[str],
    path: Path,
    ylabel: str,
    ylim: tuple[float, float],
) -> Path:
    """Grouped bars: one group per dimension, one bar per system."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    systems = list(profile)
    width = 0.8 / max(1, len(systems))
    x = np.arange(len(dims))
    for k, s in enumerate(systems):
        ax.bar(x + k * width - 0.4 + width / 2, [profile[s].get(d, np.nan) for d in dims], width, label=s)
    ax.set_xticks(x, dims)
    ax.set_ylim(*ylim)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return _save(fig, path)


def curves_png(curves: dict[str, dict[str, list[tuple[float, float]]]], path: Path) -> Path:
    """Training curves: for each run, each logged series (loss, eval_loss, ...) against the step."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for run, series in curves.items():
        for name, points in series.items():
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="." if len(points) < 30 else None, label=f"{run}: {name}")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(fontsize="x-small")
    return _save(fig, path)
