"""Independent random streams for the diagnostics, all from one seed.

**Scheme**: ``root = numpy.random.SeedSequence(seed)``; ``root.spawn(len(SECTIONS))`` gives
one child per section, in the fixed order of :data:`SECTIONS` (so a section's stream does not
depend on which other sections run); a section spawns one grandchild per random computation,
in its documented task order, and each computation draws from
``numpy.random.default_rng(grandchild)``. Grandchild ``j`` of section ``i`` is the sequence
with ``spawn_key == (i, j)``: results are reproducible for a seed and no two computations
share a stream (``SeedSequence`` children are designed to be statistically independent —
O'Neill's PCG seeding scheme as implemented by NumPy).
"""

from __future__ import annotations

import numpy as np

SECTIONS = ("inequality", "convergence", "structure", "network", "polycentricity", "spatial",
            "people_circle")


class Streams:
    """The random streams of one run, spawned from ``seed``."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        children = np.random.SeedSequence(self.seed).spawn(len(SECTIONS))
        self._sections = dict(zip(SECTIONS, children, strict=True))

    def generators(self, section: str, n: int) -> list[np.random.Generator]:
        """``n`` independent generators for ``section`` (call once per section and run)."""
        return [np.random.default_rng(s) for s in self._sections[section].spawn(n)]


def stream(seed: int, section: str, index: int) -> np.random.Generator:
    """The generator of computation ``index`` of ``section`` (the one :class:`Streams`
    hands out), rebuilt from its spawn key — for checking a result independently."""
    return np.random.default_rng(np.random.SeedSequence(
        int(seed), spawn_key=(SECTIONS.index(section), index)))
