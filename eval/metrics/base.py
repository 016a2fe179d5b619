"""The base class of the kit's `evaluate` metric modules: `MetricInfo` and docstrings come from `specs.SPECS`.

Each module file (`eval/metrics/<name>/<name>.py`) still stands alone for `evaluate.load(<folder>)`: it
imports this installed module and defines one class named after its folder (`win_rate` -> `WinRate`) with
only `_compute`. `KitMetric` is abstract (`_compute` is an abstract method), so evaluate's
`import_main_class`, which takes the first non-abstract `EvaluationModule` subclass of the module, picks the
metric class and never this base imported beside it.
"""

from __future__ import annotations

import abc
from typing import Any

import datasets
import evaluate
from evaluate.naming import camelcase_to_snakecase

from eval.metrics.specs import MetricSpec, metric_spec


def feature(dtype: str) -> datasets.Value | datasets.Sequence:
    """`"string"` -> `Value("string")`; `"list[float64]"` -> `Sequence(Value("float64"))` (see `specs`)."""
    if dtype.startswith("list[") and dtype.endswith("]"):
        return datasets.Sequence(datasets.Value(dtype[5:-1]))
    return datasets.Value(dtype)


def inputs_description(spec: MetricSpec) -> str:
    """evaluate's `inputs_description` (the `Args:` / `Returns:` block) of one table row."""
    args = [
        f"    {i.name} ({i.type}{', optional' if i.optional else ''}): {i.doc.replace('`', '')}"
        for i in spec.inputs
    ]
    return "\nArgs:\n" + "\n".join(args) + "\nReturns:\n    " + spec.outputs.replace("`", "") + "\n"


class KitMetric(evaluate.Metric, metaclass=abc.ABCMeta):
    """A metric whose `MetricInfo` is the `specs.SPECS` row named after the class (evaluate's own naming)."""

    @classmethod
    def spec(cls) -> MetricSpec:
        return metric_spec(camelcase_to_snakecase(cls.__name__))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spec = cls.spec()  # an unknown class name fails at import time, naming the table
        cls.__doc__ = spec.description + "\n" + inputs_description(spec)

    def _info(self) -> evaluate.MetricInfo:
        spec = self.spec()
        features = [datasets.Features({k: feature(v) for k, v in f.items()}) for f in spec.features]
        return evaluate.MetricInfo(
            description=spec.description,
            citation=spec.citation,
            inputs_description=inputs_description(spec),
            features=features[0] if len(features) == 1 else features,
            module_type="metric",
        )

    @abc.abstractmethod
    def _compute(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The metric itself, on the columns named by the spec's features and its optional inputs."""
