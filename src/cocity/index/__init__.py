"""Composite-indicator engine: framework tree, replayable pipeline, methods, uncertainty.

Method conventions (array shapes, directions, the registry) are in :mod:`cocity.index.registry`.
"""
