"""Local `evaluate` metric modules; each folder loads offline with `evaluate.load(<folder path>)`.

The modules share `base.KitMetric` and one specification table (`specs.SPECS`); their module cards
(`<name>/README.md`) are generated from that table by `python -m eval.metrics.cards`."""

from __future__ import annotations

from pathlib import Path

from eval.metrics.specs import SPECS

METRICS_DIR = Path(__file__).resolve().parent
NAMES = tuple(SPECS)  # one row per module in the specification table (eval/metrics/specs.py)


def metric_path(name: str) -> str:
    """Absolute folder of a metric module, so `evaluate.load(metric_path("win_rate"))` works from any cwd."""
    if name not in NAMES:
        raise ValueError(f"unknown metric {name!r}; available: {', '.join(NAMES)}")
    return str(METRICS_DIR / name)


def load_metric(name: str):  # noqa: ANN201 - evaluate.EvaluationModule
    """`evaluate.load` of a kit metric by name, offline."""
    import evaluate

    return evaluate.load(metric_path(name))
