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
    curves: dict[str, tuple[Sequence[float], Sequence[float]]],
    aps: dict[str, float],
    no_skill: float,
    path: Path,
    threshold_point: tuple[float, float] | None = None,
) -> Path:
    """Precision-recall curves of the positive class, `{name: (precision, recall)}`, with a horizontal no-skill
    line at the positive rate (the precision of any random classifier) and the model's operating point."""
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    for name, (precision, recall) in curves.items():
        ax.plot(recall, precision, label=f"{name} (AP = {aps.get(name, float('nan')):.3f})")
    ax.axhline(no_skill, color="grey", linestyle="--", linewidth=1, label=f"no skill ({no_skill:.3f})")
    if threshold_point is not None:
        ax.scatter([threshold_point[0]], [threshold_point[1]], color="red", zorder=3, label="threshold")
    ax.set_xlabel("recall (effective)")
    ax.set_ylabel("precision (effective)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left", fontsize="small")
    ax.set_title("precision-recall")
    return _save(fig, path)


def roc_curve_png(
    curves: dict[str, tuple[Sequence[float], Sequence[float]]], aucs: dict[str, float], path: Path
) -> Path:
    """ROC curves `{name: (false positive rate, true positive rate)}` with the chance diagonal."""
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    for name, (fpr, tpr) in curves.items():
        ax.plot(fpr, tpr, label=f"{name} (AUC = {aucs.get(name, float('nan')):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="chance (0.5)")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate (effective)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title("ROC")
    return _save(fig, path)


def win_rate_png(rows: Sequence[dict], path: Path) -> Path:
    """Horizontal bars of win rates with their 95% CIs; rows need label, win_rate, ci_low, ci_high, and may
    carry valid=False (an invalid judge: drawn in light grey, hatched, with "(invalid)" in its label)."""
    fig, ax = plt.subplots(figsize=(6, 0.6 * len(rows) + 1))
    y = np.arange(len(rows))
    rates = np.array([r["win_rate"] for r in rows])
    err = np.array(
        [[r["win_rate"] - r["ci_low"] for r in rows], [r["ci_high"] - r["win_rate"] for r in rows]]
    )
    valid = [r.get("valid", True) for r in rows]
    bars = ax.barh(y, rates, xerr=err, color=["#4a7fb5" if v else "#d0d0d0" for v in valid], capsize=4)
    for bar, v in zip(bars, valid, strict=True):
        if not v:
            bar.set_hatch("//")
    ax.axvline(0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(y, [r["label"] + ("" if v else " (invalid)") for r, v in zip(rows, valid, strict=True)])
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
    """Training curves, one axis per run (losses of different objectives, e.g. ~7 for SFT and ~0.5 for a
    classifier, never share a y axis); each logged series (loss, eval_loss, ...) against the step."""
    runs = [r for r, series in curves.items() if any(series.values())] or list(curves)
    fig, axes = plt.subplots(len(runs), 1, figsize=(6, 2.4 * len(runs)), squeeze=False)
    for ax, run in zip(axes[:, 0], runs, strict=True):
        for name, points in curves[run].items():
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="." if len(points) < 30 else None, label=name)
        ax.set_title(run, fontsize="small")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="x-small")
    fig.tight_layout()
    return _save(fig, path)
