"""The Python blocks of the docs run as they stand (one namespace per document)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("doc", ["index-engine.md", "evaluation.md"])
def test_doc_examples_run(doc: str) -> None:
    text = (DOCS / doc).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, f"{doc}", "exec"), namespace)
