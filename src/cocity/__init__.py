"""cocity — measure, evaluate, plan and fund the integration of city clusters.

The embedded default dataset is the Chengdu–Chongqing Twin-City Economic Circle
(成渝地区双城经济圈). Start with :func:`cocity.datasets.open_store`.
"""

__version__ = "0.1.0"
