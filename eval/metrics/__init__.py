"""Local `evaluate` metric modules; each folder loads offline with `evaluate.load(<folder path>)`."""

from __future__ import annotations

from pathlib import Path

METRICS_DIR = Path(__file__).resolve().parent
NAMES = (
    "support_classification",
    "win_rate",
    "agreement",
    "readability",
    "diversity",
    "style_matching",
    "semantic_similarity",
)


def metric_path(name: str) -> str:
    """Absolute folder of a metric module, so `evaluate.load(metric_path("win_rate"))` works from any cwd."""
    if name not in NAMES:
        raise ValueError(f"unknown metric {name!r}; available: {', '.join(NAMES)}")
    return str(METRICS_DIR / name)


def load_metric(name: str):  # noqa: ANN201 - evaluate.EvaluationModule
    """`evaluate.load` of a kit metric by name, offline."""
    import evaluate

    return evaluate.load(metric_path(name))
