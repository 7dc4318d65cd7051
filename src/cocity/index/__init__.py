"""Composite-indicator engine: framework tree, replayable pipeline, methods, uncertainty.

>>> from cocity.index import Framework, Pipeline           # doctest: +SKIP
>>> pipe = Pipeline(panel, Framework.from_yaml("fw.yaml"))  # doctest: +SKIP
>>> pipe.impute("median").normalise("minmax").aggregate()  # doctest: +SKIP

Method conventions (array shapes, directions, the registry) are in :mod:`cocity.index.registry`;
a walk-through with runnable examples is ``docs/index-engine.md``.
"""

from cocity.index.errors import ConsistencyError, FrameworkError, MethodInputError
from cocity.index.framework import Framework
from cocity.index.pipeline import Pipeline
from cocity.index.registry import available
from cocity.index.uncertainty import UncertaintySpec, run_uncertainty

__all__ = [
    "ConsistencyError", "Framework", "FrameworkError", "MethodInputError", "Pipeline",
    "UncertaintySpec", "available", "run_uncertainty",
]
