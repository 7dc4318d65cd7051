"""Accessibility engine: travel networks, a bounded shortest-path kernel, catchment measures,
15-minute life circles (GB 50180-2018) and 1-hour commuting circles.

Shared conventions: a network is a directed graph in CSR form (``indptr``, ``indices``, travel
time in minutes as ``weights``); an origin–destination result is a ``scipy.sparse.csr_matrix``
(origins × destinations) whose stored entries are the reachable pairs within the cutoff (a stored
0 means "here", an absent entry means "not reachable"); pure functions on arrays, no I/O except
in the loaders and the CLI.
"""
