"""Start-up of the command line: help and light commands do not load the numerical stacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("numpy", "pandas", "duckdb", "geopandas", "shapely", "numba", "plotly", "weasyprint",
         "scipy", "pyarrow", "openpyxl", "SALib", "statsmodels", "networkx", "osmium")

PROBE = """
import json, sys
sys.argv = ["cocity", *json.loads(sys.argv[1])]
from cocity.cli import main
try:
    main()
except SystemExit:
    pass
print("\\n@@" + json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def loaded(*argv: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(argv))],
                         capture_output=True, text=True, check=True, env={"COLUMNS": "100"})
    return set(json.loads(out.stdout.rsplit("\n@@", 1)[1]))


@pytest.mark.parametrize("argv", [["--help"], ["evaluate", "--help"], ["access", "--help"],
                                  ["index", "build", "--help"], ["import", "--help"],
                                  ["diagnose", "--help"], ["profile", "--help"]])
def test_help_loads_no_numerical_stack(argv: list[str]) -> None:
    heavy = loaded(*argv) & set(HEAVY)
    assert heavy == set(), f"cocity {' '.join(argv)} imported {sorted(heavy)}"
