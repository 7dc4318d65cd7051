"""Integration diagnostics: inequality, convergence, division of labour, linkage networks,
polycentricity and spatial autocorrelation.

Conventions shared by the modules: pure functions on numpy arrays or pandas objects (no I/O, no
printing); each docstring states the formula, its source and the variant chosen; bad input (a
group with one member, all-equal values, non-positive values where logs are taken, isolated
units in spatial weights) raises :class:`~cocity.metrics.errors.MetricInputError` with a
bilingual message, or has a documented result — never a silent NaN.
"""
