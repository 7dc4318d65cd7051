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


def test_the_program_leaves_its_objects_out_of_the_shutdown_collections() -> None:
    # main() freezes the objects once the command is done, so that the interpreter's exit
    # does not trace them all again (half a second after `cocity evaluate`)
    probe = ("import gc, sys\nsys.argv = ['cocity', '--help']\nfrom cocity.cli import main\n"
             "before = gc.get_freeze_count()\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
             "print(before, gc.get_freeze_count())")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env={"COLUMNS": "100"})
    before, after = map(int, out.stdout.split()[-2:])
    assert before == 0 and after > 0
