"""Every label file is well formed: each key maps to exactly a Chinese and an English text.
(A comma in an unquoted YAML flow mapping silently cut an English label in two — e.g.
"Dimension profile (fairness" — so this is checked, not assumed.)"""

from __future__ import annotations

from importlib import resources

import yaml


def test_every_label_has_exactly_a_chinese_and_an_english_text() -> None:
    bad = []
    files = [f for f in resources.files("cocity.i18n").iterdir() if f.name.endswith(".yaml")]
    assert len(files) > 10
    for entry in files:
        data = yaml.safe_load(entry.read_text(encoding="utf-8"))
        for key, value in data.items():
            if not (isinstance(value, dict) and set(value) == {"zh", "en"}
                    and all(isinstance(v, str) and v.strip() for v in value.values())):
                bad.append(f"{entry.name}: {key} = {value!r}")
    assert not bad, "\n".join(bad)
